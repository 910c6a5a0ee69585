"""Public pages: the post listing, single posts and pages, and tag listings."""

from __future__ import annotations

from quart import Blueprint, abort, current_app, redirect, render_template, request

from shared.infrastructure.db import get_session
from shared.infrastructure.pagination import page_number

from blog.services import latest_posts, published_by_slug, tag_by_slug

bp = Blueprint("pages", __name__)


def _per_page() -> int:
    return current_app.extensions["settings"].posts_per_page


@bp.get("/")
async def index():
    page = await latest_posts(get_session(), page_number(request.args), _per_page())
    if page.beyond_last:
        return redirect(f"/?page={page.pages}")
    return await render_template("blog/index.html", page=page)


@bp.get("/tag/<slug>/")
async def tag(slug: str):
    session = get_session()
    found = await tag_by_slug(session, slug)
    if found is None:
        abort(404)
    page = await latest_posts(session, page_number(request.args), _per_page(), tag=found)
    if page.beyond_last:
        return redirect(f"/tag/{slug}/?page={page.pages}")
    return await render_template("blog/tag.html", tag=found, page=page)


@bp.get("/<slug>/")
async def post(slug: str):
    found = await published_by_slug(get_session(), slug)
    if found is None:
        abort(404)
    return await render_template("blog/post.html", post=found)

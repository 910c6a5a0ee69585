"""Public pages: the post listing, single posts and pages, and tag listings."""

from __future__ import annotations

from markupsafe import Markup
from quart import Blueprint, abort, current_app, redirect, render_template, request

from shared.infrastructure.db import get_session
from shared.infrastructure.page_cache import content_version_key
from shared.infrastructure.pagination import page_number

from blog.services import latest_posts, published_by_slug, tag_by_slug

bp = Blueprint("pages", __name__)


def _per_page() -> int:
    return current_app.extensions["settings"].posts_per_page


# Each app keeps the rendered post listing per (content version, page number, page size). The
# version lives in Redis and moves on whenever posts change, so every process drops its old copies.
LISTINGS_KEPT = 64


async def _listing(number: int) -> tuple[int, Markup]:
    """Return the number of pages and the rendered listing for page ``number``."""
    version = await current_app.extensions["redis"].get(content_version_key("blog")) or b"0"
    key = (version, number, _per_page())
    listings = current_app.extensions.setdefault("blog_listings", {})
    cached = listings.get(key)
    if cached is None:
        page = await latest_posts(get_session(), number, _per_page())
        html = Markup(await render_template("blog/_post_list.html", page=page)) if not page.beyond_last else Markup()
        cached = (page.pages, html)
        if len(listings) >= LISTINGS_KEPT:
            listings.clear()
        listings[key] = cached
    return cached


@bp.get("/")
async def index():
    number = page_number(request.args)
    pages, listing = await _listing(number)
    if number > pages:
        return redirect(f"/?page={pages}")
    return await render_template("blog/index.html", number=number, pages=pages, listing=listing)


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

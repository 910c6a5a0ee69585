"""The blog's posts as ActivityPub Articles at ``/posts/<id>``; browsers are sent to the post's page."""

from __future__ import annotations

from quart import Blueprint, abort, current_app, redirect
from sqlalchemy import select

from blog.services.publishing import post_object_uri
from shared.infrastructure.activitypub.vocab import AS_CONTEXT
from shared.infrastructure.activitypub.web import activity_response, wants_activity_json
from shared.infrastructure.db import get_session
from shared.models import APObject, Post

bp = Blueprint("blog_activitypub", __name__)


@bp.get("/posts/<int:post_id>")
async def post_object(post_id: int):
    settings = current_app.extensions["settings"]
    uri = f"{settings.app('blog').public_url}/posts/{post_id}"
    stored = await get_session().scalar(select(APObject).where(APObject.uri == uri, APObject.is_local.is_(True)))
    if not wants_activity_json():
        post = await get_session().get(Post, post_id)
        if post is None or post.status != "published" or post_object_uri(settings, post) != uri:
            abort(404)
        response = redirect(f"/{post.slug}/")
        response.vary.add("Accept")
        return response
    if stored is None:
        abort(404)
    status = 410 if stored.deleted_at is not None else 200
    return activity_response({"@context": AS_CONTEXT, **stored.payload}, status=status)

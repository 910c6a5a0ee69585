"""Publishing, editing and deleting posts, announced to the blog actor's followers.

Each function changes the post and emits the matching activity in the
caller's transaction: Create(Article) on first publication, Update on an
edit of a published post, Delete with a Tombstone when a published post goes.
Each also marks the blog's cached pages as changed: a caller outside a
request calls ``refresh_changed_pages`` after its commit.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.infrastructure.activitypub.actors import LocalActor, app_actor
from shared.infrastructure.activitypub.emit import emit_activity, public_addressing
from shared.infrastructure.config import Settings
from shared.infrastructure.page_cache import pages_changed
from shared.models import APObject, Post

EDITABLE_FIELDS = ("title", "html", "excerpt", "slug", "feature_image")


def post_object_uri(settings: Settings, post: Post) -> str:
    """The Article's id: it names the post by number, so it survives a change of slug."""
    return f"{settings.app('blog').public_url}/posts/{post.id}"


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None


def article(settings: Settings, actor: LocalActor, post: Post) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": post_object_uri(settings, post),
        "type": "Article",
        "attributedTo": actor.uri,
        "name": post.title,
        "content": post.html,
        "summary": post.excerpt or None,
        "url": f"{settings.app('blog').public_url}/{post.slug}/",
        "published": _iso(post.published_at),
        "updated": _iso(post.updated_at),
        **public_addressing(actor),
    }
    if post.feature_image:
        document["image"] = {"type": "Image", "url": post.feature_image}
    return {key: value for key, value in document.items() if value is not None}


async def _stored_object(session: AsyncSession, uri: str) -> APObject | None:
    return await session.scalar(select(APObject).where(APObject.uri == uri))


async def publish_post(session: AsyncSession, settings: Settings, post: Post, now: datetime | None = None) -> None:
    """Publish a post and emit Create(Article); publishing it again emits Update instead."""
    now = now or datetime.now(timezone.utc)
    pages_changed(session, "blog")
    post.status = "published"
    post.published_at = post.published_at or now
    post.updated_at = now
    await session.flush()
    actor = await app_actor(session, settings, "blog")
    document = article(settings, actor, post)
    stored = await _stored_object(session, document["id"])
    if stored is None or stored.deleted_at is not None:
        if stored is None:
            session.add(APObject(
                uri=document["id"], object_type="Article", actor_id=actor.id, attributed_to=actor.uri,
                payload=document, is_local=True,
            ))
        else:
            stored.payload, stored.deleted_at = document, None
        await emit_activity(session, actor, "Create", document, **public_addressing(actor))
    else:
        stored.payload = document
        await emit_activity(session, actor, "Update", document, **public_addressing(actor))


async def edit_post(session: AsyncSession, settings: Settings, post: Post, **changes: Any) -> None:
    """Change a post's fields; a published post's followers receive an Update."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"edit_post cannot change {', '.join(sorted(unknown))}; it changes {', '.join(EDITABLE_FIELDS)}")
    pages_changed(session, "blog")
    for name, value in changes.items():
        setattr(post, name, value)
    post.updated_at = datetime.now(timezone.utc)
    await session.flush()
    if post.status != "published":
        return
    actor = await app_actor(session, settings, "blog")
    document = article(settings, actor, post)
    stored = await _stored_object(session, document["id"])
    if stored is None:
        await publish_post(session, settings, post)
        return
    stored.payload = document
    await emit_activity(session, actor, "Update", document, **public_addressing(actor))


async def delete_post(session: AsyncSession, settings: Settings, post: Post) -> None:
    """Delete a post; if it was ever federated, emit Delete with a Tombstone in its place."""
    pages_changed(session, "blog")
    uri = post_object_uri(settings, post)
    stored = await _stored_object(session, uri)
    await session.delete(post)
    if stored is None or stored.deleted_at is not None:
        await session.flush()
        return
    now = datetime.now(timezone.utc)
    tombstone = {"id": uri, "type": "Tombstone", "formerType": "Article", "deleted": _iso(now)}
    stored.payload, stored.deleted_at = tombstone, now
    actor = await app_actor(session, settings, "blog")
    await emit_activity(session, actor, "Delete", tombstone, **public_addressing(actor))
    await session.flush()

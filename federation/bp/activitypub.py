"""Members as ActivityPub ``Person`` actors, and NodeInfo.

A member is the actor ``<federation public_url>/users/<username>``; that URI
is also the member's OpenID Connect ``sub``, so it must not change. The
profile page ``/@<username>`` returns the actor document too when an
ActivityPub client asks for it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from quart import Blueprint, Response, abort, current_app, request
from sqlalchemy import func, select

from shared.infrastructure.activitypub.actors import LocalActor, actor_document, member_actor, public_key_pem
from shared.infrastructure.activitypub.discovery import (
    NODEINFO_21_MEDIA_TYPE, nodeinfo_document, nodeinfo_links,
)
from shared.infrastructure.activitypub.routes import (
    activity_by_uri, actor_response, follow_collection, outbox_response,
)
from shared.infrastructure.activitypub.vocab import PUBLIC_ALIASES, as_list
from shared.infrastructure.activitypub.web import activity_response, handle_inbox_post, settings_of_app, wants_activity_json
from shared.infrastructure.csrf import csrf_exempt
from shared.infrastructure.db import get_session
from shared.models import APActivity, APActor, APObject, Member
from shared.services.members import member_dto

bp = Blueprint("federation_activitypub", __name__)

_PROFILE_PATH = re.compile(r"^/@([a-z0-9_]{1,30})$")


async def _member_or_404(username: str) -> LocalActor:
    actor = await member_actor(get_session(), settings_of_app(), username)
    if actor is None:
        abort(404)
    return actor


@bp.get("/users/<username>")
async def member(username: str):
    actor = await _member_or_404(username)
    row = await get_session().get(Member, actor.member_id)
    return await actor_response(actor, "federation/profile.html", member=member_dto(row))


@bp.post("/users/<username>/inbox")
@csrf_exempt
async def member_inbox(username: str):
    actor = await _member_or_404(username)
    return await handle_inbox_post(actor.uri, actor.id)


@bp.get("/users/<username>/outbox")
async def member_outbox(username: str):
    return await outbox_response(await _member_or_404(username))


@bp.get("/users/<username>/followers")
async def member_followers(username: str):
    actor = await _member_or_404(username)
    return await follow_collection(actor, "inbound", actor.followers)


@bp.get("/users/<username>/following")
async def member_following(username: str):
    actor = await _member_or_404(username)
    return await follow_collection(actor, "outbound", actor.following)


@bp.get("/users/<username>/activities/<activity_id>")
async def member_activity(username: str, activity_id: str):
    actor = await _member_or_404(username)
    return await activity_by_uri(f"{actor.uri}/activities/{activity_id}")


@bp.get("/users/<username>/notes/<note_id>")
async def member_note(username: str, note_id: str):
    actor = await _member_or_404(username)
    note = await get_session().scalar(
        select(APObject).where(APObject.uri == f"{actor.uri}/notes/{note_id}", APObject.is_local.is_(True))
    )
    # NOTE: a followers-only note reaches followers only by delivery; a signed fetch by a follower is not served yet.
    if note is None or not any(address in PUBLIC_ALIASES for key in ("to", "cc") for address in as_list(note.payload.get(key))):
        abort(404)
    if note.deleted_at is not None:
        return activity_response({"id": note.uri, "type": "Tombstone"}, status=410)
    return activity_response({"@context": "https://www.w3.org/ns/activitystreams", **note.payload})


@bp.get("/.well-known/nodeinfo")
async def nodeinfo_discovery():
    return activity_response(nodeinfo_links(settings_of_app()), media_type="application/json")


@bp.get("/nodeinfo/2.1")
async def nodeinfo():
    session = get_session()
    now = datetime.now(timezone.utc)
    total = await session.scalar(select(func.count()).select_from(Member)) or 0

    async def active_since(days: int) -> int:
        # A member counts as active when they published an activity in the window.
        return await session.scalar(
            select(func.count(func.distinct(APActor.member_id)))
            .select_from(APActivity)
            .join(APActor, APActor.id == APActivity.actor_id)
            .where(APActivity.direction == "outbound", APActor.member_id.is_not(None),
                   APActivity.created_at >= now - timedelta(days=days))
        ) or 0

    local_posts = await session.scalar(
        select(func.count()).select_from(APObject).where(APObject.is_local.is_(True), APObject.deleted_at.is_(None))
    ) or 0
    document = nodeinfo_document(total, await active_since(180), await active_since(30), local_posts)
    return activity_response(document, media_type=NODEINFO_21_MEDIA_TYPE)


def install_profile_negotiation(app) -> None:
    """Answer ``/@<username>`` with the actor document for ActivityPub clients, and mark the page ``Vary: Accept``."""

    @app.before_request
    async def profile_as_actor() -> Response | None:
        match = _PROFILE_PATH.match(request.path)
        if request.method != "GET" or match is None or not wants_activity_json():
            return None
        actor = await member_actor(get_session(), current_app.extensions["settings"], match.group(1))
        if actor is None:
            return None
        return activity_response(actor_document(actor, await public_key_pem(get_session(), actor)))

    @app.after_request
    async def vary_profile(response: Response) -> Response:
        if _PROFILE_PATH.match(request.path):
            response.vary.add("Accept")
        return response

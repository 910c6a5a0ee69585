"""Handlers for received activities, run by the EventProcessor once per stored row.

Each handler is called inside the transaction that marks the row done, so
its effects (follows, stored objects, notifications, an Accept to deliver)
are saved once, together with that mark.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

import httpx
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.infrastructure.config import Settings
from shared.models import APActivity, APActor, APFollow, APObject, APRemoteActor, APRemoteKey, Notification

from .actors import LocalActor, local_actor_by_uri
from .emit import emit_activity
from .fetch import RemoteFetcher
from .remote import RemoteObjectError, fetch_object, remote_actor
from .vocab import ACTOR_TYPES, OBJECT_TYPES, as_list, first_object, id_of, ids_of, types_of

log = logging.getLogger(__name__)


@dataclass
class InboundContext:
    session: AsyncSession
    settings: Settings
    fetcher: RemoteFetcher
    fetch_auth: httpx.Auth | None
    row: APActivity

    @property
    def activity(self) -> dict[str, Any]:
        return self.row.payload

    @property
    def actor_uri(self) -> str:
        return self.row.remote_actor_uri or ""


Handler = Callable[[InboundContext], Awaitable[None]]


async def _notify(context: InboundContext, actor: LocalActor | None, kind: str, object_uri: str | None) -> None:
    if actor is None or actor.member_id is None:
        return
    context.session.add(Notification(member_id=actor.member_id, kind=kind, actor_uri=context.actor_uri, object_uri=object_uri))


async def handle_follow(context: InboundContext) -> None:
    target = await local_actor_by_uri(context.session, context.settings, id_of(context.activity.get("object")) or "")
    if target is None:
        log.info("Follow %s names no local actor; ignored", context.row.uri)
        return
    follower = await remote_actor(context.session, context.fetcher, context.actor_uri, context.fetch_auth)
    state = "pending" if target.manually_approves_followers else "accepted"
    values = {
        "local_actor_id": target.id, "remote_actor_uri": follower.uri, "remote_inbox": follower.inbox,
        "remote_shared_inbox": follower.shared_inbox, "direction": "inbound", "state": state,
        "follow_activity_uri": context.row.uri,
    }
    await context.session.execute(
        insert(APFollow).values(**values).on_conflict_do_update(
            index_elements=["local_actor_id", "remote_actor_uri", "direction"],
            set_={key: values[key] for key in ("remote_inbox", "remote_shared_inbox", "state", "follow_activity_uri")},
        )
    )
    if state == "accepted":
        follow = {key: value for key, value in context.activity.items() if key != "@context"}
        await emit_activity(context.session, target, "Accept", follow, to=[follower.uri])
    await _notify(context, target, "follow" if state == "accepted" else "follow_request", None)


async def handle_undo(context: InboundContext) -> None:
    inner = context.activity.get("object")
    embedded = first_object(inner)
    inner_id = id_of(inner)
    if embedded is not None:
        inner_actor = id_of(embedded.get("actor"))
        if inner_actor is not None and inner_actor != context.actor_uri:
            log.info("Undo %s by %s undoes an activity of %s; ignored", context.row.uri, context.actor_uri, inner_actor)
            return
        if "Follow" not in types_of(embedded):
            return
        target = await local_actor_by_uri(context.session, context.settings, id_of(embedded.get("object")) or "")
        condition = APFollow.local_actor_id == target.id if target is not None else None
    else:
        condition = APFollow.follow_activity_uri == inner_id if inner_id else None
    if condition is None:
        return
    await context.session.execute(
        delete(APFollow).where(condition, APFollow.remote_actor_uri == context.actor_uri, APFollow.direction == "inbound")
    )


async def _answer_follow(context: InboundContext, state: str) -> None:
    inner = context.activity.get("object")
    embedded = first_object(inner)
    inner_id = id_of(inner)
    query = update(APFollow).where(APFollow.direction == "outbound", APFollow.remote_actor_uri == context.actor_uri)
    if inner_id:
        query = query.where(APFollow.follow_activity_uri == inner_id)
    elif embedded is not None:
        local = await local_actor_by_uri(context.session, context.settings, id_of(embedded.get("actor")) or "")
        if local is None:
            return
        query = query.where(APFollow.local_actor_id == local.id)
    else:
        return
    await context.session.execute(query.values(state=state))


async def handle_accept(context: InboundContext) -> None:
    await _answer_follow(context, "accepted")


async def handle_reject(context: InboundContext) -> None:
    await _answer_follow(context, "rejected")


async def _object_of(context: InboundContext) -> dict[str, Any] | None:
    found = first_object(context.activity.get("object"))
    if found is None and id_of(context.activity.get("object")):
        try:
            found = await fetch_object(context.fetcher, id_of(context.activity["object"]), context.fetch_auth)
        except RemoteObjectError as error:
            log.info("could not fetch the object of %s: %s", context.row.uri, error.reason)
            return None
    return found


def _object_kind(found: dict[str, Any]) -> str | None:
    kinds = types_of(found) & OBJECT_TYPES
    return sorted(kinds)[0] if kinds else None


async def handle_create(context: InboundContext) -> None:
    found = await _object_of(context)
    if found is None or _object_kind(found) is None or not id_of(found.get("id")):
        return
    authors = ids_of(found.get("attributedTo"))
    if authors and context.actor_uri not in authors:
        log.info("Create %s by %s carries an object of %s; ignored", context.row.uri, context.actor_uri, authors)
        return
    values = {
        "uri": found["id"], "object_type": _object_kind(found), "attributed_to": context.actor_uri, "payload": found,
        "is_local": False,
    }
    inserted = await context.session.scalar(
        insert(APObject).values(**values).on_conflict_do_nothing(index_elements=["uri"]).returning(APObject.id)
    )
    if inserted is not None:
        await _notify_reply_and_mentions(context, found)


async def _notify_reply_and_mentions(context: InboundContext, found: dict[str, Any]) -> None:
    """Notify the member whose note this object replies to ("reply"), and each member it mentions ("mention")."""
    notified: set[int] = set()
    parent_uri = id_of(found.get("inReplyTo"))
    if parent_uri:
        parent = await context.session.scalar(
            select(APObject).where(APObject.uri == parent_uri, APObject.is_local.is_(True))
        )
        owner = await context.session.get(APActor, parent.actor_id) if parent is not None and parent.actor_id else None
        if owner is not None and owner.member_id is not None:
            context.session.add(Notification(member_id=owner.member_id, kind="reply", actor_uri=context.actor_uri, object_uri=found["id"]))
            notified.add(owner.member_id)
    for tag in as_list(found.get("tag")):
        if not isinstance(tag, dict) or "Mention" not in types_of(tag) or not isinstance(tag.get("href"), str):
            continue
        mentioned = await local_actor_by_uri(context.session, context.settings, tag["href"])
        if mentioned is not None and mentioned.member_id is not None and mentioned.member_id not in notified:
            context.session.add(Notification(member_id=mentioned.member_id, kind="mention", actor_uri=context.actor_uri, object_uri=found["id"]))
            notified.add(mentioned.member_id)


async def handle_update(context: InboundContext) -> None:
    found = await _object_of(context)
    if found is None or not id_of(found.get("id")):
        return
    if types_of(found) & ACTOR_TYPES:
        if found["id"] == context.actor_uri:
            await remote_actor(context.session, context.fetcher, context.actor_uri, context.fetch_auth, refresh=True)
        return
    if _object_kind(found) is None:
        return
    existing = await context.session.scalar(select(APObject).where(APObject.uri == found["id"]))
    if existing is None:
        await handle_create(context)
    elif existing.attributed_to == context.actor_uri and not existing.is_local:
        existing.payload = found
        existing.object_type = _object_kind(found) or existing.object_type


async def handle_delete(context: InboundContext) -> None:
    target = id_of(context.activity.get("object"))
    if target is None:
        return
    if target == context.actor_uri:
        await _forget_actor(context.session, context.actor_uri)
        return
    await context.session.execute(
        update(APObject)
        .where(APObject.uri == target, APObject.attributed_to == context.actor_uri, APObject.is_local.is_(False))
        .values(deleted_at=datetime.now(timezone.utc), payload={"id": target, "type": "Tombstone"})
    )


async def _forget_actor(session: AsyncSession, actor_uri: str) -> None:
    await session.execute(delete(APFollow).where(APFollow.remote_actor_uri == actor_uri))
    await session.execute(delete(APObject).where(APObject.attributed_to == actor_uri, APObject.is_local.is_(False)))
    await session.execute(delete(APRemoteKey).where(APRemoteKey.actor_uri == actor_uri))
    await session.execute(delete(APRemoteActor).where(APRemoteActor.uri == actor_uri))


async def _notify_owner(context: InboundContext, kind: str) -> None:
    object_uri = id_of(context.activity.get("object"))
    if not object_uri:
        return
    local = await context.session.scalar(select(APObject).where(APObject.uri == object_uri, APObject.is_local.is_(True)))
    if local is None or local.actor_id is None:
        return
    owner = await context.session.get(APActor, local.actor_id)
    if owner is not None and owner.member_id is not None:
        context.session.add(Notification(member_id=owner.member_id, kind=kind, actor_uri=context.actor_uri, object_uri=object_uri))


async def handle_like(context: InboundContext) -> None:
    await _notify_owner(context, "like")


async def handle_announce(context: InboundContext) -> None:
    await _notify_owner(context, "announce")


HANDLERS: dict[str, Handler] = {
    "Follow": handle_follow,
    "Undo": handle_undo,
    "Accept": handle_accept,
    "Reject": handle_reject,
    "Create": handle_create,
    "Update": handle_update,
    "Delete": handle_delete,
    "Like": handle_like,
    "Announce": handle_announce,
}


async def process_inbound(context: InboundContext) -> None:
    """Run the handler of the activity's type; a type without one is stored and otherwise ignored."""
    for kind in sorted(types_of(context.activity)):
        handler = HANDLERS.get(kind)
        if handler is not None:
            await handler(context)
            return

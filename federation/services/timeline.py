"""Queries behind the member's fediverse pages: the home timeline, follow lists and notifications.

Remote HTML is sanitised here, once, so templates can output
``TimelineNote.content_html`` as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable
from urllib.parse import urlsplit

from markupsafe import Markup
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession

from shared.infrastructure.activitypub.actors import LocalActor
from shared.infrastructure.activitypub.vocab import PUBLIC_ALIASES
from shared.infrastructure.html import sanitise_html
from shared.infrastructure.pagination import Page, page_count
from shared.models import APFollow, APObject, APRemoteActor, Notification

TIMELINE_PER_PAGE = 20
NOTIFICATIONS_PER_PAGE = 30
FOLLOWS_PER_PAGE = 50
EXCERPT_LENGTH = 140


@dataclass(frozen=True)
class Account:
    """A remote account, or the member, as a page shows it."""

    uri: str
    handle: str
    name: str
    # An http(s) link to the account's profile, or its URI when the document names no such page.
    profile_url: str


@dataclass(frozen=True)
class FollowEntry:
    account: Account
    state: str
    since: datetime


@dataclass(frozen=True)
class TimelineNote:
    uri: str
    url: str
    author: Account
    is_local: bool
    content_html: Markup
    # A content warning; when set, pages fold the content away behind it.
    summary: str
    published: datetime
    in_reply_to: str | None
    # "public", "followers" (addressed to the author's followers), or "direct" (only to the accounts it names).
    audience: str


@dataclass(frozen=True)
class NotificationEntry:
    id: int
    kind: str
    account: Account | None
    object_url: str | None
    excerpt: str
    created_at: datetime
    unread: bool


def _http_url(value: Any) -> str | None:
    """Return the first http(s) URL in a ``url``-like property, so a remote link cannot be javascript: or data:."""
    for item in value if isinstance(value, list) else [value]:
        candidate = item
        if isinstance(item, dict):
            candidate = item.get("href")
        if _is_http(candidate):
            return candidate
    return None


def _is_http(url: str | None) -> bool:
    return isinstance(url, str) and urlsplit(url).scheme.lower() in ("http", "https") and bool(urlsplit(url).netloc)


def remote_account(uri: str, row: APRemoteActor | None) -> Account:
    host = urlsplit(uri).netloc
    if row is None:
        return Account(uri, host or uri, host or uri, uri if _is_http(uri) else "")
    name = row.payload.get("name")
    username = row.preferred_username or ""
    handle = f"{username}@{host}" if username else host
    display = name.strip() if isinstance(name, str) and name.strip() else username or host
    return Account(uri, handle, display, _http_url(row.payload.get("url")) or (uri if _is_http(uri) else ""))


async def accounts(session: AsyncSession, uris: Iterable[str]) -> dict[str, Account]:
    """Return the known remote accounts among ``uris``, by URI."""
    return {uri: remote_account(uri, row) for uri, row in (await _remote_actors(session, uris)).items()}


def local_account(actor: LocalActor) -> Account:
    return Account(actor.uri, actor.handle, actor.name or actor.username, actor.profile_url)


async def _remote_actors(session: AsyncSession, uris: Iterable[str]) -> dict[str, APRemoteActor]:
    unique_uris = sorted({uri for uri in uris if uri})
    if not unique_uris:
        return {}
    rows = await session.scalars(select(APRemoteActor).where(APRemoteActor.uri.in_(unique_uris)))
    return {row.uri: row for row in rows}


def _parse_time(value: Any, default: datetime) -> datetime:
    if not isinstance(value, str):
        return default
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return default
    return parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def excerpt(content: Any) -> str:
    """Return the start of an HTML or plain-text body as plain text."""
    if not isinstance(content, str):
        return ""
    text = " ".join(Markup(content).striptags().split())
    return text if len(text) <= EXCERPT_LENGTH else text[: EXCERPT_LENGTH - 1].rstrip() + "…"


# Follow lists


async def follows(
    session: AsyncSession, actor: LocalActor, direction: str, states: tuple[str, ...], number: int = 1
) -> list[FollowEntry]:
    """Return page ``number`` of the actor's follows in one direction and the given states, newest first."""
    rows = list(await session.scalars(
        select(APFollow)
        .where(APFollow.local_actor_id == actor.id, APFollow.direction == direction, APFollow.state.in_(states))
        .order_by(APFollow.id.desc())
        .offset((number - 1) * FOLLOWS_PER_PAGE)
        .limit(FOLLOWS_PER_PAGE)
    ))
    remote = await _remote_actors(session, (row.remote_actor_uri for row in rows))
    return [FollowEntry(remote_account(row.remote_actor_uri, remote.get(row.remote_actor_uri)), row.state, row.created_at)
            for row in rows]


async def follow_count(session: AsyncSession, actor: LocalActor, direction: str, states: tuple[str, ...]) -> int:
    return await session.scalar(
        select(func.count()).select_from(APFollow)
        .where(APFollow.local_actor_id == actor.id, APFollow.direction == direction, APFollow.state.in_(states))
    ) or 0


async def follows_page(
    session: AsyncSession, actor: LocalActor, direction: str, states: tuple[str, ...], number: int
) -> Page:
    """Return page ``number`` of the actor's follows, FOLLOWS_PER_PAGE a page, with the page count and total."""
    total = await follow_count(session, actor, direction, states)
    items = await follows(session, actor, direction, states, number)
    return Page(number, page_count(total, FOLLOWS_PER_PAGE), total, items)


# Home timeline


def _addressed_to_reader(actor: LocalActor):
    """Build the condition that a remote object is addressed to the public, to its author's followers, or to ``actor``.

    ``to`` and ``cc`` may each be one string or a list. The jsonb ``?`` and
    ``?|`` operators match a string in either shape.
    """
    public = array(sorted(PUBLIC_ALIASES))
    author_followers = APRemoteActor.payload["followers"].astext
    conditions = []
    for field in ("to", "cc"):
        addressed = APObject.payload[field]
        conditions += [addressed.has_any(public), addressed.has_key(actor.uri), addressed.has_key(author_followers)]
    return or_(*conditions)


def _timeline_condition(actor: LocalActor):
    followed = select(APFollow.remote_actor_uri).where(
        APFollow.local_actor_id == actor.id, APFollow.direction == "outbound", APFollow.state == "accepted",
    )
    # NOTE: an object that carries no to or cc of its own is left out, even when its Create was addressed to the member.
    received = and_(APObject.is_local.is_(False), APObject.attributed_to.in_(followed), _addressed_to_reader(actor))
    own = and_(APObject.is_local.is_(True), APObject.actor_id == actor.id)
    return and_(APObject.deleted_at.is_(None), or_(own, received))


async def home_timeline(session: AsyncSession, actor: LocalActor, number: int, per_page: int = TIMELINE_PER_PAGE) -> Page:
    """Return page ``number`` of the member's notes and those of the accounts they follow, newest first.

    Objects are ordered by when they arrived here, because a remote
    ``published`` date can be anything.
    """
    base = (
        select(APObject, APRemoteActor)
        .outerjoin(APRemoteActor, APRemoteActor.uri == APObject.attributed_to)
        .where(_timeline_condition(actor))
    )
    total = await session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = (await session.execute(
        base.order_by(APObject.id.desc()).offset((number - 1) * per_page).limit(per_page)
    )).all()
    notes = [_timeline_note(actor, stored, author) for stored, author in rows]
    return Page(number=number, pages=page_count(total, per_page), total=total, items=notes)


def _timeline_note(actor: LocalActor, stored: APObject, author: APRemoteActor | None) -> TimelineNote:
    payload = stored.payload
    content = payload.get("content") if isinstance(payload.get("content"), str) else ""
    title = payload.get("name") if isinstance(payload.get("name"), str) else ""
    if not content and title:
        content = f"<p>{Markup.escape(title)}</p>"
    summary = payload.get("summary") if isinstance(payload.get("summary"), str) else ""
    addressed = {address for key in ("to", "cc") for address in _ids(payload.get(key))}
    if stored.is_local:
        author_followers = actor.followers
    else:
        author_followers = author.payload.get("followers") if author is not None else None
    if addressed & PUBLIC_ALIASES:
        audience = "public"
    elif author_followers in addressed:
        audience = "followers"
    else:
        audience = "direct"
    return TimelineNote(
        uri=stored.uri,
        url=_note_link(stored),
        author=local_account(actor) if stored.is_local else remote_account(stored.attributed_to or "", author),
        is_local=stored.is_local,
        content_html=Markup(sanitise_html(content)),
        summary=" ".join(Markup(summary).striptags().split()),
        published=_parse_time(payload.get("published"), stored.created_at),
        in_reply_to=_http_url(payload.get("inReplyTo")),
        audience=audience,
    )


def _note_link(stored: APObject) -> str:
    # The URI of a note by the member serves ActivityStreams JSON, not a page, so it gets no link.
    if stored.is_local:
        return ""
    link = _http_url(stored.payload.get("url"))
    if link is None and _is_http(stored.uri):
        link = stored.uri
    return link or ""


def _ids(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [item for item in values if isinstance(item, str)]


# Notifications


async def unread_count(session: AsyncSession, member_id: int) -> int:
    return await session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.member_id == member_id, Notification.read_at.is_(None))
    ) or 0


async def notifications_page(session: AsyncSession, member_id: int, number: int, per_page: int = NOTIFICATIONS_PER_PAGE) -> Page:
    """Return page ``number`` of the member's notifications, newest first, and mark the ones on it read."""
    total = await session.scalar(
        select(func.count()).select_from(Notification).where(Notification.member_id == member_id)
    ) or 0
    rows = list(await session.scalars(
        select(Notification).where(Notification.member_id == member_id)
        .order_by(Notification.id.desc()).offset((number - 1) * per_page).limit(per_page)
    ))
    remote = await _remote_actors(session, (row.actor_uri or "" for row in rows))
    object_uris = sorted({row.object_uri for row in rows if row.object_uri})
    objects = {
        stored.uri: stored
        for stored in await session.scalars(select(APObject).where(APObject.uri.in_(object_uris)))
    } if object_uris else {}
    entries = []
    for row in rows:
        stored = objects.get(row.object_uri or "")
        payload = stored.payload if stored is not None and stored.deleted_at is None else {}
        entries.append(NotificationEntry(
            id=row.id,
            kind=row.kind,
            account=remote_account(row.actor_uri, remote.get(row.actor_uri)) if row.actor_uri else None,
            object_url=_http_url(payload.get("url")) or (row.object_uri if _is_http(row.object_uri) else None),
            excerpt=excerpt(payload.get("content")),
            created_at=row.created_at,
            unread=row.read_at is None,
        ))
    unread = [entry.id for entry in entries if entry.unread]
    if unread:
        await session.execute(
            update(Notification).where(Notification.id.in_(unread), Notification.read_at.is_(None))
            .values(read_at=datetime.now(timezone.utc))
        )
    return Page(number=number, pages=page_count(total, per_page), total=total, items=entries)

"""Server-side sessions in Redis, behind a first-party cookie per app.

The cookie holds only a random session id; the data lives in Redis under
``session:<app>:<id>``. A session that is never written sets no cookie.

Every session that contains a ``member_id`` is also listed in the Redis hash
``member-sessions:<member_id>``, field ``<app>:<id>``, value the federation
session id (the OpenID Connect ``sid``) it was started from. That index is
what ``end_member_sessions`` reads to sign a member out on every app and
device at once.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions
from quart import Quart, Request, Response, current_app, session
from quart.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from .db import ServiceUnavailable, address_of, describe

log = logging.getLogger(__name__)

SESSION_LIFETIME_SECONDS = 14 * 24 * 3600
MEMBER_ID_KEY = "member_id"


def member_index_key(member_id: int) -> str:
    return f"member-sessions:{member_id}"


def federation_sid_of(data: dict[str, Any]) -> str:
    """Return the federation session id a session belongs to, or "" when it has none.

    Federation keeps it as ``oidc_sid``; the client apps keep the id_token's
    ``sid`` in ``member["sid"]`` (see ``shared.infrastructure.oauth``).
    """
    sid = data.get("oidc_sid")
    if not sid and isinstance(data.get("member"), dict):
        sid = data["member"].get("sid")
    return sid if isinstance(sid, str) else ""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _member_id_of(data: dict[str, Any]) -> int | None:
    member_id = data.get(MEMBER_ID_KEY)
    return member_id if isinstance(member_id, int) else None


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial: dict[str, Any] | None = None, sid: str | None = None) -> None:
        def on_update(self: ServerSession) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.sid = sid
        self.new = sid is None
        self.modified = False
        self.previous_sid: str | None = None
        # The member the session belonged to when it was read, so saving can drop it from that member's index.
        self.opened_member_id = _member_id_of(self)
        # Set when Redis could not be read; the request is then answered with a 503.
        self.unavailable_reason: str | None = None

    def regenerate(self) -> None:
        """Give the session a new id (after sign-in), so an id seen before cannot be reused."""
        if self.sid and not self.previous_sid:
            self.previous_sid = self.sid
        self.sid = None
        self.modified = True


class RedisSessionInterface(SessionInterface):
    def __init__(self, app_name: str, secure: bool) -> None:
        self.app_name = app_name
        self.cookie_name = f"{app_name}_session"
        self.secure = secure

    def _key(self, sid: str) -> str:
        return f"session:{self.app_name}:{sid}"

    async def open_session(self, app: Quart, request: Request) -> ServerSession:
        sid = request.cookies.get(self.cookie_name)
        if not sid or len(sid) > 100:
            return ServerSession()
        try:
            raw = await app.extensions["redis"].get(self._key(sid))
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
            session = ServerSession()
            session.unavailable_reason = str(error) or type(error).__name__
            return session
        app.extensions["outages"].up("redis")
        if raw is None:
            return ServerSession()
        try:
            data = json.loads(raw)
        except ValueError:
            log.warning("discarding unreadable session data for %s", self.cookie_name)
            return ServerSession()
        return ServerSession(data if isinstance(data, dict) else {}, sid)

    async def save_session(self, app: Quart, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, ServerSession) or session.unavailable_reason:
            return
        client = app.extensions["redis"]
        try:
            if session.previous_sid:
                await self._forget(client, session.previous_sid, session.opened_member_id)
            if not session:
                if session.sid:
                    await self._forget(client, session.sid, session.opened_member_id)
                    response.delete_cookie(self.cookie_name, path="/")
                return
            if not session.modified and not session.new:
                return
            existing = session.sid is not None
            session.sid = session.sid or secrets.token_urlsafe(32)
            # XX on a session read from Redis: one ended meanwhile (signed out everywhere) stays ended.
            written = await client.set(
                self._key(session.sid), json.dumps(dict(session)), ex=SESSION_LIFETIME_SECONDS, xx=existing
            )
            if not written:
                response.delete_cookie(self.cookie_name, path="/")
                return
            await self._index(client, session)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
            app.extensions["outages"].down("redis", str(error))
            return
        response.set_cookie(
            self.cookie_name,
            session.sid,
            max_age=SESSION_LIFETIME_SECONDS,
            path="/",
            httponly=True,
            secure=self.secure,
            samesite="Lax",
        )

    async def _forget(self, client: aioredis.Redis, sid: str, member_id: int | None) -> None:
        async with client.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(sid))
            if member_id is not None:
                pipe.hdel(member_index_key(member_id), f"{self.app_name}:{sid}")
            await pipe.execute()

    async def _index(self, client: aioredis.Redis, session: ServerSession) -> None:
        assert session.sid is not None
        field = f"{self.app_name}:{session.sid}"
        member_id = _member_id_of(session)
        async with client.pipeline(transaction=True) as pipe:
            if session.opened_member_id is not None and session.opened_member_id != member_id:
                pipe.hdel(member_index_key(session.opened_member_id), field)
            if member_id is not None:
                index = member_index_key(member_id)
                pipe.hset(index, field, federation_sid_of(session))
                # The index outlives the member's newest session by at most one session lifetime.
                pipe.expire(index, SESSION_LIFETIME_SECONDS)
            await pipe.execute()


async def check_session_store() -> None:
    """Raise ServiceUnavailable naming Redis when the current request's session cannot be read or kept.

    A request without a session cookie never reads Redis, so a missing session
    looks the same whether the browser dropped our cookie or Redis is down.
    Call this before responding "Form expired" or "your browser did not keep
    our cookie". It PINGs Redis, and a 503 that names Redis replaces the
    misleading message.
    """
    redis_url = current_app.extensions["settings"].redis_url
    if isinstance(session, ServerSession) and session.unavailable_reason:
        raise ServiceUnavailable("Redis", address_of(redis_url), session.unavailable_reason)
    try:
        await current_app.extensions["redis"].ping()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
        raise ServiceUnavailable("Redis", address_of(redis_url), describe(error)) from error


@dataclass(frozen=True)
class EndedSessions:
    """Counts from ``end_member_sessions``: sessions ended, and the sign-ins (browsers or devices) they came from."""

    sessions: int
    sign_ins: int


async def end_member_sessions(client: aioredis.Redis, member_id: int, keep_sid: str | None = None) -> EndedSessions:
    """Delete every session of the member on every app, except those of the federation session ``keep_sid``.

    Entries whose session had already expired are dropped from the index and
    not counted.
    """
    index = member_index_key(member_id)
    entries = {_text(field): _text(sid) for field, sid in (await client.hgetall(index)).items()}
    doomed = [field for field, sid in entries.items() if keep_sid is None or sid != keep_sid]
    if not doomed:
        return EndedSessions(0, 0)
    async with client.pipeline(transaction=True) as pipe:
        for field in doomed:
            pipe.delete("session:" + field)
        pipe.hdel(index, *doomed)
        deleted = (await pipe.execute())[:-1]
    ended = [field for field, count in zip(doomed, deleted) if count]
    sign_ins = {entries[field] or field for field in ended}
    log.info("ended %d sessions of member %d from %d sign-ins", len(ended), member_id, len(sign_ins))
    return EndedSessions(len(ended), len(sign_ins))

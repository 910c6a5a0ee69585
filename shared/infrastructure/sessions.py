"""Server-side sessions in Redis, behind a first-party cookie per app.

The cookie holds only a random session id; the data lives in Redis under
``session:<app>:<id>``. A session that is never written sets no cookie.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

import redis.exceptions
from quart import Quart, Request, Response
from quart.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

log = logging.getLogger(__name__)

SESSION_LIFETIME_SECONDS = 14 * 24 * 3600


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial: dict[str, Any] | None = None, sid: str | None = None) -> None:
        def on_update(self: ServerSession) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.sid = sid
        self.new = sid is None
        self.modified = False
        self.previous_sid: str | None = None
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
                await client.delete(self._key(session.previous_sid))
            if not session:
                if session.sid:
                    await client.delete(self._key(session.sid))
                    response.delete_cookie(self.cookie_name, path="/")
                return
            if not session.modified and not session.new:
                return
            session.sid = session.sid or secrets.token_urlsafe(32)
            await client.set(self._key(session.sid), json.dumps(dict(session)), ex=SESSION_LIFETIME_SECONDS)
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

"""Whole anonymous pages cached in Redis (the blog uses it).

Only a GET from a visitor who is not signed in is served from the cache. Only
a 200 HTML response that sets no cookie, carries no CSRF token and has every
fragment it asked for is stored. So a page meant for one person is never
shown to another, and a page patched over an outage does not outlive it.

``PageCacheMiddleware`` serves a request without the app's session cookie from
the cache before it reaches Quart at all. A request with that cookie goes
through the app, which reads the session first. A request with the visitor's
cart cookie is neither served from the cache nor stored, because its header
shows that visitor's cart. Nor is a request with the sign-in state cookie,
because that browser may be signed in at federation and due a silent sign-in.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import redis.exceptions
from quart import Quart, Response, g, request
from quart.typing import ResponseReturnValue
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from .cart_cookie import COOKIE_NAME as CART_COOKIE_NAME
from .sso_cookie import COOKIE_NAME as SSO_COOKIE_NAME
from .config import Settings
from .fragments import current_member_id

log = logging.getLogger(__name__)
access_log = logging.getLogger("rose_ash.access")

SKIPPED_PREFIXES = ("/internal/", "/auth/", "/static/", "/healthz", "/api/", "/.well-known/", "/favicon.")
HIT_HEADER = "X-Page-Cache"
# Headers that belong to one response only and are never replayed from the cache.
NOT_STORED = frozenset({"content-length", "set-cookie", "x-request-id", "x-page-cache"})


_OFFERED = ["text/html", "application/activity+json", "application/ld+json", "application/json"]


def representation_of(accept: str) -> str:
    """Return ``json`` when the client prefers JSON (ActivityPub clients) and ``html`` otherwise."""
    best_type, best_quality = "text/html", 0.0
    for value, quality in parse_accept_header(accept, MIMEAccept):
        # Media-type parameters such as ActivityStreams' profile do not change the representation.
        media_type = value.split(";", 1)[0].strip().lower()
        if media_type in _OFFERED and quality > best_quality:
            best_type, best_quality = media_type, quality
    return "html" if best_type == "text/html" else "json"


def page_key(app_name: str, representation: str, path: str, query: str) -> str:
    return f"page:{app_name}:{representation}:{path}?{query}"


def _encode(headers: list[tuple[str, str]], body: bytes) -> bytes:
    return json.dumps(headers).encode() + b"\n" + body


def _decode(value: bytes) -> tuple[list[tuple[str, str]], bytes]:
    head, body = value.split(b"\n", 1)
    return [tuple(pair) for pair in json.loads(head)], body


def _request_key(app_name: str) -> str:
    return page_key(app_name, representation_of(request.headers.get("Accept", "")), request.path,
                    request.query_string.decode("latin-1"))


def _cacheable_request() -> bool:
    return (
        request.method == "GET"
        and not request.path.startswith(SKIPPED_PREFIXES)
        and current_member_id() is None
        and request.cookies.get(CART_COOKIE_NAME) is None
        and request.cookies.get(SSO_COOKIE_NAME) is None
    )


def install_serving(app: Quart, settings: Settings, app_name: str) -> None:
    @app.before_request
    async def serve_cached_page() -> ResponseReturnValue | None:
        if settings.page_cache_seconds <= 0 or not _cacheable_request():
            return None
        try:
            value = await app.extensions["redis"].get(_request_key(app_name))
        except redis.exceptions.RedisError:
            return None
        if value is None:
            return None
        g.page_cache_hit = True
        headers, body = _decode(value)
        response = Response(body, headers=headers)
        response.headers[HIT_HEADER] = "hit"
        return response


def install_storing(app: Quart, settings: Settings, app_name: str) -> None:
    """Register the hook that stores pages; it must run after fragments are composed."""

    @app.after_request
    async def store_page(response: Response) -> Response:
        if settings.page_cache_seconds <= 0 or g.get("page_cache_hit") or not _cacheable_request():
            return response
        if (
            response.status_code != 200
            or response.mimetype != "text/html"
            or "Set-Cookie" in response.headers
            or g.get("csrf_used")
            or g.get("fragments_degraded")
        ):
            return response
        response.vary.add("Accept")
        headers = [(name, value) for name, value in response.headers.items() if name.lower() not in NOT_STORED]
        try:
            await app.extensions["redis"].set(
                _request_key(app_name), _encode(headers, await response.get_data()), ex=settings.page_cache_seconds
            )
        except redis.exceptions.RedisError as error:
            log.warning("could not store %s in the page cache: %s", request.path, error)
            return response
        response.headers[HIT_HEADER] = "miss"
        return response


ASGIApp = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


class PageCacheMiddleware:
    """ASGI middleware serving cached anonymous pages without entering the app; other requests pass through."""

    def __init__(self, app: Quart, inner: ASGIApp, settings: Settings, app_name: str) -> None:
        self.app = app
        self.inner = inner
        self.settings = settings
        self.app_name = app_name
        # The session cookie may name a member, the cart cookie makes the header
        # show the visitor's cart, and the sign-in state cookie means the
        # browser may be signed in at federation and due a silent sign-in.
        self.personal_cookie_names = {
            f"{app_name}_session".encode(), CART_COOKIE_NAME.encode(), SSO_COOKIE_NAME.encode()
        }

    def _has_personal_cookie(self, headers: list[tuple[bytes, bytes]]) -> bool:
        for name, value in headers:
            if name == b"cookie":
                for pair in value.split(b";"):
                    if pair.strip().split(b"=", 1)[0] in self.personal_cookie_names:
                        return True
        return False

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        client = self.app.extensions.get("redis")
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or client is None
            or self.settings.page_cache_seconds <= 0
            or scope["path"].startswith(SKIPPED_PREFIXES)
            or self._has_personal_cookie(scope["headers"])
        ):
            await self.inner(scope, receive, send)
            return

        started = time.perf_counter()
        accept = next((value for name, value in scope["headers"] if name == b"accept"), b"").decode("latin-1")
        key = page_key(self.app_name, representation_of(accept), scope["path"], scope["query_string"].decode("latin-1"))
        try:
            value = await client.get(key)
        except redis.exceptions.RedisError:
            value = None
        if value is None:
            await self.inner(scope, receive, send)
            return

        headers, body = _decode(value)
        request_id = secrets.token_hex(8)
        raw_headers = [(name.lower().encode("latin-1"), item.encode("latin-1")) for name, item in headers]
        raw_headers += [
            (b"content-length", str(len(body)).encode()),
            (b"x-page-cache", b"hit"),
            (b"x-request-id", request_id.encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body})

        client_address = (scope.get("client") or ("-",))[0]
        access_log.info(
            "%s GET %s 200 %.1fms id=%s from=%s page-cache", self.app_name, scope["path"],
            (time.perf_counter() - started) * 1000, request_id, client_address,
        )


def pages_changed(session, app_name: str) -> None:
    """Note in a database session that its changes alter ``app_name``'s pages.

    The pages are dropped by ``refresh_changed_pages`` once the session has
    committed; the request factory does that for every request.
    """
    session.info.setdefault("pages_changed", set()).add(app_name)


async def refresh_changed_pages(session, redis_client) -> None:
    for app_name in sorted(session.info.pop("pages_changed", ())):
        await invalidate_pages(redis_client, app_name)


def content_version_key(app_name: str) -> str:
    return f"content-version:{app_name}"


async def invalidate_pages(redis_client, app_name: str) -> int:
    """Drop every cached page of an app, after content it shows has changed.

    It also moves the app's content version on, which retires whatever the
    app's processes keep in memory for the older version.
    """
    await redis_client.incr(content_version_key(app_name))
    keys = [key async for key in redis_client.scan_iter(match=f"page:{app_name}:*", count=500)]
    return await redis_client.delete(*keys) if keys else 0

"""Whole anonymous pages cached in Redis (the blog uses it).

Only a GET from a visitor who is not signed in is served from the cache, and
only a 200 HTML response that sets no cookie and carries no CSRF token is
stored, so a page meant for one person is never shown to another.
"""

from __future__ import annotations

import logging

import redis.exceptions
from quart import Quart, Response, g, request
from quart.typing import ResponseReturnValue

from .config import Settings
from .fragments import current_member_id

log = logging.getLogger(__name__)

SKIPPED_PREFIXES = ("/internal/", "/auth/", "/static/", "/healthz", "/api/")
HIT_HEADER = "X-Page-Cache"


def _key(app_name: str, representation: str) -> str:
    return f"page:{app_name}:{representation}:{request.full_path}"


def _cacheable_request() -> bool:
    return request.method == "GET" and not request.path.startswith(SKIPPED_PREFIXES) and current_member_id() is None


def _representation() -> str:
    best = request.accept_mimetypes.best_match(["text/html", "application/activity+json", "application/json"])
    return "html" if best in (None, "text/html") else "json"


def install_serving(app: Quart, settings: Settings, app_name: str) -> None:
    @app.before_request
    async def serve_cached_page() -> ResponseReturnValue | None:
        if not _cacheable_request():
            return None
        try:
            body = await app.extensions["redis"].get(_key(app_name, _representation()))
        except redis.exceptions.RedisError:
            return None
        if body is None:
            return None
        g.page_cache_hit = True
        return Response(body, content_type="text/html; charset=utf-8", headers={HIT_HEADER: "hit", "Vary": "Accept"})


def install_storing(app: Quart, settings: Settings, app_name: str) -> None:
    """Register the hook that stores pages; it must run after fragments are composed."""

    @app.after_request
    async def store_page(response: Response) -> Response:
        if g.get("page_cache_hit") or not _cacheable_request():
            return response
        if (
            response.status_code != 200
            or response.mimetype != "text/html"
            or "Set-Cookie" in response.headers
            or g.get("csrf_used")
            or g.get("fragments_degraded")
        ):
            return response
        try:
            await app.extensions["redis"].set(
                _key(app_name, _representation()), await response.get_data(), ex=settings.page_cache_seconds
            )
        except redis.exceptions.RedisError as error:
            log.warning("could not store %s in the page cache: %s", request.path, error)
            return response
        response.headers[HIT_HEADER] = "miss"
        response.vary.add("Accept")
        return response


async def invalidate_pages(redis_client, app_name: str) -> int:
    """Drop every cached page of an app, after content it shows has changed."""
    keys = [key async for key in redis_client.scan_iter(match=f"page:{app_name}:*", count=500)]
    return await redis_client.delete(*keys) if keys else 0

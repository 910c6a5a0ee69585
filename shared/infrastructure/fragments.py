"""HTML fragments of one app's UI shown on another app's pages.

Serving: every app registers ``fragments_blueprint(handlers)`` at
``/internal/fragments/<type>``; the factory checks the internal credential on
every ``/internal/`` request before it reaches a handler.

Composing: a template writes ``{{ fragment("cart", "cart-mini") }}``. That
call only leaves a marker and records the request. Once the page is rendered,
``compose_fragments`` fetches every recorded fragment at once, within a total
time budget, and puts each in its marker's place. Each fragment is cached in
Redis for a short time under a key naming the app, the type, the parameters
and, for member-specific types, the member. For a signed-out visitor, the
cart-specific types are requested with the visitor's cart key (from the shared
cart cookie, see ``cart_cookie``) and cached under a hash of it. When a fetch
fails or runs out of time, the last good copy is used, or an empty placeholder.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import redis.asyncio as aioredis
import redis.exceptions
from markupsafe import Markup
from quart import Blueprint, Quart, Response, abort, g, request, session

from . import internal_auth
from .cart_cookie import current_cart_key
from .config import Settings

log = logging.getLogger(__name__)

# Fragment types whose content depends on who is looking; cached per member.
MEMBER_SPECIFIC = frozenset({("cart", "cart-mini"), ("account", "account-menu")})
# Member-specific types that show a signed-out visitor's cart, so they are cached per cart key for visitors.
CART_SPECIFIC = frozenset({("cart", "cart-mini")})
STALE_TTL_SECONDS = 24 * 3600
FAILURE_LOG_INTERVAL = 60.0
MARKER_PREFIX = "<!--rose-ash-fragment:"


@dataclass(frozen=True)
class FragmentContext:
    """Request data passed to a fragment handler: who is looking and the query parameters.

    ``cart_key`` is set only for a signed-out visitor with a cart, and only for CART_SPECIFIC types.
    """

    member_id: int | None
    params: Mapping[str, str]
    cart_key: str | None = None


FragmentHandler = Callable[[FragmentContext], Awaitable[str]]


def fragments_blueprint(handlers: Mapping[str, FragmentHandler]) -> Blueprint:
    blueprint = Blueprint("fragments", __name__, url_prefix="/internal/fragments")

    @blueprint.get("/<kind>")
    async def serve(kind: str) -> Response:
        handler = handlers.get(kind)
        if handler is None:
            abort(404, f"no fragment type {kind!r} here; known types: {', '.join(sorted(handlers))}")
        caller: internal_auth.InternalCaller = g.internal_caller
        context = FragmentContext(member_id=caller.member_id, params=dict(request.args), cart_key=caller.cart_key)
        html = await handler(context)
        return Response(html, content_type="text/html; charset=utf-8")

    return blueprint


def install_internal_auth(app: Quart, settings: Settings) -> None:
    """Refuse ``/internal/`` requests without a valid credential, with a 403 and one log line."""

    @app.before_request
    async def check_internal_credential() -> None:
        if not request.path.startswith("/internal/"):
            return
        target = request.full_path.rstrip("?") if not request.query_string else request.full_path
        try:
            g.internal_caller = internal_auth.verify(
                settings.internal_secret, request.headers.get(internal_auth.HEADER), request.method, target
            )
        except internal_auth.InternalAuthError as error:
            log.warning("rejected %s %s from %s: %s", request.method, request.path, request.remote_addr, error)
            abort(403, "This address is for Rose Ash's own apps.")


@dataclass(frozen=True)
class FragmentRequest:
    app: str
    kind: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        return f"{self.app}/{self.kind}"

    def target(self) -> str:
        query = urlencode(self.params)
        return f"/internal/fragments/{self.kind}" + (f"?{query}" if query else "")


def cart_key_for(app: str, kind: str, member_id: int | None, cart_key: str | None) -> str | None:
    """Return the cart key to send with a fragment request: only for a signed-out visitor and a CART_SPECIFIC type."""
    return cart_key if member_id is None and (app, kind) in CART_SPECIFIC else None


def _owner(app: str, kind: str, member_id: int | None, cart_key: str | None) -> str:
    if (app, kind) not in MEMBER_SPECIFIC:
        return "all"
    if member_id is not None:
        return f"member:{member_id}"
    cart_key = cart_key_for(app, kind, member_id, cart_key)
    if cart_key:
        # A hash, so that listing Redis keys does not reveal the visitor's cart key.
        return "cart:" + hashlib.sha256(cart_key.encode()).hexdigest()[:32]
    return "anonymous"


def cache_key(fragment: FragmentRequest, member_id: int | None, cart_key: str | None = None) -> str:
    owner = _owner(fragment.app, fragment.kind, member_id, cart_key)
    params = hashlib.sha256(urlencode(fragment.params).encode()).hexdigest()[:16] if fragment.params else "-"
    return f"fragment:{fragment.app}:{fragment.kind}:{params}:{owner}"


def placeholder(fragment: FragmentRequest) -> Markup:
    return Markup('<div class="fragment-unavailable" data-fragment="%s"></div>') % fragment.label


@dataclass
class FragmentClient:
    """Fetches fragments from the other apps, with caching, a time budget and collapsed misses."""

    settings: Settings
    redis: aioredis.Redis
    http: httpx.AsyncClient
    budget_seconds: float = 0.3
    # A fetch may outlive the page that started it (the page stops waiting at the budget), so that
    # its result still reaches the cache for the requests that come next.
    fetch_timeout_seconds: float = 5.0
    ttl_seconds: Mapping[str, int] = field(default_factory=dict)
    default_ttl_seconds: int = 30
    fetches: int = 0
    _in_flight: dict[str, asyncio.Future] = field(default_factory=dict)
    _last_failure_log: dict[str, float] = field(default_factory=dict)

    async def fetch_all(
        self, fragments: list[FragmentRequest], member_id: int | None, cart_key: str | None = None
    ) -> list[Markup]:
        """Return each fragment's HTML. ``cart_key`` is the signed-out visitor's, from the cart cookie."""
        deadline = time.monotonic() + self.budget_seconds
        cart_keys = [cart_key_for(fragment.app, fragment.kind, member_id, cart_key) for fragment in fragments]
        keys = [cache_key(fragment, member_id, key) for fragment, key in zip(fragments, cart_keys)]
        cached: list[bytes | None] = [None] * len(keys)
        if self.default_ttl_seconds > 0:
            try:
                cached = await self.redis.mget(keys)
            except redis.exceptions.RedisError as error:
                self._log_failure("cache", fragments[0], f"cache unreadable ({error})")
        results = await asyncio.gather(
            *(
                self._one(fragment, member_id, fragment_cart_key, key, deadline) if value is None else _as_markup(value)
                for fragment, fragment_cart_key, key, value in zip(fragments, cart_keys, keys, cached)
            )
        )
        return list(results)

    async def _one(
        self, fragment: FragmentRequest, member_id: int | None, cart_key: str | None, key: str, deadline: float
    ) -> Markup:
        future = self._in_flight.get(key)
        if future is None:
            future = asyncio.ensure_future(self._fetch_and_store(fragment, member_id, cart_key, key, deadline))
            self._in_flight[key] = future
            future.add_done_callback(lambda _: self._in_flight.pop(key, None))
        try:
            return Markup(await asyncio.wait_for(asyncio.shield(future), timeout=max(0.0, deadline - time.monotonic())))
        except Exception as error:  # any failure falls back to the last good copy
            self._log_failure(key, fragment, describe_failure(error))
            # A page with a stand-in must not be cached whole, or the stand-in would outlive the outage.
            g.fragments_degraded = True
            return await self._fallback(fragment, key)

    async def _fetch_and_store(
        self, fragment: FragmentRequest, member_id: int | None, cart_key: str | None, key: str, deadline: float
    ) -> str:
        lock = f"{key}:lock"
        # Another process may be fetching the same key: wait for its result instead of fetching again.
        if not await self.redis.set(lock, b"1", nx=True, px=int(self.fetch_timeout_seconds * 1000) + 100):
            while time.monotonic() < deadline:
                await asyncio.sleep(0.01)
                cached = await self.redis.get(key)
                if cached is not None:
                    return cached.decode()
            raise TimeoutError("another process is fetching this fragment")
        try:
            html = await self._fetch(fragment, member_id, cart_key)
            ttl = self.ttl_seconds.get(fragment.kind, self.default_ttl_seconds)
            async with self.redis.pipeline(transaction=False) as pipe:
                if ttl > 0:
                    pipe.set(key, html.encode(), ex=ttl)
                pipe.set(f"{key}:stale", html.encode(), ex=STALE_TTL_SECONDS)
                await pipe.execute()
            return html
        finally:
            await self.redis.delete(lock)

    async def _fetch(self, fragment: FragmentRequest, member_id: int | None, cart_key: str | None) -> str:
        self.fetches += 1
        target = fragment.target()
        url = self.settings.app(fragment.app).internal_url.rstrip("/") + target
        credential = internal_auth.sign(self.settings.internal_secret, "GET", target, member_id, cart_key=cart_key)
        headers = {internal_auth.HEADER: credential}
        response = await self.http.get(url, headers=headers, timeout=self.fetch_timeout_seconds)
        if response.status_code != 200:
            raise FragmentFetchError(f"{fragment.app} returned status {response.status_code}")
        return response.text

    async def _fallback(self, fragment: FragmentRequest, key: str) -> Markup:
        try:
            stale = await self.redis.get(f"{key}:stale")
        except redis.exceptions.RedisError:
            stale = None
        return Markup(stale.decode()) if stale is not None else placeholder(fragment)

    def _log_failure(self, key: str, fragment: FragmentRequest, reason: str) -> None:
        now = time.monotonic()
        if now - self._last_failure_log.get(key, -FAILURE_LOG_INTERVAL) >= FAILURE_LOG_INTERVAL:
            self._last_failure_log[key] = now
            log.warning("fragment %s unavailable (%s); showing the last good copy or a placeholder", fragment.label, reason)


async def _as_markup(value: bytes) -> Markup:
    return Markup(value.decode())


class FragmentFetchError(Exception):
    pass


def describe_failure(error: BaseException) -> str:
    if isinstance(error, asyncio.TimeoutError | TimeoutError):
        return "out of time"
    if isinstance(error, httpx.ConnectError):
        return "app unreachable"
    return str(error) or type(error).__name__


async def invalidate(
    redis_client: aioredis.Redis, app: str, kind: str, member_id: int | None = None, cart_key: str | None = None
) -> int:
    """Drop the cached copies of one fragment type.

    For a member-specific type, only the copies of one member are dropped, or, for a
    CART_SPECIFIC type and a signed-out visitor, those of one cart key.
    """
    pattern = f"fragment:{app}:{kind}:*:{_owner(app, kind, member_id, cart_key)}"
    keys = [key async for key in redis_client.scan_iter(match=pattern, count=500)]
    return await redis_client.delete(*keys) if keys else 0


def current_member_id() -> int | None:
    member_id = session.get("member_id")
    return member_id if isinstance(member_id, int) else None


def install_fragments(app: Quart, settings: Settings) -> None:
    """Give templates ``fragment(app, type, **params)`` and fill the markers after rendering."""

    def fragment(app_name: str, kind: str, **params: Any) -> Markup:
        if app_name not in settings.apps:
            raise ValueError(f"fragment() names unknown app {app_name!r}")
        pending = g.setdefault("fragments", [])
        if "fragment_nonce" not in g:
            g.fragment_nonce = secrets.token_hex(8)
        pending.append(FragmentRequest(app_name, kind, tuple(sorted((k, str(v)) for k, v in params.items() if v is not None))))
        return Markup(f"{MARKER_PREFIX}{len(pending) - 1}:{g.fragment_nonce}-->")

    app.jinja_env.globals["fragment"] = fragment

    @app.before_serving
    async def open_fragment_client() -> None:
        app.extensions["fragments"] = FragmentClient(
            settings=settings,
            redis=app.extensions["redis"],
            http=httpx.AsyncClient(follow_redirects=False, trust_env=False),
            budget_seconds=settings.fragment_budget_ms / 1000,
            default_ttl_seconds=settings.fragment_ttl_seconds,
        )

    @app.after_serving
    async def close_fragment_client() -> None:
        client = app.extensions.pop("fragments", None)
        if client is not None:
            await client.http.aclose()

    @app.after_request
    async def compose_fragments(response: Response) -> Response:
        pending: list[FragmentRequest] = g.get("fragments") or []
        if not pending or not response.mimetype == "text/html":
            return response
        g.fragments = []
        client: FragmentClient = app.extensions["fragments"]
        member_id = current_member_id()
        contents = await client.fetch_all(pending, member_id, current_cart_key() if member_id is None else None)
        body = await response.get_data(as_text=True)
        for index, content in enumerate(contents):
            body = body.replace(f"{MARKER_PREFIX}{index}:{g.fragment_nonce}-->", str(content), 1)
        response.set_data(body)
        return response

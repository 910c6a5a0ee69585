"""``create_base_app(name)``: the Quart app every Rose Ash app starts from.

It wires configuration, the database and Redis pools, one transaction per
request, server-side sessions with CSRF protection, templates and static files
shared by all apps, error pages, request logging, security headers, proxy
handling and ``/healthz``.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from hypercorn.middleware import ProxyFixMiddleware
from jinja2 import ChoiceLoader, FileSystemLoader
from quart import Quart, Response, current_app, g, jsonify, render_template, request, send_file, session
from werkzeug.exceptions import HTTPException

import shared.models  # noqa: F401  (registers every domain's tables so relationships resolve)
from shared.services.registry import register_default_services

from . import db as dbmod
from . import fragments
from . import page_cache as page_cache_module
from .activitypub.routes import install_activitypub
from .config import REPO_ROOT, Settings, load_settings
from .csrf import CSRFError, check_csrf, csrf_field, csrf_token
from .money import format_money
from .oauth import install_oauth_client
from .outages import OutageTracker
from .sessions import RedisSessionInterface, ServerSession, check_session_store

access_log = logging.getLogger("rose_ash.access")
log = logging.getLogger(__name__)

SHARED_TEMPLATES = REPO_ROOT / "shared" / "templates"
SHARED_STATIC = REPO_ROOT / "shared" / "static"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Browsers request /favicon.ico from every host, and base.html links the SVG as well. A week in caches
# is short enough that a new icon reaches everyone soon after a deploy.
FAVICON_PATHS = ("/favicon.ico", "/favicon.svg")
FAVICON_MAX_AGE_SECONDS = 7 * 24 * 3600


def wants_json() -> bool:
    if request.path.startswith(("/api/", "/internal/")) or request.path == "/healthz":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "application/activity+json"])
    return best is not None and best != "text/html"


def create_base_app(name: str, settings: Settings | None = None, *, page_cache: bool = False) -> Quart:
    settings = settings or load_settings()
    urls = settings.app(name)
    app = Quart(
        name,
        static_folder=str(SHARED_STATIC),
        static_url_path="/static",
        template_folder=None,
        root_path=str(REPO_ROOT / name),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        PREFERRED_URL_SCHEME="https" if urls.is_https else "http",
        SESSION_COOKIE_NAME=f"{name}_session",
    )
    app.extensions["settings"] = settings
    app.extensions["app_name"] = name
    app.extensions["outages"] = OutageTracker(name)
    app.session_interface = RedisSessionInterface(name, secure=urls.is_https)
    app.jinja_loader = ChoiceLoader(  # type: ignore[assignment]
        [FileSystemLoader(str(REPO_ROOT / name / "templates")), FileSystemLoader(str(SHARED_TEMPLATES))]
    )
    register_default_services()
    _install_template_helpers(app, settings, name)
    _install_lifecycle(app, settings)
    _install_request_hooks(app, settings)
    _install_error_handlers(app)
    _install_health(app, settings, name)
    _install_favicons(app)
    if name != "federation":
        # Federation is the OpenID Connect provider; the other five apps sign members in through it.
        install_oauth_client(app, settings, name)
    install_activitypub(app, settings)
    fragments.install_internal_auth(app, settings)
    if page_cache:
        page_cache_module.install_serving(app, settings, name)
        # After-request hooks run last-registered first: fragments are composed before the page is stored.
        page_cache_module.install_storing(app, settings, name)
    fragments.install_fragments(app, settings)
    if page_cache:
        app.asgi_app = page_cache_module.PageCacheMiddleware(  # type: ignore[method-assign]
            app, app.asgi_app, settings, name
        )
    if settings.trusted_proxy_hops > 0:
        app.asgi_app = ProxyFixMiddleware(  # type: ignore[method-assign]
            app.asgi_app, mode="legacy", trusted_hops=settings.trusted_proxy_hops
        )
    return app


def _install_template_helpers(app: Quart, settings: Settings, name: str) -> None:
    def app_url(app_name: str, path: str = "/") -> str:
        return settings.app(app_name).public_url.rstrip("/") + path

    app.jinja_env.globals.update(
        app_name=name,
        app_title=settings.app(name).title,
        apps=settings.apps,
        app_url=app_url,
        csrf_token=csrf_token,
        csrf_field=csrf_field,
    )
    app.jinja_env.filters["money"] = format_money


def _install_lifecycle(app: Quart, settings: Settings) -> None:
    @app.before_serving
    async def open_pools() -> None:
        engine = dbmod.make_engine(settings.database_url)
        app.extensions["engine"] = engine
        app.extensions["sessionmaker"] = dbmod.make_sessionmaker(engine)
        app.extensions["redis"] = dbmod.make_redis(settings.redis_url)

    @app.after_serving
    async def close_pools() -> None:
        await app.extensions.pop("engine").dispose()
        await app.extensions.pop("redis").aclose()


def _install_request_hooks(app: Quart, settings: Settings) -> None:
    outages: OutageTracker = app.extensions["outages"]
    content_security_policy = "; ".join(
        [
            "default-src 'self'",
            "img-src 'self' https: data:",
            "style-src 'self'",
            "script-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self' " + " ".join(sorted({urls.public_url.rstrip("/") for urls in settings.apps.values()})),
        ]
    )

    @app.before_request
    async def start_request() -> None:
        g.started = time.perf_counter()
        sent_id = request.headers.get("X-Request-Id", "")
        g.request_id = sent_id if _REQUEST_ID.match(sent_id) else secrets.token_hex(8)
        if request.path == "/healthz" or request.path.startswith("/static/") or request.path in FAVICON_PATHS:
            return
        if isinstance(session, ServerSession) and session.unavailable_reason:
            raise dbmod.ServiceUnavailable("Redis", dbmod.address_of(settings.redis_url), session.unavailable_reason)
        try:
            await check_csrf()
        except CSRFError:
            # Without Redis there is no session and so no token. Respond 503 naming Redis, not "Form expired".
            # NOTE: a GET page with a form still renders while Redis is down; only its POST gets this 503.
            await check_session_store()
            raise

    @app.after_request
    async def finish_request(response: Response) -> Response:
        db_session = g.pop("db_session", None)
        if db_session is not None:
            try:
                if response.status_code < 400:
                    await db_session.commit()
                    outages.up("database")
                    await page_cache_module.refresh_changed_pages(db_session, app.extensions["redis"])
                else:
                    await db_session.rollback()
            finally:
                await db_session.close()
        response.headers["X-Request-Id"] = g.get("request_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("Content-Security-Policy", content_security_policy)
        if settings.app(app.name).is_https:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    @app.teardown_request
    async def close_session(error: BaseException | None) -> None:
        db_session = g.pop("db_session", None)
        if db_session is not None:
            await db_session.close()
        elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        access_log.info(
            "%s %s %s %s %.1fms id=%s from=%s",
            app.name,
            request.method,
            request.path,
            g.get("status", "-"),
            elapsed,
            g.get("request_id", "-"),
            request.remote_addr,
            # The ACCESS_LOG=errors filter of shared.infrastructure.logs reads the status from here.
            extra={"status": g.get("status")},
        )

    @app.after_request
    async def remember_status(response: Response) -> Response:
        g.status = response.status_code
        return response


async def _error_response(status: int, title: str, message: str) -> Response:
    if wants_json():
        response = jsonify({"error": title, "message": message, "status": status})
    else:
        html = await render_template("error.html", status=status, title=title, message=message)
        response = await current_app.make_response(html)
    response.status_code = status
    return response


def _install_error_handlers(app: Quart) -> None:
    outages: OutageTracker = app.extensions["outages"]

    @app.errorhandler(HTTPException)
    async def http_error(error: HTTPException) -> Any:
        status = error.code or 500
        titles = {
            400: "Bad request",
            403: "Forbidden",
            404: "Page not found",
            405: "Method not allowed",
            413: "Request too large",
        }
        messages = {
            404: "There is nothing at this address. Check the link, or start again from the home page.",
            413: "What you sent is larger than we accept. Send something smaller.",
        }
        title = titles.get(status, error.name)
        message = messages.get(status) if status in messages and error.description == type(error).description else None
        return await _error_response(status, title, message or error.description or title)

    @app.errorhandler(CSRFError)
    async def csrf_error(error: CSRFError) -> Any:
        return await _error_response(400, "Form expired", error.description)

    @app.errorhandler(Exception)
    async def unexpected_error(error: Exception) -> Any:
        service = dbmod.is_outage(error)
        if service is not None:
            outages.down(service, dbmod.describe(error))
            unreachable = "Redis, where it keeps sessions" if service == "redis" else "its database (PostgreSQL)"
            message = f"The site is briefly unavailable because it cannot reach {unreachable}. Please try again in a minute."
            response = await _error_response(503, "Temporarily unavailable", message)
            response.headers["Retry-After"] = "30"
            return response
        log.exception("request %s failed", g.get("request_id", "-"))
        message = f"Something went wrong on our side. If it keeps happening, quote reference {g.get('request_id', '-')}."
        return await _error_response(500, "Server error", message)



def _install_health(app: Quart, settings: Settings, name: str) -> None:
    @app.get("/healthz")
    async def healthz() -> Any:
        report = {"app": name, "database": "ok", "redis": "ok"}
        try:
            await dbmod.check_database(app.extensions["engine"])
        except dbmod.ServiceUnavailable as error:
            report["database"] = f"unreachable: {error.reason}"
        try:
            await dbmod.check_redis(app.extensions["redis"], settings.redis_url)
        except dbmod.ServiceUnavailable as error:
            report["redis"] = f"unreachable: {error.reason}"
        healthy = report["database"] == "ok" and report["redis"] == "ok"
        return jsonify(report), 200 if healthy else 503


def _install_favicons(app: Quart) -> None:
    async def send_favicon(filename: str, mimetype: str) -> Response:
        return await send_file(
            SHARED_STATIC / filename, mimetype=mimetype, cache_timeout=FAVICON_MAX_AGE_SECONDS, conditional=True
        )

    @app.get("/favicon.ico")
    async def favicon_ico() -> Response:
        return await send_favicon("favicon.ico", "image/vnd.microsoft.icon")

    @app.get("/favicon.svg")
    async def favicon_svg() -> Response:
        return await send_favicon("favicon.svg", "image/svg+xml")

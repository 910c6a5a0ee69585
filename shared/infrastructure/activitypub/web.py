"""Helpers the ActivityPub views share: JSON responses, the inbox endpoint, the fetcher."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from quart import Quart, Response, current_app, request

from shared.infrastructure.config import Settings
from shared.infrastructure.db import get_session

from .actors import app_actor, signing_key
from .fetch import RemoteFetcher
from .inbox import InboxRequest, receive_activity
from .signatures import HTTPSignatureAuth
from .vocab import ACTIVITY_JSON, JRD_JSON, prefers_activity_json

FETCHER_KEY = "activitypub_fetcher"
SIGNER_KEY = "activitypub_signer"


def install_fetcher(app: Quart, settings: Settings) -> None:
    @app.before_serving
    async def open_fetcher() -> None:
        app.extensions[FETCHER_KEY] = RemoteFetcher(settings.allow_private_fetch)

    @app.after_serving
    async def close_fetcher() -> None:
        fetcher = app.extensions.pop(FETCHER_KEY, None)
        if fetcher is not None:
            await fetcher.aclose()


def settings_of_app() -> Settings:
    return current_app.extensions["settings"]


def wants_activity_json() -> bool:
    return prefers_activity_json(request.headers.get("Accept"))


def activity_response(document: dict[str, Any], status: int = 200, media_type: str = ACTIVITY_JSON) -> Response:
    response = Response(json.dumps(document, ensure_ascii=False), status=status, content_type=media_type)
    response.vary.add("Accept")
    response.headers["Cache-Control"] = "max-age=60, public"
    return response


def jrd_response(document: dict[str, Any]) -> Response:
    response = Response(json.dumps(document), content_type=JRD_JSON)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def error_response(status: int, message: str) -> Response:
    return Response(json.dumps({"error": message}), status=status, content_type="application/json")


async def instance_signer(settings: Settings) -> HTTPSignatureAuth:
    """Return the signer for this app's own fetches, as its app actor, built once per process.

    The app actors' keypair is created in a transaction of its own, so a
    request that is later rolled back cannot take a key this signer uses.
    """
    signer = current_app.extensions.get(SIGNER_KEY)
    if signer is None:
        async with current_app.extensions["sessionmaker"]() as session, session.begin():
            instance = await app_actor(session, settings, current_app.extensions["app_name"])
            signer = HTTPSignatureAuth(*await signing_key(session, settings, instance))
        current_app.extensions[SIGNER_KEY] = signer
    return signer


def raw_target() -> str:
    """Return the path and query exactly as the client sent them, before any decoding."""
    raw_path = request.scope.get("raw_path") or request.path.encode("utf-8")
    target = raw_path.decode("latin-1")
    query = request.scope.get("query_string") or b""
    return target + ("?" + query.decode("latin-1") if query else "")


async def handle_inbox_post(recipient_uri: str, recipient_actor_id: int | None) -> Response:
    """Verify and store one inbox delivery, then return 202, or the error status with a JSON reason."""
    settings = settings_of_app()
    session = get_session()
    body = await request.get_data()
    auth = await instance_signer(settings)
    inbox_request = InboxRequest(
        method=request.method, target=raw_target(), host=settings.app(current_app.extensions["app_name"]).host,
        headers={name.lower(): ", ".join(request.headers.getlist(name)) for name in request.headers.keys()}, body=body,
    )
    outcome = await receive_activity(
        session, current_app.extensions[FETCHER_KEY], auth, inbox_request,
        recipient_uri=recipient_uri, recipient_actor_id=recipient_actor_id,
        max_age=timedelta(seconds=settings.signature_max_age_seconds),
        max_future=timedelta(seconds=settings.signature_max_future_seconds),
    )
    if outcome.status >= 400:
        return error_response(outcome.status, outcome.message)
    return Response(json.dumps({"status": outcome.message}), status=outcome.status, content_type="application/json")

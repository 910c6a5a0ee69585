"""Helpers for driving federation's OAuth endpoints through Quart test clients."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import asyncpg
import httpx

from shared.infrastructure.config import Settings
from shared.infrastructure.db import make_engine, make_sessionmaker
from shared.services.oauth_clients import RegisteredClient, add_client, register_first_party_client
from tests.conftest import asyncpg_dsn
from tests.helpers import csrf_from, text_of

BLOG_CALLBACK = "http://blog.test/auth/callback"
TEST_CLIENT_SECRET = "test-oauth-client-secret"
THIRD_PARTY_CALLBACK = "https://client.example/callback"
NAVIGATION = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def query_of(location: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


async def in_database(settings: Settings, work):
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()


async def register_blog(settings: Settings) -> None:
    await in_database(settings, lambda session: register_first_party_client(session, settings, "blog"))


async def register_third_party(settings: Settings, public: bool = False) -> RegisteredClient:
    return await in_database(
        settings, lambda session: add_client(session, "Example Reader", [THIRD_PARTY_CALLBACK], public)
    )


async def execute(settings: Settings, statement: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(settings.database_url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def fetch_value(settings: Settings, query: str):
    connection = await asyncpg.connect(asyncpg_dsn(settings.database_url))
    try:
        return await connection.fetchval(query)
    finally:
        await connection.close()


async def sign_in(client, login: str = "alice", password: str = "rose-ash-dev"):
    token = csrf_from(await text_of(await client.get("/login")))
    response = await client.post("/login", form={"csrf_token": token, "login": login, "password": password})
    assert response.status_code == 302, await text_of(response)
    return response


def authorize_path(client_id: str = "blog", redirect_uri: str = BLOG_CALLBACK, **extra: str) -> str:
    params = {
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
        "scope": "openid profile", "state": "state-123", "nonce": "nonce-456", **extra,
    }
    return "/oauth/authorize?" + urlencode({name: value for name, value in params.items() if value is not None})


async def code_for(client, challenge: str | None, client_id: str = "blog", redirect_uri: str = BLOG_CALLBACK) -> str:
    """Authorize as the signed-in member and return the code from the redirect."""
    extra = {"code_challenge": challenge, "code_challenge_method": "S256"} if challenge else {}
    response = await client.get(authorize_path(client_id, redirect_uri, **extra))
    assert response.status_code == 302, await text_of(response)
    params = query_of(response.headers["Location"])
    assert "code" in params, params
    return params["code"]


async def exchange(
    client, code: str, verifier: str | None, redirect_uri: str = BLOG_CALLBACK, headers: dict[str, str] | None = None
):
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        form["code_verifier"] = verifier
    return await client.post(
        "/oauth/token", form=form, headers=headers or basic("blog", TEST_CLIENT_SECRET)
    )


class AppRouter(httpx.AsyncBaseTransport):
    """Send each request to the in-process app whose internal URL has the request's host and port."""

    def __init__(self, apps: dict[str, object]) -> None:
        self.transports = {host: httpx.ASGITransport(app=app) for host, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.transports[f"{request.url.host}:{request.url.port}"].handle_async_request(request)


async def follow_to_federation(apps, path: str = "/auth/login?next=/tag/news/"):
    """Start at blog, sign in at federation, and return blog's callback response."""
    blog, federation = apps["blog"], apps["federation"]
    start = await blog.get(path)
    authorize = urlsplit(start.headers["Location"])
    assert authorize.netloc == "federation.test"
    answer = await federation.get(f"{authorize.path}?{authorize.query}")
    if answer.headers["Location"].startswith("/login"):
        await sign_in(federation)
        answer = await federation.get(f"{authorize.path}?{authorize.query}")
    callback = urlsplit(answer.headers["Location"])
    assert callback.netloc == "blog.test"
    return await blog.get(f"{callback.path}?{callback.query}")


def another_browser(apps: dict) -> dict:
    """Return test clients of the same running apps with a cookie jar of their own."""
    return {name: client.app.test_client() for name, client in apps.items()}

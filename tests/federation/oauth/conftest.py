"""Fixtures for the OAuth provider tests: federation with the blog registered as its client."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from shared.infrastructure.config import APP_NAMES
from shared.infrastructure.devstack import free_port
from tests.federation.oauth.support import AppRouter, register_blog, sign_in
from tests.helpers import settings_for


@pytest.fixture
async def federation(app_client, settings):
    await register_blog(settings)
    return await app_client("federation")


@pytest.fixture
async def signed_in(federation):
    await sign_in(federation)
    return federation


@pytest.fixture
async def apps(app_client, demo_database_url, clean_redis):
    # Distinct internal URLs on free ports without a listener, so the router can tell the apps apart.
    internal = {f"{name.upper()}_INTERNAL_URL": f"http://127.0.0.1:{free_port()}" for name in APP_NAMES}
    settings = settings_for(demo_database_url, clean_redis, **internal)
    clients = {name: await app_client(name, settings) for name in ("federation", "blog", "account")}
    router = AppRouter({urlsplit(settings.app(name).internal_url).netloc: client.app for name, client in clients.items()})
    for client in clients.values():
        client.app.extensions["oauth_http_transport"] = router
    return clients

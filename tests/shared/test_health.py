"""/healthz on every app, and what it says when PostgreSQL or Redis is gone."""

from __future__ import annotations

import pytest

from shared.infrastructure.config import APP_NAMES
from shared.infrastructure.devstack import free_port
from tests.helpers import settings_for


@pytest.mark.parametrize("name", APP_NAMES)
async def test_healthz_reports_ok_for_every_app(app_client, name):
    client = await app_client(name)
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert await response.get_json() == {"app": name, "database": "ok", "redis": "ok"}


async def test_healthz_names_an_unreachable_database(app_client, clean_redis):
    dead = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"
    client = await app_client("market", settings_for(dead, clean_redis))
    response = await client.get("/healthz")
    body = await response.get_json()
    assert response.status_code == 503
    assert body["app"] == "market"
    assert body["redis"] == "ok"
    assert body["database"].startswith("unreachable")


async def test_healthz_names_an_unreachable_redis(app_client, demo_database_url):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    client = await app_client("events", settings_for(demo_database_url, dead))
    response = await client.get("/healthz")
    body = await response.get_json()
    assert response.status_code == 503
    assert body["database"] == "ok"
    assert body["redis"].startswith("unreachable")

"""A database or Redis outage is a 503 page, logged once per outage."""

from __future__ import annotations

import logging

from shared.infrastructure.devstack import free_port
from tests.helpers import settings_for, text_of


async def test_database_outage_is_a_503_page_logged_once(app_client, clean_redis, caplog):
    dead = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"
    client = await app_client("blog", settings_for(dead, clean_redis))
    caplog.set_level(logging.INFO, logger="rose_ash.outage")
    for _ in range(3):
        response = await client.get("/")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "30"
        assert "briefly unavailable" in await text_of(response)
    outage_lines = [record for record in caplog.records if record.name == "rose_ash.outage"]
    assert len(outage_lines) == 1
    assert "database is unreachable" in outage_lines[0].getMessage()


async def test_database_outage_on_an_api_route_is_json(app_client, clean_redis):
    dead = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"
    client = await app_client("blog", settings_for(dead, clean_redis))
    response = await client.get("/", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert (await response.get_json())["error"] == "Temporarily unavailable"


async def test_redis_outage_is_a_503_page(app_client, demo_database_url, caplog):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    client = await app_client("cart", settings_for(demo_database_url, dead))
    response = await client.get("/", headers={"Cookie": "cart_session=abc"})
    assert response.status_code == 503
    assert "briefly unavailable" in await text_of(response)


async def test_recovery_is_logged_once_when_the_database_is_back(app_client, clean_redis, demo_database_url, caplog):
    dead = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"
    app_settings = settings_for(dead, clean_redis)
    client = await app_client("blog", app_settings)
    caplog.set_level(logging.INFO, logger="rose_ash.outage")
    assert (await client.get("/")).status_code == 503
    # Point the running app's pool at a live database, as when the server comes back.
    from shared.infrastructure.db import make_engine, make_sessionmaker

    app = client.app
    await app.extensions["engine"].dispose()
    app.extensions["engine"] = make_engine(demo_database_url)
    app.extensions["sessionmaker"] = make_sessionmaker(app.extensions["engine"])
    assert (await client.get("/")).status_code == 200
    assert (await client.get("/")).status_code == 200
    messages = [record.getMessage() for record in caplog.records if record.name == "rose_ash.outage"]
    assert len(messages) == 2
    assert "reachable again" in messages[1]

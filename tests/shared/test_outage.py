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
    assert "cannot reach Redis" in await text_of(response)


async def test_redis_outage_form_post_503(app_client, demo_database_url):
    # Without Redis no session cookie was ever set, so the form arrives with no session behind it.
    dead = f"redis://127.0.0.1:{free_port()}/0"
    client = await app_client("cart", settings_for(demo_database_url, dead))
    response = await client.post("/add", form={"csrf_token": "from-a-page-whose-session-was-lost"})
    body = await text_of(response)
    assert response.status_code == 503
    assert "cannot reach Redis" in body
    assert "Form expired" not in body


async def test_form_post_without_session_is_still_form_expired(app_client, settings):
    client = await app_client("cart", settings)
    response = await client.post("/add", form={"csrf_token": "from-a-page-whose-session-was-lost"})
    assert response.status_code == 400
    assert "Form expired" in await text_of(response)


async def test_redis_outage_sign_in_callback_is_503(app_client, demo_database_url):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    client = await app_client("cart", settings_for(demo_database_url, dead))
    response = await client.get("/auth/callback?state=started-while-redis-was-down&code=x")
    body = await text_of(response)
    assert response.status_code == 503
    assert "cannot reach Redis" in body
    assert "did not keep our cookie" not in body


async def test_redis_outage_json_names_redis(app_client, demo_database_url):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    client = await app_client("cart", settings_for(demo_database_url, dead))
    response = await client.post("/add", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert "cannot reach Redis" in (await response.get_json())["message"]


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

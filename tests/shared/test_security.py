"""Headers, cookies, CSRF, request ids and trusted proxies."""

from __future__ import annotations

import dataclasses

from quart import request

from tests.helpers import csrf_from, set_cookie, text_of


async def test_pages_carry_the_security_headers(app_client):
    client = await app_client("blog")
    response = await client.get("/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "http://cart.test" in response.headers["Content-Security-Policy"]  # forms may post to our apps
    assert "Strict-Transport-Security" not in response.headers  # the test URLs are plain http


async def test_https_public_url_sets_hsts_and_secure_cookies(app_client, settings):
    apps = dict(settings.apps)
    apps["federation"] = dataclasses.replace(apps["federation"], public_url="https://federation.example")
    client = await app_client("federation", dataclasses.replace(settings, apps=apps))
    response = await client.get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


async def test_request_id_generated_or_kept(app_client):
    client = await app_client("market")
    generated = await client.get("/")
    assert len(generated.headers["X-Request-Id"]) == 16
    kept = await client.get("/", headers={"X-Request-Id": "abc-123"})
    assert kept.headers["X-Request-Id"] == "abc-123"
    replaced = await client.get("/", headers={"X-Request-Id": "bad id with spaces"})
    assert replaced.headers["X-Request-Id"] != "bad id with spaces"


async def test_session_cookie_absent_without_form(app_client):
    client = await app_client("blog")
    response = await client.get("/")
    assert "Set-Cookie" not in response.headers


async def test_csrf_token_from_another_session_is_refused(app_client):
    first = await app_client("federation")
    second = await app_client("federation")
    token = csrf_from(await text_of(await first.get("/login")))
    await second.get("/login")
    response = await second.post("/login", form={"csrf_token": token, "login": "alice", "password": "rose-ash-dev"})
    assert response.status_code == 400
    assert "Form expired" in await text_of(response)


async def test_csrf_token_in_a_header_is_accepted(app_client):
    client = await app_client("federation")
    token = csrf_from(await text_of(await client.get("/login")))
    response = await client.post(
        "/login", form={"login": "alice", "password": "rose-ash-dev"}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 302


async def test_signing_in_gives_a_new_session_id(app_client):
    client = await app_client("federation")
    page = await client.get("/login")
    before = page.headers["Set-Cookie"].split(";")[0]
    token = csrf_from(await text_of(page))
    response = await client.post("/login", form={"csrf_token": token, "login": "alice", "password": "rose-ash-dev"})
    after = set_cookie(response, "federation_session").split(";")[0]
    assert before.startswith("federation_session=")
    assert before != after


async def test_trusted_proxy_headers_are_used_only_when_configured(app_client, settings):
    def probe_route(app):
        @app.get("/_probe")
        async def probe():
            return {"scheme": request.scheme, "remote": request.remote_addr}

    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    import blog.app

    untrusting = blog.app.create_app(settings)
    probe_route(untrusting)
    async with untrusting.test_app() as running:
        body = await (await running.test_client().get("/_probe", headers=forwarded)).get_json()
    assert body["scheme"] == "http"
    assert body["remote"] != "203.0.113.7"

    trusting = blog.app.create_app(dataclasses.replace(settings, trusted_proxy_hops=1))
    probe_route(trusting)
    async with trusting.test_app() as running:
        body = await (await running.test_client().get("/_probe", headers=forwarded)).get_json()
    assert body == {"scheme": "https", "remote": "203.0.113.7"}


async def test_unexpected_error_500_with_reference(app_client, settings, caplog):
    import blog.app

    app = blog.app.create_app(settings)

    @app.get("/_boom")
    async def boom():
        raise RuntimeError("a bug")

    async with app.test_app() as running:
        response = await running.test_client().get("/_boom")
    html = await text_of(response)
    assert response.status_code == 500
    assert f"quote reference {response.headers['X-Request-Id']}" in html
    assert "a bug" not in html
    assert any("failed" in record.getMessage() for record in caplog.records)


async def test_api_routes_get_json_errors(app_client):
    client = await app_client("blog")
    response = await client.get("/api/nothing")
    assert response.status_code == 404
    assert (await response.get_json())["error"] == "Page not found"

"""The account app sends anonymous visitors to sign in on federation."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit


async def test_anonymous_visitor_is_redirected_to_the_sign_in_page(app_client):
    client = await app_client("account")
    response = await client.get("/")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("http", "federation.test", "/login")
    assert parse_qs(location.query)["next"] == ["http://account.test/"]


async def test_unknown_account_page_is_the_404_page(app_client):
    client = await app_client("account")
    assert (await client.get("/nothing-here")).status_code == 404

"""The account app sends visitors who are not signed in through federation's sign-in."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit


async def test_anonymous_visitor_is_sent_to_sign_in(app_client):
    client = await app_client("account")
    response = await client.get("/")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/auth/login"
    assert parse_qs(location.query)["next"] == ["/"]


async def test_unknown_account_page_is_the_404_page(app_client):
    client = await app_client("account")
    assert (await client.get("/nothing-here")).status_code == 404

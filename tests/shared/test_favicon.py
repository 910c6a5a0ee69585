"""The favicon every app serves, and the links to it in the shared page header."""

from __future__ import annotations

import struct

import pytest

from shared.infrastructure.config import APP_NAMES
from tests.helpers import text_of


@pytest.mark.parametrize("name", APP_NAMES)
async def test_favicon_ico_served_by_every_app(app_client, name):
    client = await app_client(name)
    response = await client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/vnd.microsoft.icon"
    assert response.cache_control.public
    assert response.cache_control.max_age >= 24 * 3600
    assert "Set-Cookie" not in response.headers
    body = await response.get_data()
    reserved, image_type, image_count = struct.unpack("<HHH", body[:6])
    assert (reserved, image_type) == (0, 1)
    assert image_count >= 1


@pytest.mark.parametrize("name", APP_NAMES)
async def test_favicon_svg_served_by_every_app(app_client, name):
    client = await app_client(name)
    response = await client.get("/favicon.svg")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("image/svg+xml")
    assert response.cache_control.max_age >= 24 * 3600
    assert (await response.get_data()).lstrip().startswith(b"<svg")


async def test_favicon_revalidates_with_etag(app_client):
    client = await app_client("market")
    first = await client.get("/favicon.ico")
    again = await client.get("/favicon.ico", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("name", ["blog", "market", "events"])
async def test_page_head_links_the_icons(app_client, name):
    client = await app_client(name)
    html = await text_of(await client.get("/"))
    assert '<link rel="icon" href="/favicon.ico"' in html
    assert '<link rel="icon" href="/favicon.svg" type="image/svg+xml">' in html

"""The market's pages on the demo data."""

from __future__ import annotations

from tests.helpers import text_of


async def test_index_lists_markets_and_their_products_with_prices(app_client):
    client = await app_client("market")
    response = await client.get("/")
    html = await text_of(response)
    assert response.status_code == 200
    assert "Saturday Market" in html
    assert "Craft Market" in html
    assert '<a href="/product/sourdough-loaf/">Sourdough loaf</a>' in html
    assert "£4.50" in html


async def test_product_page_shows_price_producer_and_add_to_cart_link(app_client):
    client = await app_client("market")
    response = await client.get("/product/wool-scarf/")
    html = await text_of(response)
    assert response.status_code == 200
    assert "<h1>Wool scarf</h1>" in html
    assert "£38.00" in html
    assert "Hedge &amp; Loom" in html
    assert 'href="http://cart.test/add/' in html


async def test_sold_out_product_has_no_add_to_cart_link(app_client):
    client = await app_client("market")
    html = await text_of(await client.get("/product/wool-blanket/"))
    assert "Sold out." in html
    assert "/add/" not in html


async def test_unknown_product_is_the_404_page(app_client):
    client = await app_client("market")
    response = await client.get("/product/unicorn/")
    assert response.status_code == 404
    assert "Page not found" in await text_of(response)

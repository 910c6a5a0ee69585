"""The cart: empty at first, filled by a form POST, names and prices from the market service."""

from __future__ import annotations

import re

import asyncpg

from tests.conftest import asyncpg_dsn
from tests.helpers import csrf_from, text_of


async def _product_id(database_url: str, slug: str) -> int:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return await connection.fetchval("SELECT id FROM products WHERE slug = $1", slug)
    finally:
        await connection.close()


async def _cart_item_count(database_url: str) -> int:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return await connection.fetchval("SELECT count(*) FROM cart_items")
    finally:
        await connection.close()


async def test_cart_empty_for_new_visitor(app_client):
    client = await app_client("cart")
    response = await client.get("/")
    assert response.status_code == 200
    assert "Your cart is empty." in await text_of(response)


async def test_add_shows_name_and_price(app_client, settings):
    client = await app_client("cart")
    product_id = await _product_id(settings.database_url, "sourdough-loaf")
    form_page = await client.get(f"/add/{product_id}")
    form_html = await text_of(form_page)
    assert form_page.status_code == 200
    assert "Sourdough loaf" in form_html
    response = await client.post(
        "/add", form={"csrf_token": csrf_from(form_html), "product_id": str(product_id), "quantity": "2"}
    )
    assert response.status_code == 302
    html = await text_of(await client.get("/"))
    line = re.search(r'<tr class="cart-line".*?</tr>', html, re.S).group(0)
    assert "Sourdough loaf" in line
    assert "£4.50" in line
    assert "£9.00" in line
    assert '<th class="total">£9.00</th>' in html


async def test_adding_the_same_product_twice_adds_up(app_client, settings):
    client = await app_client("cart")
    product_id = await _product_id(settings.database_url, "apple-juice")
    token = csrf_from(await text_of(await client.get(f"/add/{product_id}")))
    for quantity in ("1", "3"):
        await client.post("/add", form={"csrf_token": token, "product_id": str(product_id), "quantity": quantity})
    html = await text_of(await client.get("/"))
    assert "<td>4</td>" in html
    assert "£14.00" in html


async def test_removing_a_product_empties_the_cart(app_client, settings):
    client = await app_client("cart")
    product_id = await _product_id(settings.database_url, "rye-loaf")
    token = csrf_from(await text_of(await client.get(f"/add/{product_id}")))
    await client.post("/add", form={"csrf_token": token, "product_id": str(product_id), "quantity": "1"})
    response = await client.post("/remove", form={"csrf_token": token, "product_id": str(product_id)})
    assert response.status_code == 302
    assert "Your cart is empty." in await text_of(await client.get("/"))


async def test_carts_are_per_visitor(app_client, settings):
    product_id = await _product_id(settings.database_url, "rye-loaf")
    first = await app_client("cart")
    token = csrf_from(await text_of(await first.get(f"/add/{product_id}")))
    await first.post("/add", form={"csrf_token": token, "product_id": str(product_id), "quantity": "1"})
    second = await app_client("cart")
    assert "Your cart is empty." in await text_of(await second.get("/"))


async def test_add_malformed_quantity_saves_nothing(app_client, settings):
    client = await app_client("cart")
    product_id = await _product_id(settings.database_url, "sourdough-loaf")
    token = csrf_from(await text_of(await client.get(f"/add/{product_id}")))
    for bad in ("", "two", "0", "-1", "100", "1.5"):
        response = await client.post("/add", form={"csrf_token": token, "product_id": str(product_id), "quantity": bad})
        html = await text_of(response)
        assert response.status_code == 400, bad
        assert "Quantity must be a whole number from 1 to 99." in html
        assert 'name="quantity"' in html
    assert await _cart_item_count(settings.database_url) == 0


async def test_add_unknown_product_saves_nothing(app_client, settings):
    client = await app_client("cart")
    product_id = await _product_id(settings.database_url, "sourdough-loaf")
    token = csrf_from(await text_of(await client.get(f"/add/{product_id}")))
    for bad in ("999999", "abc", ""):
        response = await client.post("/add", form={"csrf_token": token, "product_id": bad, "quantity": "1"})
        assert response.status_code == 400
        assert "That product is not in the market" in await text_of(response)
    assert await _cart_item_count(settings.database_url) == 0


async def test_sold_out_product_is_refused(app_client, settings):
    client = await app_client("cart")
    product_id = await _product_id(settings.database_url, "wool-blanket")
    token = csrf_from(await text_of(await client.get(f"/add/{product_id}")))
    response = await client.post("/add", form={"csrf_token": token, "product_id": str(product_id), "quantity": "1"})
    assert response.status_code == 400
    assert "Wool blanket is sold out." in await text_of(response)
    assert await _cart_item_count(settings.database_url) == 0


async def test_add_form_unknown_product_404(app_client):
    client = await app_client("cart")
    assert (await client.get("/add/999999")).status_code == 404


async def test_add_without_csrf_token_rejected(app_client, settings):
    client = await app_client("cart")
    product_id = await _product_id(settings.database_url, "sourdough-loaf")
    await client.get(f"/add/{product_id}")
    response = await client.post("/add", form={"product_id": str(product_id), "quantity": "1"})
    assert response.status_code == 400
    assert "This form has expired or was not sent from this site" in await text_of(response)
    wrong = await client.post("/add", form={"csrf_token": "forged", "product_id": str(product_id), "quantity": "1"})
    assert wrong.status_code == 400
    assert await _cart_item_count(settings.database_url) == 0


async def test_quantity_capped_at_the_maximum_says_so(app_client, settings):
    client = await app_client("cart")
    product_id = await _product_id(settings.database_url, "apple-juice")
    token = csrf_from(await text_of(await client.get(f"/add/{product_id}")))
    for quantity in ("60", "60"):
        await client.post("/add", form={"csrf_token": token, "product_id": str(product_id), "quantity": quantity})
    html = await text_of(await client.get("/"))
    assert "<td>99</td>" in html
    assert "the most one cart can hold" in html


async def test_visitor_cart_moves_at_sign_in(app_client, settings):
    import json

    import redis.asyncio as aioredis

    client = await app_client("cart")
    product_id = await _product_id(settings.database_url, "rye-loaf")
    token = csrf_from(await text_of(await client.get(f"/add/{product_id}")))
    await client.post("/add", form={"csrf_token": token, "product_id": str(product_id), "quantity": "2"})
    # Sign the visitor in as bob, as the sign-in callback does: the same session now names a member.
    cookie = next(c for c in client.cookie_jar if c.name == "cart_session")
    redis_client = aioredis.Redis.from_url(settings.redis_url)
    key = f"session:cart:{cookie.value}"
    data = json.loads(await redis_client.get(key))
    connection = await asyncpg.connect(asyncpg_dsn(settings.database_url))
    try:
        data["member_id"] = await connection.fetchval("SELECT id FROM members WHERE username = 'bob'")
        await redis_client.set(key, json.dumps(data))
        html = await text_of(await client.get("/"))
        owners = await connection.fetch("SELECT member_id, session_key FROM carts")
    finally:
        await connection.close()
        await redis_client.aclose()
    assert "Dark rye loaf" in html
    assert "<td>2</td>" in html
    assert [(row["member_id"], row["session_key"]) for row in owners] == [(data["member_id"], None)]


async def _add_as_visitor(client, database_url: str, slug: str, quantity: str):
    product_id = await _product_id(database_url, slug)
    token = csrf_from(await text_of(await client.get(f"/add/{product_id}")))
    return await client.post("/add", form={"csrf_token": token, "product_id": str(product_id), "quantity": quantity})


async def test_visitor_cart_cookie_attributes(app_client, settings):
    import dataclasses

    client = await app_client("cart", dataclasses.replace(settings, shared_cookie_domain="rose-ash.test"))
    response = await _add_as_visitor(client, settings.database_url, "rye-loaf", "1")
    cart_cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("rose_ash_cart="))
    assert "Domain=rose-ash.test" in cart_cookie
    assert "HttpOnly" in cart_cookie
    assert "SameSite=Lax" in cart_cookie
    assert "Path=/" in cart_cookie


async def test_visitor_cart_found_by_cookie_alone(app_client, settings):
    """Check that the cart cookie alone, without the cart app's session, finds the visitor's cart."""
    client = await app_client("cart")
    await _add_as_visitor(client, settings.database_url, "rye-loaf", "2")
    cart_cookie = next(cookie for cookie in client.cookie_jar if cookie.name == "rose_ash_cart")
    fresh = await app_client("cart")
    html = await text_of(await fresh.get("/", headers={"Cookie": f"rose_ash_cart={cart_cookie.value}"}))
    assert "Dark rye loaf" in html
    assert "<td>2</td>" in html


async def test_sign_in_deletes_visitor_cart_cookie(app_client, settings):
    import json

    import redis.asyncio as aioredis

    client = await app_client("cart")
    await _add_as_visitor(client, settings.database_url, "rye-loaf", "1")
    cookie = next(c for c in client.cookie_jar if c.name == "cart_session")
    redis_client = aioredis.Redis.from_url(settings.redis_url)
    key = f"session:cart:{cookie.value}"
    data = json.loads(await redis_client.get(key))
    connection = await asyncpg.connect(asyncpg_dsn(settings.database_url))
    try:
        data["member_id"] = await connection.fetchval("SELECT id FROM members WHERE username = 'alice'")
        await redis_client.set(key, json.dumps(data))
        response = await client.get("/")
    finally:
        await connection.close()
        await redis_client.aclose()
    deletions = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("rose_ash_cart=")]
    assert len(deletions) == 1
    assert "Max-Age=0" in deletions[0] or "Expires=Thu, 01 Jan 1970" in deletions[0]
    assert "Dark rye loaf" in await text_of(response)

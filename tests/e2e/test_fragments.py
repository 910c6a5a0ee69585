"""Pages composed from other apps' fragments, over real HTTP between running apps."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from shared.infrastructure import internal_auth
from shared.infrastructure.db import make_engine, make_sessionmaker
from tests.conftest import asyncpg_dsn
from shared.infrastructure.devstack import AppProcesses

CART_COUNT = re.compile(r'class="cart-mini"[^>]*data-count="(\d+)"')


@pytest.fixture
def apps(demo_database_url, clean_redis, tmp_path):
    running = AppProcesses(demo_database_url, clean_redis, tmp_path)
    running.start()
    yield running
    running.stop()


async def _member_id(database_url: str, username: str) -> int:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return await connection.fetchval("SELECT id FROM members WHERE username = $1", username)
    finally:
        await connection.close()


async def signed_in_client(apps: AppProcesses, username: str) -> httpx.AsyncClient:
    """A client whose blog and cart sessions belong to ``username``, as after signing in."""
    member_id = await _member_id(apps.database_url, username)
    client = httpx.AsyncClient(timeout=10)
    redis_client = aioredis.Redis.from_url(apps.redis_url)
    for app in ("blog", "cart"):
        session_id = secrets.token_urlsafe(32)
        await redis_client.set(f"session:{app}:{session_id}", json.dumps({"member_id": member_id}), ex=3600)
        client.cookies.set(f"{app}_session", session_id, domain="127.0.0.1")
    await redis_client.aclose()
    return client


async def add_to_cart(client: httpx.AsyncClient, apps: AppProcesses, slug: str, quantity: int) -> None:
    product = await client.get(f"{apps.urls['market']}/product/{slug}/")
    add_link = re.search(r'href="([^"]+/add/\d+)"', product.text).group(1)
    form = await client.get(add_link)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    product_id = re.search(r'name="product_id" value="(\d+)"', form.text).group(1)
    response = await client.post(
        f"{apps.urls['cart']}/add", data={"csrf_token": token, "product_id": product_id, "quantity": str(quantity)}
    )
    assert response.status_code == 302


async def cart_count_on_blog(client: httpx.AsyncClient, apps: AppProcesses) -> str:
    page = await client.get(f"{apps.urls['blog']}/")
    assert page.status_code == 200
    match = CART_COUNT.search(page.text)
    assert match, "no cart-mini fragment in the blog header"
    return match.group(1)


async def test_cart_count_follows_each_member(apps):
    alice = await signed_in_client(apps, "alice")
    bob = await signed_in_client(apps, "bob")
    anonymous = httpx.AsyncClient(timeout=10)
    try:
        assert await cart_count_on_blog(alice, apps) == "0"
        await add_to_cart(alice, apps, "sourdough-loaf", 2)
        assert await cart_count_on_blog(alice, apps) == "2"
        assert await cart_count_on_blog(bob, apps) == "0"
        assert await cart_count_on_blog(anonymous, apps) == "0"
        await add_to_cart(bob, apps, "apple-juice", 1)
        assert await cart_count_on_blog(bob, apps) == "1"
        assert await cart_count_on_blog(alice, apps) == "2"
    finally:
        for client in (alice, bob, anonymous):
            await client.aclose()


async def cart_count_on(client: httpx.AsyncClient, url: str, status: int = 200) -> str:
    page = await client.get(url)
    assert page.status_code == status, url
    match = CART_COUNT.search(page.text)
    assert match, f"no cart-mini fragment in the header of {url}"
    return match.group(1)


async def test_visitor_cart_count_on_every_app(apps):
    visitor = httpx.AsyncClient(timeout=10)
    second_visitor = httpx.AsyncClient(timeout=10)
    try:
        # Before the visitor adds anything, the blog stores its anonymous front page in the page cache.
        assert await cart_count_on_blog(visitor, apps) == "0"
        await add_to_cart(visitor, apps, "sourdough-loaf", 1)
        assert visitor.cookies.get("rose_ash_cart")
        for name in ("blog", "market", "cart", "events", "federation"):
            assert await cart_count_on(visitor, apps.urls[name] + "/") == "1", name
        # The account app sends visitors from its pages to sign in; its "not found" page has the header too.
        assert await cart_count_on(visitor, apps.urls["account"] + "/no-such-page", status=404) == "1"
        blog_page = await visitor.get(f"{apps.urls['blog']}/")
        assert "X-Page-Cache" not in blog_page.headers
        assert await cart_count_on_blog(second_visitor, apps) == "0"
        assert await cart_count_on(second_visitor, apps.urls["market"] + "/") == "0"
        await add_to_cart(visitor, apps, "apple-juice", 2)
        assert await cart_count_on_blog(visitor, apps) == "3"
        assert await cart_count_on_blog(second_visitor, apps) == "0"
        await add_to_cart(second_visitor, apps, "rye-loaf", 5)
        assert await cart_count_on_blog(second_visitor, apps) == "5"
        assert await cart_count_on_blog(visitor, apps) == "3"
    finally:
        await visitor.aclose()
        await second_visitor.aclose()


async def test_visitor_with_cart_never_enters_page_cache(apps):
    async with httpx.AsyncClient(timeout=10) as visitor:
        await add_to_cart(visitor, apps, "sourdough-loaf", 1)
        first = await visitor.get(f"{apps.urls['blog']}/welcome/")
        second = await visitor.get(f"{apps.urls['blog']}/welcome/")
    assert "X-Page-Cache" not in first.headers
    assert "X-Page-Cache" not in second.headers
    async with httpx.AsyncClient(timeout=10) as newcomer:
        page = await newcomer.get(f"{apps.urls['blog']}/welcome/")
    assert page.headers["X-Page-Cache"] == "miss"
    assert CART_COUNT.search(page.text).group(1) == "0"


async def test_blog_page_survives_the_cart_app_being_down(apps):
    apps.stop("cart")
    async with httpx.AsyncClient(timeout=10) as client:
        page = await client.get(f"{apps.urls['blog']}/")
        assert page.status_code == 200
        assert 'data-fragment="cart/cart-mini"' in page.text
        assert "Latest posts" in page.text
        assert 'class="site-nav"' in page.text
        apps.start("cart")
        back = await client.get(f"{apps.urls['blog']}/")
        assert 'class="cart-mini"' in back.text
        assert 'data-fragment="cart/cart-mini"' not in back.text


async def test_cart_down_keeps_last_good_copy(apps):
    async with httpx.AsyncClient(timeout=10) as client:
        await client.get(f"{apps.urls['blog']}/?page=1")
        apps.stop("cart")
        redis_client = aioredis.Redis.from_url(apps.redis_url)
        # Let the fresh copy go as if its short lifetime had passed; the last good copy stays.
        fresh = [key async for key in redis_client.scan_iter(match="fragment:cart:cart-mini:*:anonymous")]
        await redis_client.delete(*fresh)
        await redis_client.aclose()
        page = await client.get(f"{apps.urls['blog']}/?page=2")
    assert page.status_code == 200
    assert 'class="cart-mini"' in page.text


def _fragment_fetches(apps: AppProcesses) -> dict[str, int]:
    counts = {}
    for name in ("blog", "cart", "account", "events", "market"):
        log = apps.log_path(name).read_text()
        counts[name] = len(re.findall(r"rose_ash.access: \w+ GET /internal/fragments/", log))
    return counts


async def test_hundred_cold_requests_fetch_each_fragment_once(apps):
    before = _fragment_fetches(apps)
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        responses = await asyncio.gather(*(client.get(f"{apps.urls['blog']}/") for _ in range(100)))
    assert {response.status_code for response in responses} == {200}
    # The access log line is written when a request ends, so wait for the last ones to reach the file.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and sum(_fragment_fetches(apps).values()) - sum(before.values()) < 5:
        await asyncio.sleep(0.1)
    after = _fragment_fetches(apps)
    fetched = {name: after[name] - before[name] for name in after}
    # blog: nav; cart: cart-mini; account: account-menu; events: upcoming; market: featured.
    assert fetched == {"blog": 1, "cart": 1, "account": 1, "events": 1, "market": 1}


@pytest.mark.parametrize("credential", ["missing", "wrong", "expired"])
def test_internal_endpoint_refuses_a_bad_credential(apps, credential):
    target = "/internal/fragments/cart-mini"
    headers = {}
    if credential == "wrong":
        headers[internal_auth.HEADER] = internal_auth.sign("not-the-secret", "GET", target, None)
    elif credential == "expired":
        headers[internal_auth.HEADER] = internal_auth.sign("test-internal-secret", "GET", target, None, time.time() - 120)
    response = httpx.get(apps.urls["cart"] + target, headers=headers, timeout=10)
    assert response.status_code == 403
    assert f"rejected GET {target}" in apps.log_path("cart").read_text()


def test_internal_endpoint_serves_a_valid_credential(apps):
    target = "/internal/fragments/cart-mini"
    headers = {internal_auth.HEADER: internal_auth.sign("test-internal-secret", "GET", target, None)}
    response = httpx.get(apps.urls["cart"] + target, headers=headers, timeout=10)
    assert response.status_code == 200
    assert 'class="cart-mini"' in response.text


def test_internal_endpoint_answers_404_for_an_unknown_type(apps):
    target = "/internal/fragments/weather"
    headers = {internal_auth.HEADER: internal_auth.sign("test-internal-secret", "GET", target, None)}
    response = httpx.get(apps.urls["cart"] + target, headers=headers, timeout=10)
    assert response.status_code == 404


async def test_edited_navigation_shows_on_the_next_blog_page(apps):
    from blog.services.navigation import replace_navigation

    async with httpx.AsyncClient(timeout=10) as client:
        first = await client.get(f"{apps.urls['blog']}/")
        assert ">About</a>" in first.text
        cached = await client.get(f"{apps.urls['blog']}/")
        assert cached.headers["X-Page-Cache"] == "hit"
        engine = make_engine(apps.database_url)
        redis_client = aioredis.Redis.from_url(apps.redis_url)
        try:
            await replace_navigation(make_sessionmaker(engine), redis_client, [("Home", "/"), ("Our farms", "/farms/")])
        finally:
            await engine.dispose()
            await redis_client.aclose()
        after = await client.get(f"{apps.urls['blog']}/")
    assert ">Our farms</a>" in after.text
    assert ">About</a>" not in after.text


async def test_page_cache_serves_anonymous_page(apps):
    async with httpx.AsyncClient(timeout=10) as client:
        first = await client.get(f"{apps.urls['blog']}/welcome/")
        second = await client.get(f"{apps.urls['blog']}/welcome/")
    assert first.headers["X-Page-Cache"] == "miss"
    assert second.headers["X-Page-Cache"] == "hit"
    assert second.text == first.text


async def test_signed_in_member_never_gets_a_cached_page(apps):
    alice = await signed_in_client(apps, "alice")
    bob = await signed_in_client(apps, "bob")
    try:
        async with httpx.AsyncClient(timeout=10) as anonymous:
            await anonymous.get(f"{apps.urls['blog']}/")
            cached = await anonymous.get(f"{apps.urls['blog']}/")
        alice_page = await alice.get(f"{apps.urls['blog']}/")
        bob_page = await bob.get(f"{apps.urls['blog']}/")
    finally:
        await alice.aclose()
        await bob.aclose()
    assert cached.headers["X-Page-Cache"] == "hit"
    assert "X-Page-Cache" not in alice_page.headers
    assert "Signed in as <strong>Alice Ash</strong>" in alice_page.text
    assert "Alice Ash" not in bob_page.text
    assert "Signed in as" not in cached.text


async def test_published_post_refreshes_page_cache(apps):
    from sqlalchemy import select

    from blog.services.publishing import publish_post
    from shared.infrastructure.page_cache import refresh_changed_pages
    from shared.models import Post
    from tests.helpers import settings_for

    async with httpx.AsyncClient(timeout=10) as client:
        await client.get(f"{apps.urls['blog']}/")
        cached = await client.get(f"{apps.urls['blog']}/")
        assert cached.headers["X-Page-Cache"] == "hit"
        engine = make_engine(apps.database_url)
        redis_client = aioredis.Redis.from_url(apps.redis_url)
        try:
            async with make_sessionmaker(engine)() as session:
                async with session.begin():
                    post = Post(slug="harvest-supper", title="Harvest supper on Saturday", html="<p>Bring a dish.</p>")
                    session.add(post)
                    await session.flush()
                    await publish_post(session, settings_for(apps.database_url, apps.redis_url), post)
                await refresh_changed_pages(session, redis_client)
                assert await session.scalar(select(Post.status).where(Post.slug == "harvest-supper")) == "published"
        finally:
            await engine.dispose()
            await redis_client.aclose()
        after = await client.get(f"{apps.urls['blog']}/")
    assert "Harvest supper on Saturday" in after.text
    assert after.headers["X-Page-Cache"] == "miss"

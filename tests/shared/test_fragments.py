"""The internal credential, fragment cache keys and the page cache's rules."""

from __future__ import annotations

import time

import pytest
from quart import render_template_string

from shared.infrastructure import internal_auth
from shared.infrastructure.fragments import FragmentRequest, cache_key

SECRET = "s3cret"


def test_credential_round_trip_carries_the_member():
    header = internal_auth.sign(SECRET, "GET", "/internal/fragments/cart-mini?x=1", 42)
    caller = internal_auth.verify(SECRET, header, "GET", "/internal/fragments/cart-mini?x=1")
    assert caller.member_id == 42


def test_credential_round_trip_carries_the_cart_key():
    cart_key = "k" * 32
    header = internal_auth.sign(SECRET, "GET", "/internal/fragments/cart-mini", None, cart_key=cart_key)
    caller = internal_auth.verify(SECRET, header, "GET", "/internal/fragments/cart-mini")
    assert caller.member_id is None
    assert caller.cart_key == cart_key


def test_credential_without_cart_key_has_none():
    header = internal_auth.sign(SECRET, "GET", "/internal/fragments/cart-mini", None)
    assert internal_auth.verify(SECRET, header, "GET", "/internal/fragments/cart-mini").cart_key is None


@pytest.mark.parametrize("cart_key", ["short", "k" * 65, "has,comma-and-more-chars", "has=equals-and-more-chars"])
def test_sign_rejects_a_malformed_cart_key(cart_key):
    with pytest.raises(ValueError, match="invalid cart key"):
        internal_auth.sign(SECRET, "GET", "/internal/fragments/cart-mini", None, cart_key=cart_key)


NAV = "/internal/fragments/nav"
CART_MINI = "/internal/fragments/cart-mini"


@pytest.mark.parametrize(
    ("make_header", "target", "message"),
    [
        (lambda: None, NAV, "missing"),
        (lambda: "t=1,m=-", NAV, "malformed"),
        (lambda: internal_auth.sign(SECRET, "GET", NAV, None, time.time() - 120), NAV, "stale"),
        (lambda: internal_auth.sign(SECRET, "GET", NAV, None), "/internal/fragments/cart-mini", "wrong signature"),
        (lambda: internal_auth.sign(SECRET, "GET", NAV, 7).replace("m=7", "m=8"), NAV, "wrong signature"),
        (
            lambda: internal_auth.sign(SECRET, "GET", CART_MINI, None, cart_key="a" * 32).replace("a" * 32, "b" * 32),
            CART_MINI,
            "wrong signature",
        ),
        (
            lambda: internal_auth.sign(SECRET, "GET", CART_MINI, None, cart_key="a" * 32).replace(f"c={'a' * 32},", ""),
            CART_MINI,
            "wrong signature",
        ),
        (
            lambda: internal_auth.sign(SECRET, "GET", CART_MINI, None).replace("m=-,", "m=-,c=" + "a" * 32 + ","),
            CART_MINI,
            "wrong signature",
        ),
        (lambda: internal_auth.sign(SECRET, "GET", CART_MINI, None).replace("m=-,", "m=-,c=bad key,"), CART_MINI,
         "malformed cart key"),
    ],
)
def test_bad_credential_says_why(make_header, target, message):
    # Headers are made when the test runs, so "stale" means only the case built to be stale.
    with pytest.raises(internal_auth.InternalAuthError, match=message):
        internal_auth.verify(SECRET, make_header(), "GET", target)


def test_member_specific_fragments_are_cached_per_member():
    cart = FragmentRequest("cart", "cart-mini")
    keys = {cache_key(cart, 1), cache_key(cart, 2), cache_key(cart, None)}
    assert len(keys) == 3


def test_cart_mini_is_cached_per_visitor_cart():
    cart = FragmentRequest("cart", "cart-mini")
    first, second = "a" * 32, "b" * 32
    assert cache_key(cart, None, first) != cache_key(cart, None, second)
    assert cache_key(cart, None, first) != cache_key(cart, None)
    assert first not in cache_key(cart, None, first)
    # A member's copy depends on the member only, whatever cart cookie the browser still has.
    assert cache_key(cart, 7, first) == cache_key(cart, 7)


def test_cart_key_ignored_for_other_fragments():
    menu = FragmentRequest("account", "account-menu")
    assert cache_key(menu, None, "a" * 32) == cache_key(menu, None)
    nav = FragmentRequest("blog", "nav")
    assert cache_key(nav, None, "a" * 32) == cache_key(nav, None)


def test_shared_fragments_are_cached_once_for_everyone():
    nav = FragmentRequest("blog", "nav")
    assert cache_key(nav, 1) == cache_key(nav, None)


def test_fragment_parameters_are_part_of_the_key():
    assert cache_key(FragmentRequest("events", "upcoming", (("n", "3"),)), None) != cache_key(
        FragmentRequest("events", "upcoming", (("n", "5"),)), None
    )


async def test_page_with_a_csrf_token_is_never_cached(settings):
    import blog.app

    app = blog.app.create_app(settings)

    @app.get("/_plain")
    async def plain():
        return await render_template_string("<p>plain</p>")

    @app.get("/_form")
    async def form():
        return await render_template_string("<form>{{ csrf_field() }}</form>")

    async with app.test_app() as running:
        client = running.test_client()
        await client.get("/_plain")
        plain_again = await client.get("/_plain")
        await client.get("/_form")
        form_again = await client.get("/_form")
    assert plain_again.headers["X-Page-Cache"] == "hit"
    assert form_again.headers.get("X-Page-Cache") != "hit"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("", "html"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "html"),
        ("application/activity+json", "json"),
        ('application/ld+json; profile="https://www.w3.org/ns/activitystreams", text/html;q=0.1', "json"),
        ("*/*", "html"),
    ],
)
def test_page_cache_keys_on_the_representation(accept, expected):
    from shared.infrastructure.page_cache import representation_of

    assert representation_of(accept) == expected


async def test_fetch_failure_is_logged_once_per_key(settings, caplog):
    import logging

    import httpx
    import redis.asyncio as aioredis

    import blog.app
    from shared.infrastructure.fragments import FragmentClient

    app = blog.app.create_app(settings)
    redis_client = aioredis.Redis.from_url(settings.redis_url)
    client = FragmentClient(settings=settings, redis=redis_client, http=httpx.AsyncClient(trust_env=False))
    caplog.set_level(logging.WARNING, logger="shared.infrastructure.fragments")
    try:
        async with app.test_request_context("/"):
            for _ in range(3):
                [content] = await client.fetch_all([FragmentRequest("cart", "cart-mini")], None)
                assert 'data-fragment="cart/cart-mini"' in content
    finally:
        await client.http.aclose()
        await redis_client.aclose()
    warnings = [record for record in caplog.records if "cart/cart-mini unavailable" in record.getMessage()]
    assert len(warnings) == 1

"""The apps as separate processes over real HTTP, and a member's journey in a real browser.

Each app runs under ``rose-ash serve`` on a free port of 127.0.0.1, against
this test's own database; public URLs point at those ports so links between
apps work as they do in production.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import httpx
import pytest

from shared.infrastructure.devstack import AppProcesses

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def running_apps(demo_database_url: str, clean_redis: str, tmp_path) -> Iterator[dict[str, str]]:
    apps = AppProcesses(demo_database_url, clean_redis, tmp_path)
    try:
        apps.start()
        yield apps.urls
    finally:
        apps.stop()


def test_every_app_answers_its_home_page_over_http(running_apps):
    expectations = {
        "blog": "Latest posts",
        "market": "Saturday Market",
        "cart": "Your cart is empty.",
        "events": "Events in",
        "federation": "Alice Ash",
    }
    with httpx.Client(timeout=10) as client:
        for name, text in expectations.items():
            response = client.get(running_apps[name] + "/")
            assert response.status_code == 200, name
            assert text in response.text, name
        account = client.get(running_apps["account"] + "/")
        assert account.status_code == 302
        assert account.headers["location"] == "/auth/login?next=%2F"


def test_cart_add_from_market_over_http(running_apps):
    with httpx.Client(timeout=10, follow_redirects=True) as client:
        product = client.get(running_apps["market"] + "/product/apple-box/")
        add_link = re.search(r'href="([^"]+/add/\d+)"', product.text).group(1)
        assert add_link.startswith(running_apps["cart"])
        form = client.get(add_link)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        product_id = re.search(r'name="product_id" value="(\d+)"', form.text).group(1)
        cart = client.post(
            running_apps["cart"] + "/add", data={"csrf_token": token, "product_id": product_id, "quantity": "3"}
        )
        assert cart.status_code == 200
        assert "Box of apples" in cart.text
        assert "£27.00" in cart.text


def _launch_chromium(playwright):
    assert os.path.exists(CHROMIUM), "Chromium is missing: install Debian's chromium package (.ci/run does)"
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--no-first-run", "--disable-quic"],
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_blog_menu_is_one_row_on_other_apps(running_apps, width):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = _launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": width, "height": 800})
            page.goto(running_apps["cart"] + "/")
            menu = page.locator("header ul.site-nav")
            assert menu.evaluate("element => getComputedStyle(element).listStyleType") == "none"
            tops = [item.bounding_box()["y"] for item in menu.locator("li").all()]
            assert len(tops) == 2
            assert len(set(tops)) == 1, f"the menu items are on {len(set(tops))} rows at {width} px"
            menu_box = menu.bounding_box()
            assert menu_box["x"] + menu_box["width"] <= width
            home = menu.get_by_role("link", name="Blog home")
            assert home.get_attribute("href") == running_apps["blog"] + "/"
        finally:
            browser.close()


def test_member_journey_in_a_real_browser(running_apps):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = _launch_chromium(playwright)
        try:
            page = browser.new_page()
            page.goto(running_apps["blog"] + "/")
            assert page.locator("h1").first.inner_text() == "Latest posts"
            page.get_by_role("link", name="Start here for a quick overview of everything you need to know").click()
            assert "Start here" in page.locator("article h1").inner_text()

            page.goto(running_apps["market"] + "/")
            page.get_by_role("link", name="Sourdough loaf").click()
            page.get_by_role("link", name="Add to cart").click()
            page.fill("#quantity", "nine")
            page.get_by_role("button", name="Add to cart").click()
            assert "Quantity must be a whole number from 1 to 99." in page.locator(".form-errors").inner_text()
            page.fill("#quantity", "2")
            page.get_by_role("button", name="Add to cart").click()
            row = page.locator("tr.cart-line")
            assert "Sourdough loaf" in row.inner_text()
            assert "£9.00" in row.inner_text()
            # The blog's front page was cached before the cart had anything; this visitor's header still counts 2.
            page.goto(running_apps["blog"] + "/")
            assert page.locator(".cart-mini").get_attribute("data-count") == "2"

            page.goto(running_apps["account"] + "/")
            assert page.url.startswith(running_apps["federation"] + "/login")
            page.goto(running_apps["federation"] + "/login?next=/@alice")
            page.fill("#login", "alice@example.org")
            page.fill("#password", "wrong")
            page.get_by_role("button", name="Sign in").click()
            assert "do not match a member" in page.locator(".form-errors").inner_text()
            page.fill("#password", "rose-ash-dev")
            page.get_by_role("button", name="Sign in").click()
            assert page.url == running_apps["federation"] + "/@alice"
            assert page.locator("h1").inner_text() == "Alice Ash"
        finally:
            browser.close()

"""Single sign-on across running apps: a third-party Authlib client, the journey over HTTP and in Chromium.

Every app runs as its own process (``rose-ash serve``) on a free port of
127.0.0.1, against this test's database and Redis.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator

import warnings

import httpx
import pytest
from authlib.common.security import generate_token
from joserfc import jwt
from joserfc.jwk import KeySet

from shared.infrastructure.devstack import AppProcesses, free_port

import authlib.deprecate  # noqa: E402,F401  (installs its own filter, which the block below must override)

with warnings.catch_warnings():
    # NOTE: Authlib 1.9 warns that it will move from httpx to the httpx2 package; the client still uses httpx.
    warnings.simplefilter("ignore")
    from authlib.integrations.httpx_client import AsyncOAuth2Client

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def apps(demo_database_url, clean_redis, tmp_path) -> Iterator[AppProcesses]:
    running = AppProcesses(demo_database_url, clean_redis, tmp_path)
    try:
        running.start()
        yield running
    finally:
        running.stop()


def _csrf(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def _register_client(apps: RunningApps, redirect_uri: str) -> tuple[str, str]:
    result = subprocess.run(
        [sys.executable, "-m", "shared.infrastructure.cli", "oauth", "client", "add",
         "--name", "Test Reader", "--redirect-uri", redirect_uri],
        env=apps.environ(), capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    client_id = re.search(r"client_id: (\S+)", result.stdout).group(1)
    secret = re.search(r"client_secret: (\S+)", result.stdout).group(1)
    return client_id, secret


async def _approve_in_browser(federation: str, authorization_url: str) -> str:
    """Sign alice in at federation, allow the client, and return the redirect back to it."""
    async with httpx.AsyncClient(timeout=10) as browser:
        form = await browser.get(f"{federation}/login")
        await browser.post(f"{federation}/login", data={
            "csrf_token": _csrf(form.text), "login": "alice", "password": "rose-ash-dev",
        })
        consent = await browser.get(authorization_url)
        assert "Allow Test Reader to use your Rose Ash account?" in consent.text
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', consent.text))
        answer = await browser.post(f"{federation}/oauth/authorize", data={**fields, "decision": "allow"})
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]


async def test_authlib_client_runs_code_pkce_refresh_revoke(apps):
    federation = apps.urls["federation"]
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    client_id, secret = _register_client(apps, redirect_uri)
    async with httpx.AsyncClient(timeout=10) as plain:
        metadata = (await plain.get(f"{federation}/.well-known/openid-configuration")).json()
        keys = KeySet.import_key_set((await plain.get(metadata["jwks_uri"])).json())

    verifier = generate_token(64)
    nonce = generate_token(24)
    async with AsyncOAuth2Client(
        client_id, secret, scope="openid profile", redirect_uri=redirect_uri, code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic", timeout=10,
    ) as client:
        url, state = client.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        back = await _approve_in_browser(federation, url)
        assert f"state={state}" in back
        token = await client.fetch_token(
            metadata["token_endpoint"], authorization_response=back, code_verifier=verifier
        )

        claims = jwt.decode(token["id_token"], keys, algorithms=["RS256"]).claims
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": federation}, aud={"essential": True, "value": client_id},
            nonce={"essential": True, "value": nonce},
        ).validate(claims)
        assert claims["sub"] == f"{federation}/users/alice"

        userinfo = await client.get(metadata["userinfo_endpoint"])
        assert userinfo.json()["preferred_username"] == "alice"

        refreshed = await client.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
        assert refreshed["refresh_token"] != token["refresh_token"]

        revoked = await client.revoke_token(metadata["revocation_endpoint"], token=refreshed["access_token"])
        assert revoked.status_code == 200
    async with httpx.AsyncClient(timeout=10) as plain:
        after = await plain.get(
            metadata["userinfo_endpoint"], headers={"Authorization": f"Bearer {refreshed['access_token']}"}
        )
    assert after.status_code == 401


def _signed_in_name(client: httpx.Client, app_url: str) -> str | None:
    """The member an app's session holds, as its sign-out page names them (None when signed out)."""
    match = re.search(r'class="auth-member">You are signed in as ([^(<]+) \(', client.get(f"{app_url}/auth/logout").text)
    return match.group(1) if match else None


def test_sso_journey_over_http(apps):
    urls = apps.urls
    with httpx.Client(timeout=10, follow_redirects=True) as browser:
        form = browser.get(f"{urls['blog']}/auth/login", params={"next": "/"})
        assert form.url.path == "/login"
        assert str(form.url).startswith(urls["federation"])
        signed_in = browser.post(f"{urls['federation']}/login", data={
            "csrf_token": _csrf(form.text), "login": "alice@example.org", "password": "rose-ash-dev",
            "next": form.url.params["next"],
        })
        assert str(signed_in.url) == f"{urls['blog']}/"
        assert _signed_in_name(browser, urls["blog"]) == "Alice Ash"

        account = browser.get(f"{urls['account']}/")
        assert str(account.url) == f"{urls['account']}/"
        assert "Hello, Alice Ash" in account.text

        market = browser.get(f"{urls['market']}/auth/login", params={"next": "/"})
        assert str(market.url) == f"{urls['market']}/"
        leave = browser.get(f"{urls['market']}/auth/logout")
        left = browser.post(f"{urls['market']}/auth/logout", data={"csrf_token": _csrf(leave.text)})
        assert str(left.url) == f"{urls['market']}/"

        assert _signed_in_name(browser, urls["blog"]) is None
        assert _signed_in_name(browser, urls["market"]) is None
        account = browser.get(f"{urls['account']}/")
        assert str(account.url).startswith(f"{urls['federation']}/login")


def _sign_in_at_blog(browser: httpx.Client, urls: dict[str, str]) -> None:
    form = browser.get(f"{urls['blog']}/auth/login", params={"next": "/"})
    browser.post(f"{urls['federation']}/login", data={
        "csrf_token": _csrf(form.text), "login": "alice", "password": "rose-ash-dev", "next": form.url.params["next"],
    })
    assert _signed_in_name(browser, urls["blog"]) == "Alice Ash"


def test_password_change_signs_out_other_browser(apps):
    urls = apps.urls
    with httpx.Client(timeout=10, follow_redirects=True) as here, httpx.Client(timeout=10, follow_redirects=True) as there:
        _sign_in_at_blog(here, urls)
        _sign_in_at_blog(there, urls)
        form = here.get(f"{urls['federation']}/password")
        changed = here.post(f"{urls['federation']}/password", data={
            "csrf_token": _csrf(form.text), "current_password": "rose-ash-dev",
            "new_password": "a brand new password", "new_password_confirmation": "a brand new password",
        })
        assert "You were signed out of 2 other sessions, in 1 other browser or device." in changed.text

        assert _signed_in_name(here, urls["blog"]) == "Alice Ash"
        assert _signed_in_name(there, urls["blog"]) is None
        account = there.get(f"{urls['account']}/")
        assert str(account.url).startswith(f"{urls['federation']}/login")


NAVIGATION = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Accept": "text/html"}


def _sign_in_at_federation(browser: httpx.Client, urls: dict[str, str]) -> None:
    form = browser.get(f"{urls['federation']}/login")
    signed_in = browser.post(f"{urls['federation']}/login", data={
        "csrf_token": _csrf(form.text), "login": "alice", "password": "rose-ash-dev",
    })
    assert signed_in.status_code == 200


def test_page_cache_skips_sso_browser(apps):
    urls = apps.urls
    with httpx.Client(timeout=10) as crawler:
        crawler.get(f"{urls['blog']}/")
        assert crawler.get(f"{urls['blog']}/").headers["X-Page-Cache"] == "hit"

    with httpx.Client(timeout=10, follow_redirects=True, headers=NAVIGATION) as browser:
        _sign_in_at_federation(browser, urls)
        page = browser.get(f"{urls['blog']}/")

    assert "X-Page-Cache" not in page.headers
    assert "Signed in as <strong>Alice Ash</strong>" in page.text


def test_sign_in_again_reaches_every_app(apps):
    urls = apps.urls
    with httpx.Client(timeout=10, follow_redirects=True, headers=NAVIGATION) as browser:
        _sign_in_at_federation(browser, urls)
        assert "Signed in as" in browser.get(f"{urls['market']}/").text
        leave = browser.get(f"{urls['market']}/auth/logout")
        browser.post(f"{urls['market']}/auth/logout", data={"csrf_token": _csrf(leave.text)})
        assert "Signed in as" not in browser.get(f"{urls['market']}/").text

        _sign_in_at_federation(browser, urls)
        pages = {name: browser.get(f"{urls[name]}/").text for name in ("blog", "market", "cart", "events")}

    for name, text in pages.items():
        assert "Signed in as <strong>Alice Ash</strong>" in text, name


def test_sso_journey_in_chromium(apps):
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}; install Debian's chromium package to run the browser journey")
    urls = apps.urls
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{urls['blog']}/")
            assert page.url == f"{urls['blog']}/"
            page.goto(f"{urls['blog']}/auth/login?next=/")
            assert page.url.startswith(f"{urls['federation']}/login")
            page.fill("#login", "alice@example.org")
            page.fill("#password", "rose-ash-dev")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{urls['blog']}/")
            page.goto(f"{urls['blog']}/auth/logout")
            assert "You are signed in as Alice Ash" in page.locator(".auth-member").inner_text()

            page.goto(f"{urls['account']}/")
            assert page.url == f"{urls['account']}/"
            assert page.locator("h1").inner_text() == "Hello, Alice Ash"

            # market has never seen this browser: its silent check signs the member in.
            page.goto(f"{urls['market']}/")
            assert page.url == f"{urls['market']}/"
            page.goto(f"{urls['market']}/auth/logout")
            assert "You are signed in as Alice Ash" in page.locator(".auth-member").inner_text()
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url(f"{urls['market']}/")

            page.goto(f"{urls['blog']}/auth/logout")
            assert page.locator(".auth-signed-out").count() == 1
            page.goto(f"{urls['account']}/")
            assert page.url.startswith(f"{urls['federation']}/login")
        finally:
            browser.close()

"""The client side on the five apps: /auth/login, /auth/callback, /auth/logout and back-channel logout.

The apps talk to each other through httpx transports that call the other
app in-process, by the host of each app's internal URL.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pytest

from tests.federation.oauth.support import NAVIGATION, follow_to_federation, query_of, sign_in
from tests.helpers import csrf_from, text_of


async def test_login_returns_to_the_page_it_came_from(apps):
    response = await follow_to_federation(apps)
    assert response.status_code == 302
    assert response.headers["Location"] == "/tag/news/"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "http://blog.test/"])
async def test_next_off_site_is_ignored(apps, target):
    response = await follow_to_federation(apps, "/auth/login?" + urlencode({"next": target}))
    assert response.headers["Location"] == "/"


async def test_client_sign_in_changes_the_session_id(apps):
    blog = apps["blog"]
    start = await blog.get("/auth/login?next=/")
    before = start.headers["Set-Cookie"].split(";")[0]
    response = await follow_to_federation(apps, "/auth/login?next=/")
    after = response.headers["Set-Cookie"].split(";")[0]
    assert after.startswith("blog_session=")
    assert before != after


async def test_client_cookie_flags(apps):
    cookie = (await follow_to_federation(apps)).headers["Set-Cookie"]
    assert cookie.startswith("blog_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Domain=" not in cookie


async def test_authorization_request_uses_pkce_s256(apps):
    params = query_of((await apps["blog"].get("/auth/login")).headers["Location"])
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert params["redirect_uri"] == "http://blog.test/auth/callback"


async def test_callback_with_unknown_state_shows_an_error(apps):
    response = await apps["blog"].get("/auth/callback?code=abc&state=never-issued")
    assert response.status_code == 400
    assert "Location" not in response.headers


async def test_account_shows_the_member_after_blog_sign_in(apps):
    await follow_to_federation(apps)
    account, federation = apps["account"], apps["federation"]
    start = await account.get("/")
    login = await account.get(start.headers["Location"])
    authorize = urlsplit(login.headers["Location"])
    callback = urlsplit((await federation.get(f"{authorize.path}?{authorize.query}")).headers["Location"])
    await account.get(f"{callback.path}?{callback.query}")
    page = await account.get("/")
    assert page.status_code == 200
    assert "Hello, Alice Ash" in await text_of(page)


async def test_silent_bounce_happens_once(apps):
    blog, federation = apps["blog"], apps["federation"]
    first = await blog.get("/", headers=NAVIGATION)
    params = query_of(first.headers["Location"])
    assert params["prompt"] == "none"
    answer = await federation.get(urlsplit(first.headers["Location"]).path, query_string=params)
    callback = urlsplit(answer.headers["Location"])
    back = await blog.get(f"{callback.path}?{callback.query}")
    assert back.headers["Location"] == "/"
    again = await blog.get("/", headers=NAVIGATION)
    assert again.status_code == 200


async def test_silent_bounce_signs_in_a_federation_member(apps):
    blog, federation = apps["blog"], apps["federation"]
    await sign_in(federation)
    first = await blog.get("/tag/news/", headers=NAVIGATION)
    answer = await federation.get(urlsplit(first.headers["Location"]).path, query_string=query_of(first.headers["Location"]))
    callback = urlsplit(answer.headers["Location"])
    back = await blog.get(f"{callback.path}?{callback.query}")
    assert back.headers["Location"] == "/tag/news/"
    # Signed in: the account page of the same blog session would now need no sign-in, and logout has a hint.
    leave = await blog.post("/auth/logout", form={"csrf_token": csrf_from(await text_of(await blog.get("/auth/logout")))})
    assert "id_token_hint" in query_of(leave.headers["Location"])


async def test_requests_without_navigation_headers_are_not_bounced(apps):
    assert (await apps["blog"].get("/")).status_code == 200


async def test_sign_out_at_blog_ends_every_session(apps):
    await follow_to_federation(apps)
    blog, federation, account = apps["blog"], apps["federation"], apps["account"]
    token = csrf_from(await text_of(await blog.get("/auth/logout")))
    leave = await blog.post("/auth/logout", form={"csrf_token": token})
    end_session = urlsplit(leave.headers["Location"])
    assert end_session.path == "/oauth/logout"
    done = await federation.get(end_session.path, query_string=query_of(leave.headers["Location"]))
    assert done.headers["Location"] == "http://blog.test/"
    assert (await account.get("/")).headers["Location"].startswith("/auth/login")
    silent = await federation.get("/oauth/authorize", query_string={
        "client_id": "blog", "redirect_uri": "http://blog.test/auth/callback", "response_type": "code",
        "scope": "openid", "prompt": "none",
    })
    assert query_of(silent.headers["Location"])["error"] == "login_required"


async def test_backchannel_logout_clears_the_app_session(apps):
    await follow_to_federation(apps)
    blog, federation = apps["blog"], apps["federation"]
    token = csrf_from(await text_of(await federation.get("/logout")))
    await federation.post("/logout", form={"csrf_token": token})
    redis = blog.app.extensions["redis"]
    ended = [key async for key in redis.scan_iter("oidc:ended-sid:blog:*")]
    assert len(ended) == 1
    # The blog session is still in the blog's cookie jar; its next request must find it ended.
    leave = await blog.post("/auth/logout", form={"csrf_token": csrf_from(await text_of(await blog.get("/auth/logout")))})
    assert "id_token_hint" not in query_of(leave.headers["Location"])


async def test_backchannel_logout_rejects_a_forged_token(apps):
    response = await apps["blog"].post("/auth/backchannel-logout", form={"logout_token": "a.b.c"})
    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_request"

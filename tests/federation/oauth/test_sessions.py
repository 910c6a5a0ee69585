"""Signing out everywhere else: after a password change, from the button, and the limit on wrong current passwords.

Each "browser" is a set of test clients of the same running apps with a
cookie jar of its own. Alice signs in at the blog through federation in each.
"""

from __future__ import annotations

import pytest

from federation.services.signin_limits import MAX_WRONG_CURRENT_PASSWORDS, PASSWORD_CHANGE_BLOCKED_MESSAGE
from shared.infrastructure.sessions import member_index_key
from tests.federation.oauth.support import another_browser, fetch_value, follow_to_federation, sign_in
from tests.helpers import csrf_from, text_of

NEW_PASSWORD = "a brand new password"


async def _signed_in_at_blog(browser) -> bool:
    return 'class="auth-member"' in await text_of(await browser["blog"].get("/auth/logout"))


async def _signed_in_at_federation(browser) -> bool:
    return (await browser["federation"].get("/password")).status_code == 200


async def _change_password(federation, current: str, new: str = NEW_PASSWORD):
    token = csrf_from(await text_of(await federation.get("/password")))
    form = {"csrf_token": token, "current_password": current, "new_password": new, "new_password_confirmation": new}
    return await federation.post("/password", form=form)


async def _sign_out_others(federation):
    token = csrf_from(await text_of(await federation.get("/password")))
    return await federation.post("/sign-out-others", form={"csrf_token": token})


async def _alice_id(apps) -> int:
    return await fetch_value(apps["federation"].app.extensions["settings"], "SELECT id FROM members WHERE username = 'alice'")


async def _live_token_sids(apps) -> set[str]:
    settings = apps["federation"].app.extensions["settings"]
    rows = await fetch_value(
        settings, "SELECT array_agg(DISTINCT session_sid) FROM oauth_tokens WHERE revoked_at IS NULL"
    )
    return set(rows or [])


@pytest.fixture
async def two_browsers(apps):
    """Alice signed in at federation and the blog in two browsers; returns (this one, the other one)."""
    other = another_browser(apps)
    await follow_to_federation(apps)
    await follow_to_federation(other)
    assert await _signed_in_at_blog(apps)
    assert await _signed_in_at_blog(other)
    return apps, other


async def test_password_change_signs_out_other_browser(two_browsers):
    here, other = two_browsers
    response = await _change_password(here["federation"], "rose-ash-dev")
    html = await text_of(response)
    assert response.status_code == 200
    assert "Your password has been changed." in html
    assert "You were signed out of 2 other sessions, in 1 other browser or device." in html
    assert not await _signed_in_at_federation(other)
    assert not await _signed_in_at_blog(other)


async def test_password_change_keeps_this_browser(two_browsers):
    here, _ = two_browsers
    await _change_password(here["federation"], "rose-ash-dev")
    assert await _signed_in_at_federation(here)
    assert await _signed_in_at_blog(here)


async def test_password_change_revokes_other_tokens(two_browsers):
    here, _ = two_browsers
    assert len(await _live_token_sids(here)) == 2
    response = await _change_password(here["federation"], "rose-ash-dev")
    assert "1 application sign-in from elsewhere lost access" in await text_of(response)

    redis = here["federation"].app.extensions["redis"]
    remaining = {sid.decode() for sid in (await redis.hgetall(member_index_key(await _alice_id(here)))).values()}
    assert len(remaining) == 1
    assert await _live_token_sids(here) == remaining


async def test_password_change_alone_ends_nothing_else(apps):
    await sign_in(apps["federation"])
    response = await _change_password(apps["federation"], "rose-ash-dev")
    assert "You were not signed in anywhere else." in await text_of(response)


async def test_wrong_current_password_ends_no_session(two_browsers):
    here, other = two_browsers
    response = await _change_password(here["federation"], "not the password")
    assert response.status_code == 400
    assert await _signed_in_at_blog(other)
    assert len(await _live_token_sids(here)) == 2


async def test_sign_out_others_button(two_browsers):
    here, other = two_browsers
    page = await text_of(await here["federation"].get("/password"))
    assert "Sign out of all other devices" in page
    response = await _sign_out_others(here["federation"])
    assert response.status_code == 200
    assert "You were signed out of 2 other sessions, in 1 other browser or device." in await text_of(response)
    assert not await _signed_in_at_blog(other)
    assert not await _signed_in_at_federation(other)
    assert await _signed_in_at_blog(here)
    assert await _signed_in_at_federation(here)
    # The password is unchanged, so the other browser can sign in again with it.
    await sign_in(other["federation"])


async def test_sign_out_others_needs_sign_in(apps):
    federation = apps["federation"]
    token = csrf_from(await text_of(await federation.get("/login")))
    response = await federation.post("/sign-out-others", form={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


async def test_sign_out_others_without_csrf_is_refused(two_browsers):
    here, other = two_browsers
    response = await here["federation"].post("/sign-out-others")
    assert response.status_code == 400
    assert await _signed_in_at_blog(other)


async def test_signing_out_leaves_the_index(apps):
    federation = apps["federation"]
    await sign_in(federation)
    redis = federation.app.extensions["redis"]
    index = member_index_key(await _alice_id(apps))
    assert await redis.hlen(index) == 1
    await federation.post("/logout", form={"csrf_token": csrf_from(await text_of(await federation.get("/logout")))})
    assert await redis.hlen(index) == 0


async def test_wrong_current_passwords_are_limited(apps):
    federation = apps["federation"]
    await sign_in(federation)
    for _ in range(MAX_WRONG_CURRENT_PASSWORDS):
        assert (await _change_password(federation, "not the password")).status_code == 400
    blocked = await _change_password(federation, "rose-ash-dev")
    html = await text_of(blocked)
    assert blocked.status_code == 429
    assert PASSWORD_CHANGE_BLOCKED_MESSAGE in html
    assert 'name="current_password"' in html
    # The password stayed as it was.
    assert (await sign_in(another_browser(apps)["federation"])).status_code == 302


async def test_password_limit_is_per_member(apps):
    federation = apps["federation"]
    await sign_in(federation)
    for _ in range(MAX_WRONG_CURRENT_PASSWORDS):
        await _change_password(federation, "not the password")
    bob = another_browser(apps)["federation"]
    await sign_in(bob, "bob")
    assert (await _change_password(bob, "rose-ash-dev")).status_code == 200


async def test_password_success_clears_the_count(apps):
    federation = apps["federation"]
    await sign_in(federation)
    for _ in range(MAX_WRONG_CURRENT_PASSWORDS - 1):
        await _change_password(federation, "not the password")
    assert (await _change_password(federation, "rose-ash-dev")).status_code == 200
    for _ in range(MAX_WRONG_CURRENT_PASSWORDS - 1):
        await _change_password(federation, "not the password")
    assert (await _change_password(federation, NEW_PASSWORD, "another new password")).status_code == 200


async def test_new_password_problems_are_not_counted(apps):
    federation = apps["federation"]
    await sign_in(federation)
    for _ in range(MAX_WRONG_CURRENT_PASSWORDS):
        assert (await _change_password(federation, "rose-ash-dev", "short")).status_code == 400
    assert (await _change_password(federation, "rose-ash-dev")).status_code == 200

"""Members signing up, in and out at federation, changing passwords, and the failed sign-in limit."""

from __future__ import annotations

import pytest

from federation.services.known_devices import COOKIE_NAME as KNOWN_DEVICE_COOKIE
from federation.services.signin_limits import (
    BLOCKED_MESSAGE, MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_DEVICE,
)
from shared.infrastructure.sso_cookie import COOKIE_NAME as SSO_COOKIE
from tests.federation.oauth.support import sign_in
from tests.helpers import csrf_from, set_cookie, text_of


async def _attempt(client, login: str, password: str):
    token = csrf_from(await text_of(await client.get("/login")))
    return await client.post("/login", form={"csrf_token": token, "login": login, "password": password})


async def test_sign_in_form_without_csrf_is_refused(federation):
    await federation.get("/login")
    response = await federation.post("/login", form={"login": "alice", "password": "rose-ash-dev"})
    assert response.status_code == 400
    assert "Form expired" in await text_of(response)


async def test_sign_in_changes_the_session_id(federation):
    page = await federation.get("/login")
    before = page.headers["Set-Cookie"].split(";")[0]
    token = csrf_from(await text_of(page))
    response = await federation.post("/login", form={"csrf_token": token, "login": "alice", "password": "rose-ash-dev"})
    after = set_cookie(response, "federation_session").split(";")[0]
    assert before != after


async def test_session_cookie_flags(federation):
    cookie = set_cookie(await sign_in(federation), "federation_session")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Domain=" not in cookie
    assert "Secure" not in cookie  # the test public URL is plain http


async def test_account_limit_after_repeated_failures(federation):
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        assert (await _attempt(federation, "alice", "wrong")).status_code == 400
    blocked = await _attempt(federation, "alice", "rose-ash-dev")
    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts" in await text_of(blocked)


async def test_limit_applies_alike_to_unknown_names(federation):
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        assert (await _attempt(federation, "nobody-at-all", "wrong")).status_code == 400
    blocked = await _attempt(federation, "nobody-at-all", "wrong")
    assert blocked.status_code == 429
    assert BLOCKED_MESSAGE in await text_of(blocked)


async def test_address_limit_covers_every_account(federation):
    for number in range(MAX_FAILURES_PER_ADDRESS):
        await _attempt(federation, f"guess{number}", "wrong")
    assert (await _attempt(federation, "bob", "rose-ash-dev")).status_code == 429


async def test_success_clears_the_account_count(federation):
    for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
        await _attempt(federation, "alice", "wrong")
    assert (await _attempt(federation, "alice", "rose-ash-dev")).status_code == 302
    for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
        await _attempt(federation, "alice", "wrong")
    assert (await _attempt(federation, "alice", "rose-ash-dev")).status_code == 302


async def _sign_up(client, **fields: str):
    token = csrf_from(await text_of(await client.get("/signup")))
    form = {"csrf_token": token, "username": "carol", "email": "carol@example.org", "display_name": "Carol Ash",
            "password": "a long password", "password_confirmation": "a long password", **fields}
    return await client.post("/signup", form=form)


async def test_sign_up_creates_a_member_and_signs_in(federation):
    response = await _sign_up(federation)
    assert response.status_code == 302
    profile = await federation.get("/@carol")
    assert profile.status_code == 200
    assert "Carol Ash" in await text_of(profile)


async def test_signed_up_member_can_sign_in_again(federation):
    await _sign_up(federation)
    await federation.post("/logout", form={"csrf_token": csrf_from(await text_of(await federation.get("/logout")))})
    assert (await _attempt(federation, "carol@example.org", "a long password")).status_code == 302


async def test_sign_up_with_a_taken_username_is_refused(federation):
    response = await _sign_up(federation, username="alice", email="other@example.org")
    assert response.status_code == 400
    assert "already registered" in await text_of(response)


@pytest.mark.parametrize("username", ["blog", "events", "actor"])
async def test_sign_up_with_a_reserved_username_is_refused(federation, username):
    response = await _sign_up(federation, username=username, email=f"{username}@example.org")
    assert response.status_code == 400
    assert "is reserved for the platform itself" in await text_of(response)


async def test_sign_up_with_a_short_password_is_refused(federation):
    response = await _sign_up(federation, password="short", password_confirmation="short")
    assert response.status_code == 400
    assert "at least 10 characters" in await text_of(response)


async def test_sign_up_reports_every_password_error(federation):
    response = await _sign_up(federation, password="short", password_confirmation="other")
    page = await text_of(response)
    assert response.status_code == 400
    assert "Choose a password of at least 10 characters." in page
    assert "The two passwords differ." in page
    assert "Nothing was saved." in page


async def test_sign_up_reports_every_field_error(federation):
    response = await _sign_up(federation, username="Not Valid", email="nope", password="short", password_confirmation="")
    page = await text_of(response)
    assert response.status_code == 400
    assert "Choose a username of 1 to 30" in page
    assert "Enter a valid email address" in page
    assert "at least 10 characters" in page
    assert "The two passwords differ." in page


async def test_sign_up_welcomes_the_new_member(federation):
    response = await _sign_up(federation)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    landing = await text_of(await federation.get("/"))
    assert "Welcome to Rose Ash, Carol Ash." in landing
    assert "Your account @carol is ready" in landing
    # The notice is shown once.
    assert "Welcome to Rose Ash" not in await text_of(await federation.get("/"))


async def test_sign_up_welcome_on_next_page(federation):
    token = csrf_from(await text_of(await federation.get("/signup")))
    form = {"csrf_token": token, "username": "carol", "email": "carol@example.org", "display_name": "Carol Ash",
            "password": "a long password", "password_confirmation": "a long password", "next": "/@carol"}
    response = await federation.post("/signup", form=form)
    assert response.headers["Location"] == "/@carol"
    assert "Welcome to Rose Ash, Carol Ash." in await text_of(await federation.get("/@carol"))


async def test_sign_in_errors_have_sign_in_heading(federation):
    response = await _attempt(federation, "alice", "wrong")
    page = await text_of(response)
    assert response.status_code == 400
    assert "Could not sign you in:" in page
    assert "Nothing was saved" not in page


async def test_lockout_has_sign_in_heading(federation):
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        await _attempt(federation, "alice", "wrong")
    blocked = await _attempt(federation, "alice", "rose-ash-dev")
    page = await text_of(blocked)
    assert blocked.status_code == 429
    assert "Could not sign you in:" in page
    assert "Nothing was saved" not in page


async def _change_password(client, current: str, new: str, confirmation: str | None = None):
    token = csrf_from(await text_of(await client.get("/password")))
    form = {"csrf_token": token, "current_password": current, "new_password": new,
            "new_password_confirmation": new if confirmation is None else confirmation}
    return await client.post("/password", form=form)


async def test_change_password_takes_effect(federation):
    await sign_in(federation)
    response = await _change_password(federation, "rose-ash-dev", "a brand new password")
    assert response.status_code == 200
    assert "Your password has been changed." in await text_of(response)
    assert (await _attempt(federation, "alice", "a brand new password")).status_code == 302


async def test_change_password_needs_the_current_one(federation):
    await sign_in(federation)
    response = await _change_password(federation, "wrong", "a brand new password")
    page = await text_of(response)
    assert response.status_code == 400
    assert "current password is wrong" in page
    assert "After 5 wrong attempts within 15 minutes, password changes are paused" in page
    assert "Your password was not changed:" in page
    assert "Nothing was saved" not in page


async def test_change_to_same_password_rejected(federation):
    await sign_in(federation)
    response = await _change_password(federation, "rose-ash-dev", "rose-ash-dev")
    page = await text_of(response)
    assert response.status_code == 400
    assert "The new password is the same as your current one." in page
    assert "Your password has been changed." not in page
    assert (await _attempt(federation.app.test_client(), "alice", "rose-ash-dev")).status_code == 302


async def test_change_password_reports_every_error(federation):
    await sign_in(federation)
    response = await _change_password(federation, "rose-ash-dev", "short", "different")
    page = await text_of(response)
    assert response.status_code == 400
    assert "at least 10 characters" in page
    assert "The two passwords differ." in page


async def test_password_page_needs_sign_in(federation):
    response = await federation.get("/password")
    assert response.headers["Location"] == "/login?next=%2Fpassword"


async def test_sign_out_ends_the_federation_session(federation):
    await sign_in(federation)
    token = csrf_from(await text_of(await federation.get("/logout")))
    await federation.post("/logout", form={"csrf_token": token})
    response = await federation.get("/oauth/authorize?client_id=blog&redirect_uri=http%3A%2F%2Fblog.test%2Fauth%2Fcallback"
                                    "&response_type=code&scope=openid&prompt=none")
    assert "error=login_required" in response.headers["Location"]


def _cookie_value(client, name: str) -> str:
    return next(cookie.value for cookie in client.cookie_jar if cookie.name == name)


def _give_cookie(client, name: str, value: str) -> None:
    client.set_cookie("localhost", name, value)


async def _lock_account(client, login: str = "alice") -> None:
    """Type wrong passwords for ``login`` until the account limit returns 429."""
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        assert (await _attempt(client, login, "wrong")).status_code == 400
    assert (await _attempt(client, login, "rose-ash-dev")).status_code == 429


async def test_known_device_cookie_flags(federation):
    cookie = set_cookie(await sign_in(federation), KNOWN_DEVICE_COOKIE)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Max-Age=31536000" in cookie


async def test_known_device_survives_account_lock(federation):
    await sign_in(federation)
    await _lock_account(federation.app.test_client())
    assert (await _attempt(federation, "alice", "rose-ash-dev")).status_code == 302


async def test_known_device_failures_count_per_device(federation):
    await sign_in(federation)
    for _ in range(MAX_FAILURES_PER_DEVICE):
        assert (await _attempt(federation, "alice", "wrong")).status_code == 400
    assert (await _attempt(federation, "alice", "rose-ash-dev")).status_code == 429
    # The device's failures did not count against the account, so another browser still signs in.
    assert (await _attempt(federation.app.test_client(), "alice", "rose-ash-dev")).status_code == 302


async def test_known_device_meets_the_address_limit(federation):
    await sign_in(federation)
    stranger = federation.app.test_client()
    for number in range(MAX_FAILURES_PER_ADDRESS):
        await _attempt(stranger, f"guess{number}", "wrong")
    assert (await _attempt(federation, "alice", "rose-ash-dev")).status_code == 429


async def test_known_device_is_per_member(federation):
    await sign_in(federation, "bob")
    await _lock_account(federation.app.test_client())
    assert (await _attempt(federation, "alice", "rose-ash-dev")).status_code == 429
    assert (await _attempt(federation, "bob", "rose-ash-dev")).status_code == 302


async def test_known_device_for_username_and_email(federation):
    await sign_in(federation, "alice@example.org")
    await _lock_account(federation.app.test_client(), "alice")
    assert (await _attempt(federation, "alice", "rose-ash-dev")).status_code == 302


async def test_forged_device_cookie_is_ignored(federation):
    await sign_in(federation)
    genuine = _cookie_value(federation, KNOWN_DEVICE_COOKIE)
    stranger = federation.app.test_client()
    _give_cookie(stranger, KNOWN_DEVICE_COOKIE, genuine[:-4] + ("AAAA" if not genuine.endswith("AAAA") else "BBBB"))
    await _lock_account(stranger)
    assert (await _attempt(stranger, "alice", "rose-ash-dev")).status_code == 429


async def test_device_cookie_remembers_several_members(federation):
    await sign_in(federation, "bob")
    await sign_in(federation, "alice")
    stranger = federation.app.test_client()
    await _lock_account(stranger, "alice")
    await _lock_account(stranger, "bob")
    assert (await _attempt(federation, "alice", "rose-ash-dev")).status_code == 302
    assert (await _attempt(federation, "bob", "rose-ash-dev")).status_code == 302


async def test_sign_in_state_cookie_renewed_and_deleted(federation):
    first = set_cookie(await sign_in(federation), SSO_COOKIE)
    second = set_cookie(await sign_in(federation), SSO_COOKIE)
    assert "HttpOnly" in first
    assert "SameSite=Lax" in first
    assert first.split(";")[0] != second.split(";")[0]

    token = csrf_from(await text_of(await federation.get("/logout")))
    signed_out = await federation.post("/logout", form={"csrf_token": token})
    deleted = set_cookie(signed_out, SSO_COOKIE)
    assert deleted.startswith(f"{SSO_COOKIE}=;")
    assert "Max-Age=0" in deleted or "expires=Thu, 01 Jan 1970" in deleted


async def test_failed_sign_in_sets_no_state_cookie(federation):
    token = csrf_from(await text_of(await federation.get("/login")))
    response = await federation.post("/login", form={"csrf_token": token, "login": "alice", "password": "wrong"})
    assert response.status_code == 400
    assert not [header for header in response.headers.getlist("Set-Cookie") if header.startswith(f"{SSO_COOKIE}=")]

"""The authorization endpoint: redirect_uri matching, PKCE, state, prompt, max_age and consent."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.federation.oauth.support import (
    BLOG_CALLBACK, THIRD_PARTY_CALLBACK, authorize_path, exchange, pkce_pair, query_of, register_third_party,
)
from tests.helpers import csrf_from, text_of


@pytest.mark.parametrize(
    "redirect_uri",
    [
        pytest.param("http://blog.test/auth/other", id="different-path"),
        pytest.param(BLOG_CALLBACK + "x", id="extra-suffix"),
        pytest.param(BLOG_CALLBACK + "/more", id="extra-segment"),
        pytest.param("http://blog.test:8080/auth/callback", id="other-port"),
        pytest.param("http://blog.test/auth/../auth/callback", id="dot-dot-segments"),
        pytest.param("https://blog.test/auth/callback", id="different-scheme"),
        pytest.param(BLOG_CALLBACK + "?x=1", id="extra-query"),
    ],
)
async def test_redirect_uri_mismatch_stays_here(signed_in, redirect_uri):
    response = await signed_in.get(authorize_path(redirect_uri=redirect_uri))
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "not registered" in await text_of(response)


async def test_missing_redirect_uri_stays_here(signed_in):
    response = await signed_in.get(authorize_path(redirect_uri=None))
    assert response.status_code == 400
    assert "Location" not in response.headers


async def test_unknown_client_stays_here(signed_in):
    response = await signed_in.get(authorize_path(client_id="nobody"))
    assert response.status_code == 400
    assert "Unknown application" in await text_of(response)


async def test_code_comes_back_with_state_unchanged(signed_in):
    _, challenge = pkce_pair()
    response = await signed_in.get(authorize_path(code_challenge=challenge, code_challenge_method="S256"))
    params = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith(BLOG_CALLBACK + "?")
    assert params["state"] == "state-123"
    assert params["iss"] == "http://federation.test"
    assert len(params["code"]) >= 32


async def test_plain_pkce_is_refused(signed_in):
    response = await signed_in.get(authorize_path(code_challenge="a" * 43, code_challenge_method="plain"))
    params = query_of(response.headers["Location"])
    assert params["error"] == "invalid_request"
    assert "S256" in params["error_description"]
    assert params["state"] == "state-123"


async def test_challenge_without_method_is_refused(signed_in):
    # RFC 7636 makes a missing method mean plain, which is not supported.
    response = await signed_in.get(authorize_path(code_challenge="a" * 43))
    assert query_of(response.headers["Location"])["error"] == "invalid_request"


async def test_public_client_without_pkce_is_refused(signed_in, settings):
    registered = await register_third_party(settings, public=True)
    response = await signed_in.get(authorize_path(registered.client_id, THIRD_PARTY_CALLBACK))
    params = query_of(response.headers["Location"])
    assert params["error"] == "invalid_request"
    assert "PKCE" in params["error_description"]


async def test_unknown_scope_goes_back_as_invalid_scope(signed_in):
    response = await signed_in.get(authorize_path(scope="openid admin"))
    assert query_of(response.headers["Location"])["error"] == "invalid_scope"


async def test_response_type_token_is_unsupported(signed_in):
    response = await signed_in.get(authorize_path(response_type="token"))
    assert query_of(response.headers["Location"])["error"] == "unsupported_response_type"


async def test_visitor_is_sent_to_sign_in_first(federation):
    response = await federation.get(authorize_path())
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=%2Foauth%2Fauthorize")


async def test_prompt_none_without_session_is_login_required(federation):
    response = await federation.get(authorize_path(prompt="none"))
    params = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith(BLOG_CALLBACK)
    assert params["error"] == "login_required"
    assert params["state"] == "state-123"


async def test_third_party_client_gets_a_consent_screen(signed_in, settings):
    registered = await register_third_party(settings)
    response = await signed_in.get(authorize_path(registered.client_id, THIRD_PARTY_CALLBACK))
    html = await text_of(response)
    assert response.status_code == 200
    assert "Allow Example Reader to use your Rose Ash account?" in html
    assert "See your name, username and profile page" in html


async def test_third_party_prompt_none_is_consent_required(signed_in, settings):
    registered = await register_third_party(settings)
    response = await signed_in.get(authorize_path(registered.client_id, THIRD_PARTY_CALLBACK, prompt="none"))
    assert query_of(response.headers["Location"])["error"] == "consent_required"


async def _consent(client, client_id: str, decision: str):
    page = await client.get(authorize_path(client_id, THIRD_PARTY_CALLBACK))
    form = {
        "csrf_token": csrf_from(await text_of(page)), "decision": decision, "response_type": "code",
        "client_id": client_id, "redirect_uri": THIRD_PARTY_CALLBACK, "scope": "openid profile", "state": "state-123",
    }
    return await client.post("/oauth/authorize", form=form)


async def test_allowing_a_third_party_returns_a_code(signed_in, settings):
    registered = await register_third_party(settings)
    response = await _consent(signed_in, registered.client_id, "allow")
    params = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith(THIRD_PARTY_CALLBACK + "?")
    assert "code" in params


async def test_consent_is_remembered(signed_in, settings):
    registered = await register_third_party(settings)
    await _consent(signed_in, registered.client_id, "allow")
    response = await signed_in.get(authorize_path(registered.client_id, THIRD_PARTY_CALLBACK))
    assert "code" in query_of(response.headers["Location"])


async def test_denying_a_third_party_is_access_denied(signed_in, settings):
    registered = await register_third_party(settings)
    response = await _consent(signed_in, registered.client_id, "deny")
    assert query_of(response.headers["Location"])["error"] == "access_denied"


async def test_consent_form_without_csrf_is_refused(signed_in, settings):
    registered = await register_third_party(settings)
    form = {"decision": "allow", "response_type": "code", "client_id": registered.client_id,
            "redirect_uri": THIRD_PARTY_CALLBACK, "scope": "openid"}
    response = await signed_in.post("/oauth/authorize", form=form)
    assert response.status_code == 400
    assert "Location" not in response.headers


async def _age_sign_in(client, seconds: int) -> None:
    """Move the signed-in federation session's auth_time ``seconds`` into the past."""
    redis = client.app.extensions["redis"]
    keys = [key async for key in redis.scan_iter("session:federation:*")]
    sessions = [(key, json.loads(await redis.get(key))) for key in keys]
    (key, data), = [(key, data) for key, data in sessions if "member_id" in data]
    data["auth_time"] -= seconds
    await redis.set(key, json.dumps(data), keepttl=True)


async def _sign_in_again(client, location: str):
    """Fill in the sign-in form that ``location`` shows and return the response."""
    page = await client.get(location)
    html = await text_of(page)
    assert 'name="password"' in html
    form = {"csrf_token": csrf_from(html), "login": "alice", "password": "rose-ash-dev",
            "next": query_of(location)["next"]}
    return await client.post("/login", form=form)


async def _auth_time_of(client, code: str, verifier: str) -> int:
    response = await exchange(client, code, verifier)
    assert response.status_code == 200, await response.get_json()
    keys = KeySet.import_key_set(await (await client.get("/oauth/jwks")).get_json())
    return jwt.decode((await response.get_json())["id_token"], keys, algorithms=["RS256"]).claims["auth_time"]


async def test_prompt_login_asks_to_sign_in_again(signed_in):
    await _age_sign_in(signed_in, 3600)
    verifier, challenge = pkce_pair()
    path = authorize_path(prompt="login", code_challenge=challenge, code_challenge_method="S256")
    response = await signed_in.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?" + urlencode({"next": path})
    page = await text_of(await signed_in.get(response.headers["Location"]))
    assert "You are signed in as @alice. Enter your password again to continue." in page

    before = int(time.time())
    signed_again = await _sign_in_again(signed_in, response.headers["Location"])
    assert signed_again.headers["Location"] == path
    back = await signed_in.get(path)
    code = query_of(back.headers["Location"])["code"]
    assert await _auth_time_of(signed_in, code, verifier) >= before


async def test_prompt_login_needs_the_password(signed_in):
    path = authorize_path(prompt="login")
    first = await signed_in.get(path)
    assert first.headers["Location"].startswith("/login?")
    # Coming back without signing in again does not satisfy prompt=login.
    again = await signed_in.get(path)
    assert again.headers["Location"].startswith("/login?")


async def test_prompt_login_for_a_visitor_asks_once(federation):
    path = authorize_path(prompt="login")
    first = await federation.get(path)
    signed = await _sign_in_again(federation, first.headers["Location"])
    back = await federation.get(signed.headers["Location"])
    assert "code" in query_of(back.headers["Location"])


async def test_prompt_login_with_consent_shows_consent(signed_in, settings):
    registered = await register_third_party(settings)
    path = authorize_path(registered.client_id, THIRD_PARTY_CALLBACK, prompt="login consent")
    signed = await _sign_in_again(signed_in, (await signed_in.get(path)).headers["Location"])
    page = await signed_in.get(signed.headers["Location"])
    assert page.status_code == 200
    assert "Allow Example Reader to use your Rose Ash account?" in await text_of(page)


async def test_recent_sign_in_meets_max_age(signed_in):
    await _age_sign_in(signed_in, 60)
    response = await signed_in.get(authorize_path(max_age="3600"))
    assert "code" in query_of(response.headers["Location"])


async def test_old_sign_in_fails_max_age(signed_in):
    await _age_sign_in(signed_in, 7200)
    verifier, challenge = pkce_pair()
    path = authorize_path(max_age="3600", code_challenge=challenge, code_challenge_method="S256")
    response = await signed_in.get(path)
    assert response.headers["Location"].startswith("/login?")
    before = int(time.time())
    await _sign_in_again(signed_in, response.headers["Location"])
    back = await signed_in.get(path)
    assert await _auth_time_of(signed_in, query_of(back.headers["Location"])["code"], verifier) >= before


async def test_max_age_zero_continues_after_sign_in(signed_in):
    path = authorize_path(max_age="0")
    response = await signed_in.get(path)
    await _sign_in_again(signed_in, response.headers["Location"])
    assert "code" in query_of((await signed_in.get(path)).headers["Location"])


async def test_max_age_with_prompt_none_is_login_required(signed_in):
    await _age_sign_in(signed_in, 7200)
    response = await signed_in.get(authorize_path(max_age="3600", prompt="none"))
    params = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith(BLOG_CALLBACK)
    assert params["error"] == "login_required"


@pytest.mark.parametrize("max_age", ["soon", "-1", "1.5", "", "99999999999", "١٢"])
async def test_invalid_max_age_is_invalid_request(signed_in, max_age):
    response = await signed_in.get(authorize_path(max_age=max_age))
    params = query_of(response.headers["Location"])
    assert params["error"] == "invalid_request"
    assert "max_age" in params["error_description"]


async def test_repeated_max_age_is_invalid_request(signed_in):
    response = await signed_in.get(authorize_path() + "&max_age=10&max_age=20")
    assert query_of(response.headers["Location"])["error"] == "invalid_request"

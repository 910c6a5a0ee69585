"""The authorization endpoint: redirect_uri matching, PKCE, state, prompt and consent."""

from __future__ import annotations

import pytest

from tests.federation.oauth.support import (
    BLOG_CALLBACK, THIRD_PARTY_CALLBACK, authorize_path, pkce_pair, query_of, register_third_party,
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

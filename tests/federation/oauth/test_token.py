"""The token endpoint: client authentication, PKCE, single-use codes and rotating refresh tokens."""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import KeySet

from tests.federation.oauth.support import (
    TEST_CLIENT_SECRET, basic, code_for, exchange, execute, fetch_value, pkce_pair,
)


async def _tokens(client) -> dict:
    verifier, challenge = pkce_pair()
    code = await code_for(client, challenge)
    response = await exchange(client, code, verifier)
    assert response.status_code == 200, await response.get_json()
    return await response.get_json()


async def _refresh(client, refresh_token: str):
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return await client.post("/oauth/token", form=form, headers=basic("blog", TEST_CLIENT_SECRET))


async def _userinfo_status(client, access_token: str) -> int:
    response = await client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {access_token}"})
    return response.status_code


async def test_code_and_verifier_give_tokens(signed_in):
    tokens = await _tokens(signed_in)
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["scope"] == "openid profile"
    assert tokens["refresh_token"]


async def test_token_response_is_not_cached(signed_in):
    verifier, challenge = pkce_pair()
    response = await exchange(signed_in, await code_for(signed_in, challenge), verifier)
    assert response.headers["Cache-Control"] == "no-store"


async def test_id_token_carries_actor_uri_and_nonce(signed_in):
    tokens = await _tokens(signed_in)
    keys = KeySet.import_key_set(await (await signed_in.get("/oauth/jwks")).get_json())
    claims = jwt.decode(tokens["id_token"], keys, algorithms=["RS256"]).claims
    assert claims["sub"] == "http://federation.test/users/alice"
    assert claims["iss"] == "http://federation.test"
    assert claims["aud"] == "blog"
    assert claims["nonce"] == "nonce-456"
    assert claims["name"] == "Alice Ash"
    assert claims["sid"]


async def test_userinfo_answers_for_the_access_token(signed_in):
    tokens = await _tokens(signed_in)
    response = await signed_in.get("/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    body = await response.get_json()
    assert body["sub"] == "http://federation.test/users/alice"
    assert body["preferred_username"] == "alice"


async def test_userinfo_without_token_is_401(signed_in):
    response = await signed_in.get("/oauth/userinfo")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_client_secret_post_is_accepted(signed_in):
    verifier, challenge = pkce_pair()
    code = await code_for(signed_in, challenge)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": "http://blog.test/auth/callback",
            "code_verifier": verifier, "client_id": "blog", "client_secret": TEST_CLIENT_SECRET}
    response = await signed_in.post("/oauth/token", form=form)
    assert response.status_code == 200


async def test_wrong_client_secret_is_invalid_client(signed_in):
    verifier, challenge = pkce_pair()
    code = await code_for(signed_in, challenge)
    response = await exchange(signed_in, code, verifier, headers=basic("blog", "wrong"))
    assert response.status_code == 401
    assert (await response.get_json())["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


async def test_missing_verifier_is_invalid_grant(signed_in):
    _, challenge = pkce_pair()
    response = await exchange(signed_in, await code_for(signed_in, challenge), None)
    body = await response.get_json()
    assert response.status_code == 400
    assert body["error"] == "invalid_grant"
    assert "code_verifier is missing" in body["error_description"]


async def test_wrong_verifier_is_invalid_grant(signed_in):
    _, challenge = pkce_pair()
    other_verifier, _ = pkce_pair()
    response = await exchange(signed_in, await code_for(signed_in, challenge), other_verifier)
    body = await response.get_json()
    assert body["error"] == "invalid_grant"
    assert "does not match" in body["error_description"]


async def test_failed_verifier_leaves_code_usable(signed_in):
    verifier, challenge = pkce_pair()
    code = await code_for(signed_in, challenge)
    await exchange(signed_in, code, "x" * 43)
    assert (await exchange(signed_in, code, verifier)).status_code == 200


async def test_verifier_without_challenge_is_refused(signed_in):
    code = await code_for(signed_in, None)
    verifier, _ = pkce_pair()
    assert (await exchange(signed_in, code, verifier)).status_code == 400


async def test_confidential_client_may_skip_pkce(signed_in):
    code = await code_for(signed_in, None)
    assert (await exchange(signed_in, code, None)).status_code == 200


async def test_redirect_uri_must_match_the_code(signed_in):
    verifier, challenge = pkce_pair()
    code = await code_for(signed_in, challenge)
    response = await exchange(signed_in, code, verifier, redirect_uri="http://blog.test/auth/callback/")
    assert (await response.get_json())["error"] == "invalid_grant"


async def test_code_of_another_client_is_refused(signed_in, settings):
    from shared.services.oauth_clients import register_first_party_client
    from tests.federation.oauth.support import in_database

    await in_database(settings, lambda session: register_first_party_client(session, settings, "market"))
    verifier, challenge = pkce_pair()
    code = await code_for(signed_in, challenge)
    response = await exchange(signed_in, code, verifier, headers=basic("market", TEST_CLIENT_SECRET))
    assert (await response.get_json())["error"] == "invalid_grant"


async def test_code_reuse_revokes_issued_tokens(signed_in):
    verifier, challenge = pkce_pair()
    code = await code_for(signed_in, challenge)
    first = await (await exchange(signed_in, code, verifier)).get_json()
    again = await exchange(signed_in, code, verifier)
    assert again.status_code == 400
    assert (await again.get_json())["error"] == "invalid_grant"
    assert await _userinfo_status(signed_in, first["access_token"]) == 401
    assert (await _refresh(signed_in, first["refresh_token"])).status_code == 400


async def test_expired_code_is_invalid_grant(signed_in, settings):
    verifier, challenge = pkce_pair()
    code = await code_for(signed_in, challenge)
    await execute(
        settings,
        "UPDATE oauth_authorization_codes SET created_at = created_at - interval '11 minutes', "
        "expires_at = expires_at - interval '11 minutes'",
    )
    response = await exchange(signed_in, code, verifier)
    body = await response.get_json()
    assert body["error"] == "invalid_grant"
    assert "expired" in body["error_description"]


async def test_code_lifetime_is_capped_in_the_database(signed_in, settings):
    _, challenge = pkce_pair()
    await code_for(signed_in, challenge)
    lifetime = await fetch_value(settings, "SELECT max(expires_at - created_at) FROM oauth_authorization_codes")
    assert lifetime.total_seconds() == 600


async def test_refresh_rotates_the_refresh_token(signed_in):
    tokens = await _tokens(signed_in)
    response = await _refresh(signed_in, tokens["refresh_token"])
    rotated = await response.get_json()
    assert response.status_code == 200
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert await _userinfo_status(signed_in, rotated["access_token"]) == 200


async def test_refresh_token_reuse_revokes_the_family(signed_in):
    tokens = await _tokens(signed_in)
    rotated = await (await _refresh(signed_in, tokens["refresh_token"])).get_json()
    reused = await _refresh(signed_in, tokens["refresh_token"])
    assert reused.status_code == 400
    assert (await reused.get_json())["error"] == "invalid_grant"
    assert (await _refresh(signed_in, rotated["refresh_token"])).status_code == 400
    assert await _userinfo_status(signed_in, rotated["access_token"]) == 401
    assert await _userinfo_status(signed_in, tokens["access_token"]) == 401


async def test_refresh_cannot_widen_the_scope(signed_in):
    tokens = await _tokens(signed_in)
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "scope": "openid email"}
    response = await signed_in.post("/oauth/token", form=form, headers=basic("blog", TEST_CLIENT_SECRET))
    assert (await response.get_json())["error"] == "invalid_scope"


async def test_unknown_grant_type_is_unsupported(signed_in):
    response = await signed_in.post(
        "/oauth/token", form={"grant_type": "password"}, headers=basic("blog", TEST_CLIENT_SECRET)
    )
    assert (await response.get_json())["error"] == "unsupported_grant_type"


async def test_revoking_a_refresh_token_ends_the_family(signed_in):
    tokens = await _tokens(signed_in)
    response = await signed_in.post(
        "/oauth/revoke", form={"token": tokens["refresh_token"]}, headers=basic("blog", TEST_CLIENT_SECRET)
    )
    assert response.status_code == 200
    assert await _userinfo_status(signed_in, tokens["access_token"]) == 401


async def test_revoking_an_unknown_token_is_200(signed_in):
    response = await signed_in.post(
        "/oauth/revoke", form={"token": "nothing-like-this"}, headers=basic("blog", TEST_CLIENT_SECRET)
    )
    assert response.status_code == 200


async def test_introspection_describes_an_active_token(signed_in):
    tokens = await _tokens(signed_in)
    response = await signed_in.post(
        "/oauth/introspect", form={"token": tokens["access_token"]}, headers=basic("blog", TEST_CLIENT_SECRET)
    )
    body = await response.get_json()
    assert body["active"] is True
    assert body["sub"] == "http://federation.test/users/alice"
    assert body["client_id"] == "blog"


async def test_introspection_of_a_revoked_token_is_inactive(signed_in):
    tokens = await _tokens(signed_in)
    await signed_in.post("/oauth/revoke", form={"token": tokens["access_token"]}, headers=basic("blog", TEST_CLIENT_SECRET))
    response = await signed_in.post(
        "/oauth/introspect", form={"token": tokens["access_token"]}, headers=basic("blog", TEST_CLIENT_SECRET)
    )
    assert await response.get_json() == {"active": False}


async def test_introspection_refuses_public_clients(signed_in, settings):
    from tests.federation.oauth.support import register_third_party

    registered = await register_third_party(settings, public=True)
    response = await signed_in.post("/oauth/introspect", form={"token": "x", "client_id": registered.client_id})
    assert response.status_code == 401


async def test_tokens_are_stored_hashed(signed_in, settings):
    tokens = await _tokens(signed_in)
    stored = await fetch_value(settings, f"SELECT count(*) FROM oauth_tokens WHERE token_hash = '{tokens['access_token']}'")
    hashes = await fetch_value(settings, "SELECT count(*) FROM oauth_tokens WHERE token_hash ~ '^[0-9a-f]{64}$'")
    assert stored == 0
    assert hashes == 2

"""Discovery metadata and the JWKS."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("path", ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"])
async def test_metadata_names_the_issuer_and_endpoints(app_client, path):
    client = await app_client("federation")
    metadata = await (await client.get(path)).get_json()
    assert metadata["issuer"] == "http://federation.test"
    assert metadata["authorization_endpoint"] == "http://federation.test/oauth/authorize"
    assert metadata["token_endpoint"] == "http://federation.test/oauth/token"
    assert metadata["jwks_uri"] == "http://federation.test/oauth/jwks"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["end_session_endpoint"] == "http://federation.test/oauth/logout"


async def test_jwks_publishes_one_rsa_signing_key(app_client):
    client = await app_client("federation")
    keys = (await (await client.get("/oauth/jwks")).get_json())["keys"]
    assert len(keys) == 1
    assert keys[0]["kty"] == "RSA"
    assert keys[0]["alg"] == "RS256"
    assert "d" not in keys[0]


async def test_jwks_key_is_stable_across_apps(app_client):
    first = await app_client("federation")
    second = await app_client("federation")
    first_keys = await (await first.get("/oauth/jwks")).get_json()
    second_keys = await (await second.get("/oauth/jwks")).get_json()
    assert first_keys == second_keys


async def test_metadata_lists_prompt_login(app_client):
    client = await app_client("federation")
    metadata = await (await client.get("/.well-known/openid-configuration")).get_json()
    assert metadata["prompt_values_supported"] == ["none", "login", "consent"]
    assert "auth_time" in metadata["claims_supported"]

"""``rose-ash oauth signing-key list|rotate|retire`` and the JWKS they change.

Synchronous tests, because each command runs its own event loop.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from click.testing import CliRunner
from joserfc import jwt
from joserfc.jwk import KeySet

from federation.oauth.keys import KeyStore
from shared.infrastructure.cli import cli
from shared.infrastructure.db import make_engine, make_sessionmaker
from tests.federation.oauth.support import execute, fetch_value


@pytest.fixture
def runner(settings, monkeypatch):
    monkeypatch.setenv("ROSE_ASH_ENV", "test")
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.delenv("OIDC_PRIVATE_KEY", raising=False)
    monkeypatch.delenv("OIDC_PRIVATE_KEY_FILE", raising=False)
    return CliRunner()


def _with_store(settings, work):
    """Run ``work(store)`` with a fresh KeyStore that reads the database on every call."""

    async def run():
        engine = make_engine(settings.database_url, pool_size=1)
        try:
            return await work(KeyStore(make_sessionmaker(engine), environ={}, reload_seconds=0))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _jwks_kids(settings) -> list[str]:
    async def kids(store: KeyStore) -> list[str]:
        return [key["kid"] for key in (await store.jwks())["keys"]]

    return _with_store(settings, kids)


def _public_keys(settings) -> KeySet:
    async def jwks(store: KeyStore) -> dict:
        return await store.jwks()

    return KeySet.import_key_set(_with_store(settings, jwks))


def _rotate(runner) -> str:
    result = runner.invoke(cli, ["oauth", "signing-key", "rotate"])
    assert result.exit_code == 0, result.output
    return re.search(r"Generated OIDC signing key (\S+);", result.output).group(1)


def _key_count(settings) -> int:
    return asyncio.run(fetch_value(settings, "SELECT count(*) FROM oidc_signing_keys"))


def _date_keys_back(settings) -> None:
    """Move every key's creation two hours back, as if the last rotation happened that long ago."""
    asyncio.run(execute(settings, "UPDATE oidc_signing_keys SET created_at = created_at - interval '2 hours'"))


def test_list_without_keys_says_so(runner):
    result = runner.invoke(cli, ["oauth", "signing-key", "list"])
    assert result.exit_code == 0, result.output
    assert "No signing key is stored yet" in result.output


def test_rotate_adds_a_signing_key(runner, settings):
    first = _jwks_kids(settings)
    new_kid = _rotate(runner)
    kids = _jwks_kids(settings)
    assert len(first) == 1
    assert new_kid not in first
    assert kids == [new_kid, *first]


def test_rotated_key_signs_and_old_tokens_verify(runner, settings):
    old_token = _with_store(settings, lambda store: store.sign({"sub": "before"}))
    new_kid = _rotate(runner)
    new_token = _with_store(settings, lambda store: store.sign({"sub": "after"}))
    assert jwt.decode(new_token, _public_keys(settings)).header["kid"] == new_kid
    assert _with_store(settings, lambda store: store.verify(old_token))["sub"] == "before"


def test_list_marks_the_signing_key(runner, settings):
    old_kid = _jwks_kids(settings)[0]
    new_kid = _rotate(runner)
    lines = runner.invoke(cli, ["oauth", "signing-key", "list"]).output.splitlines()
    assert lines[0].startswith(new_kid)
    assert lines[0].endswith("signing")
    assert lines[1].startswith(old_kid)
    assert "in JWKS, stopped signing" in lines[1]


def test_retire_removes_the_old_key(runner, settings):
    old_kid = _jwks_kids(settings)[0]
    new_kid = _rotate(runner)
    _date_keys_back(settings)
    result = runner.invoke(cli, ["oauth", "signing-key", "retire", "--", old_kid])
    assert result.exit_code == 0, result.output
    assert f"Retired OIDC signing key {old_kid}" in result.output
    assert _jwks_kids(settings) == [new_kid]
    assert "retired" in runner.invoke(cli, ["oauth", "signing-key", "list"]).output


def test_retire_refuses_a_recent_key(runner, settings):
    old_kid = _jwks_kids(settings)[0]
    new_kid = _rotate(runner)
    result = runner.invoke(cli, ["oauth", "signing-key", "retire", "--", old_kid])
    assert result.exit_code == 1
    assert "stopped signing less than an hour ago" in result.output
    assert "Nothing was changed" in result.output
    assert _jwks_kids(settings) == [new_kid, old_kid]


def test_retire_force_removes_a_recent_key(runner, settings):
    old_kid = _jwks_kids(settings)[0]
    new_kid = _rotate(runner)
    result = runner.invoke(cli, ["oauth", "signing-key", "retire", "--force", "--", old_kid])
    assert result.exit_code == 0, result.output
    assert _jwks_kids(settings) == [new_kid]


def test_retire_refuses_the_signing_key(runner, settings):
    _jwks_kids(settings)
    signing = _rotate(runner)
    result = runner.invoke(cli, ["oauth", "signing-key", "retire", "--force", "--", signing])
    assert result.exit_code == 1
    assert "is the one that signs; rotate first" in result.output
    assert signing in _jwks_kids(settings)


def test_retire_unknown_kid_fails_clearly(runner, settings):
    _jwks_kids(settings)
    result = runner.invoke(cli, ["oauth", "signing-key", "retire", "no-such-kid"])
    assert result.exit_code == 1
    assert "no OIDC signing key has kid 'no-such-kid'" in result.output


def test_retire_takes_a_kid_starting_with_a_dash(runner, settings):
    _jwks_kids(settings)
    result = runner.invoke(cli, ["oauth", "signing-key", "retire", "--", "-dash-kid"])
    assert result.exit_code == 1
    assert "no OIDC signing key has kid '-dash-kid'" in result.output


def test_retire_twice_fails_clearly(runner, settings):
    old_kid = _jwks_kids(settings)[0]
    _rotate(runner)
    assert runner.invoke(cli, ["oauth", "signing-key", "retire", "--force", "--", old_kid]).exit_code == 0
    result = runner.invoke(cli, ["oauth", "signing-key", "retire", "--force", "--", old_kid])
    assert result.exit_code == 1
    assert "was already retired" in result.output


@pytest.mark.parametrize("variable", ["OIDC_PRIVATE_KEY", "OIDC_PRIVATE_KEY_FILE"])
def test_rotate_refuses_with_a_configured_key(runner, settings, monkeypatch, variable):
    _jwks_kids(settings)
    monkeypatch.setenv(variable, "/run/secrets/oidc_private_key")
    result = runner.invoke(cli, ["oauth", "signing-key", "rotate"])
    assert result.exit_code == 1
    assert f"{variable} is set" in result.output
    assert _key_count(settings) == 1


async def test_federation_jwks_follows_a_rotation(app_client, settings):
    federation = await app_client("federation")
    before = [key["kid"] for key in (await (await federation.get("/oauth/jwks")).get_json())["keys"]]
    await asyncio.to_thread(_rotate, CliRunner(env={
        "ROSE_ASH_ENV": "test", "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
    }))
    fresh = await app_client("federation")
    after = [key["kid"] for key in (await (await fresh.get("/oauth/jwks")).get_json())["keys"]]
    assert len(after) == 2
    assert after[1:] == before


def test_key_store_reloads_after_its_interval(runner, settings):
    async def scenario():
        engine = make_engine(settings.database_url, pool_size=2)
        try:
            sessionmaker = make_sessionmaker(engine)
            cached = KeyStore(sessionmaker, environ={}, reload_seconds=3600)
            reloading = KeyStore(sessionmaker, environ={}, reload_seconds=0)
            first = [key.kid for key in await cached.keys()]
            await reloading.keys()
            new_kid = await asyncio.to_thread(_rotate, runner)
            return first, new_kid, [key.kid for key in await cached.keys()], [key.kid for key in await reloading.keys()]
        finally:
            await engine.dispose()

    first, new_kid, cached, reloaded = asyncio.run(scenario())
    assert cached == first
    assert reloaded == [new_kid, *first]


@pytest.mark.parametrize("kid", ["-tNAf-no-such-kid", "-hXyz", "-f"])
def test_retire_takes_a_dash_kid_without_separator(runner, settings, kid):
    _jwks_kids(settings)
    result = runner.invoke(cli, ["oauth", "signing-key", "retire", kid])
    assert result.exit_code == 1
    assert "No such option" not in result.output
    assert f"no OIDC signing key has kid '{kid}'" in result.output


def test_retire_force_after_dash_kid(runner, settings):
    old_kid = _jwks_kids(settings)[0]
    _rotate(runner)
    asyncio.run(execute(settings, f"UPDATE oidc_signing_keys SET kid = '-{old_kid}' WHERE kid = '{old_kid}'"))
    result = runner.invoke(cli, ["oauth", "signing-key", "retire", f"-{old_kid}", "--force"])
    assert result.exit_code == 0, result.output
    assert f"Retired OIDC signing key -{old_kid}" in result.output

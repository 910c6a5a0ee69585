"""``rose-ash activitypub follow``: each failure is one sentence with the next step, and nothing is sent."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner

from shared.infrastructure.cli import cli
from shared.infrastructure.devstack import free_port
from tests.federation.oauth.support import fetch_value


@pytest.fixture
def runner(settings, monkeypatch):
    monkeypatch.setenv("ROSE_ASH_ENV", "test")
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    return CliRunner()


def _emitted(settings) -> int:
    return asyncio.run(fetch_value(settings, "SELECT count(*) FROM ap_activities WHERE activity_type = 'Follow'"))


def test_follow_invalid_account_one_sentence(runner, settings):
    result = runner.invoke(cli, ["activitypub", "follow", "alice", "not a handle"])
    assert result.exit_code == 1
    assert result.output.count("not a handle") == 1
    assert result.output.strip() == (
        "Error: 'not a handle' is not a fediverse account, so nothing was sent; give a handle such as "
        "user@example.social or an actor URL that starts with https://."
    )
    assert _emitted(settings) == 0


def test_follow_unreachable_server_one_sentence(runner, settings):
    port = free_port()
    result = runner.invoke(cli, ["activitypub", "follow", "alice", f"nobody@127.0.0.1:{port}"])
    assert result.exit_code == 1
    assert "ConnectError" not in result.output
    assert result.output.strip() == (
        f"Error: could not reach 127.0.0.1:{port} (connection refused), so nothing was sent; "
        "check the address and that the server is running, then try again."
    )
    assert _emitted(settings) == 0


def test_follow_unknown_member(runner, remote, settings):
    result = runner.invoke(cli, ["activitypub", "follow", "nobody", f"{remote.username}@{remote.host}"])
    assert result.exit_code == 1
    assert "no member is called 'nobody', so nothing was sent" in result.output
    assert _emitted(settings) == 0


def test_follow_by_handle_succeeds(runner, remote, settings):
    result = runner.invoke(cli, ["activitypub", "follow", "alice", f"{remote.username}@{remote.host}"])
    assert result.exit_code == 0, result.output
    assert f"alice asked to follow {remote.actor_uri}" in result.output
    assert _emitted(settings) == 1

"""``rose-ash oauth client add|list|remove``; synchronous tests, because each command runs its own event loop."""

from __future__ import annotations

import asyncio
import re

import pytest
from click.testing import CliRunner

from shared.infrastructure.cli import cli
from tests.federation.oauth.support import fetch_value


@pytest.fixture
def runner(settings, monkeypatch):
    monkeypatch.setenv("ROSE_ASH_ENV", "test")
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    return CliRunner()


def _add(runner, *extra: str):
    return runner.invoke(cli, ["oauth", "client", "add", "--name", "Reader", "--redirect-uri", "https://reader.example/cb", *extra])


def test_add_prints_id_and_secret_once(runner, settings):
    result = _add(runner)
    secret = re.search(r"client_secret: (\S+)", result.output).group(1)
    assert result.exit_code == 0, result.output
    assert re.search(r"client_id: \S+", result.output)
    assert asyncio.run(fetch_value(settings, f"SELECT count(*) FROM oauth_clients WHERE secret_hash = '{secret}'")) == 0
    assert asyncio.run(fetch_value(settings, "SELECT count(*) FROM oauth_clients WHERE secret_hash IS NOT NULL")) == 1


def test_add_public_prints_no_secret(runner):
    result = _add(runner, "--public")
    assert result.exit_code == 0, result.output
    assert "client_secret" not in result.output


def test_add_refuses_plain_http_elsewhere(runner):
    result = runner.invoke(cli, ["oauth", "client", "add", "--name", "R", "--redirect-uri", "http://reader.example/cb"])
    assert result.exit_code != 0
    assert "must use https" in result.output


def test_list_shows_added_client(runner):
    client_id = re.search(r"client_id: (\S+)", _add(runner).output).group(1)
    result = runner.invoke(cli, ["oauth", "client", "list"])
    assert client_id in result.output
    assert "confidential" in result.output


def test_remove_deletes_the_client(runner):
    client_id = re.search(r"client_id: (\S+)", _add(runner).output).group(1)
    removed = runner.invoke(cli, ["oauth", "client", "remove", client_id])
    assert removed.exit_code == 0, removed.output
    assert client_id not in runner.invoke(cli, ["oauth", "client", "list"]).output


def test_remove_unknown_client_fails_clearly(runner):
    result = runner.invoke(cli, ["oauth", "client", "remove", "no-such-client"])
    assert result.exit_code == 1
    assert "no OAuth client has client_id 'no-such-client'" in result.output


def test_remove_refuses_a_first_party_app(runner, settings):
    import asyncio

    from shared.infrastructure.db import make_engine, make_sessionmaker
    from shared.services.oauth_clients import register_first_party_client

    async def register() -> None:
        engine = make_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                await register_first_party_client(session, settings, "blog")
        finally:
            await engine.dispose()

    asyncio.run(register())
    result = runner.invoke(cli, ["oauth", "client", "remove", "blog"])
    assert result.exit_code == 1
    assert "one of Rose Ash's own apps" in result.output
    assert "blog" in runner.invoke(cli, ["oauth", "client", "list"]).output


def test_list_names_apps_not_yet_registered(runner):
    result = runner.invoke(cli, ["oauth", "client", "list"])
    assert "Not listed until their first sign-in" in result.output
    assert "account" in result.output


def test_add_bad_redirect_uri_names_that_option(runner):
    result = runner.invoke(cli, ["oauth", "client", "add", "--name", "Reader", "--redirect-uri", "notaurl"])
    assert result.exit_code == 2
    assert "Invalid value for '--redirect-uri'" in result.output
    assert "--name" not in result.output.split("Error:")[1]
    assert "'notaurl' is not an absolute http or https URL" in result.output


def test_add_bad_name_names_that_option(runner):
    result = runner.invoke(cli, ["oauth", "client", "add", "--name", " ", "--redirect-uri", "https://reader.example/cb"])
    assert result.exit_code == 2
    assert "Invalid value for '--name'" in result.output
    assert "--redirect-uri" not in result.output.split("Error:")[1]


def test_list_prints_a_header_row(runner):
    client_id = re.search(r"client_id: (\S+)", _add(runner).output).group(1)
    lines = runner.invoke(cli, ["oauth", "client", "list"]).output.splitlines()
    header = next(index for index, line in enumerate(lines) if line.startswith("CLIENT_ID\t"))
    assert lines[header].split("\t") == ["CLIENT_ID", "TYPE", "NAME", "REDIRECT_URIS"]
    assert lines[header + 1].startswith(f"{client_id}\tconfidential\tReader\t")

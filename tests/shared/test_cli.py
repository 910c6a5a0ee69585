"""The operators' command line: help everywhere, clear errors, no tracebacks."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg
import click
import pytest
from click.testing import CliRunner

from shared.infrastructure import migrations
from shared.infrastructure.cli import cli
from shared.infrastructure.devstack import free_port
from tests.conftest import asyncpg_dsn


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield prefix + (name,)
        if isinstance(command, click.Group):
            yield from _commands(command, prefix + (name,))


def run_cli(*args: str, **environ: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "shared.infrastructure.cli", *args],
        env={**os.environ, "ROSE_ASH_ENV": "test", **environ},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_every_command_has_help():
    paths = list(_commands(cli))
    assert {("db", "upgrade"), ("db", "schema-sql"), ("seed-demo",), ("serve",), ("run",)} <= set(paths)
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Usage: " in result.output, path
        assert len(result.output.splitlines()) > 3, path


def test_serve_unreachable_database_one_line():
    dead = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"
    result = run_cli("serve", "blog", "--port", str(free_port()), DATABASE_URL=dead, STARTUP_TIMEOUT="1")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("rose-ash: could not connect to PostgreSQL at 127.0.0.1:")
    assert "giving up" in last_line
    assert "Check that the server DATABASE_URL names is running" in last_line


def test_serve_gives_up_on_an_unreachable_redis(demo_database_url):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    result = run_cli("serve", "cart", "--port", str(free_port()), DATABASE_URL=demo_database_url,
                     REDIS_URL=dead, STARTUP_TIMEOUT="1")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "rose-ash: could not connect to Redis at 127.0.0.1:" in result.stderr
    assert "REDIS_URL" in result.stderr.strip().splitlines()[-1]


def test_missing_production_secret_stops_with_the_key_name():
    result = subprocess.run(
        [sys.executable, "-m", "shared.infrastructure.cli", "db", "wait"],
        env={key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "DATABASE_URL")}
        | {"ROSE_ASH_ENV": "production", "REDIS_URL": "redis://127.0.0.1:1/0"},
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert "environments.production.database_url" in result.stderr
    assert "Traceback" not in result.stderr


def test_schema_sql_check_passes_on_the_committed_file():
    result = run_cli("db", "schema-sql", "--check")
    assert result.returncode == 0, result.stderr
    assert "matches the migrations" in result.stdout


def test_schema_sql_check_fails_on_a_stale_file(tmp_path):
    stale = tmp_path / "schema.sql"
    stale.write_text("-- old\n")
    result = run_cli("db", "schema-sql", "--check", "--output", str(stale))
    assert result.returncode == 1
    assert "does not match the migrations" in result.stderr


async def test_seed_demo_creates_members_once(empty_database_url, clean_redis, fixtures_dir):
    environ = {"DATABASE_URL": empty_database_url, "REDIS_URL": clean_redis}
    upgraded = await asyncio.to_thread(run_cli, "db", "upgrade", **environ)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"migrated to head ({migrations.heads()[0]})" in upgraded.stdout
    export = str(fixtures_dir / "ghost" / "v4_export.json")
    first = await asyncio.to_thread(run_cli, "seed-demo", "--ghost-export", export, **environ)
    assert first.returncode == 0, first.stderr
    assert "members 3" in first.stdout
    assert "posts 11" in first.stdout
    second = await asyncio.to_thread(run_cli, "seed-demo", "--ghost-export", export, **environ)
    assert "created nothing new" in second.stdout
    connection = await asyncpg.connect(asyncpg_dsn(empty_database_url))
    try:
        emails = sorted(await connection.fetch("SELECT email FROM members"))
    finally:
        await connection.close()
    assert [row["email"] for row in emails] == ["admin@example.org", "alice@example.org", "bob@example.org"]


async def test_production_configuration_never_creates_demo_members(empty_database_url, clean_redis):
    await asyncio.to_thread(migrations.upgrade, empty_database_url)
    result = await asyncio.to_thread(
        run_cli, "seed-demo",
        ROSE_ASH_ENV="production", DATABASE_URL=empty_database_url, REDIS_URL=clean_redis,
        SECRET_KEY="x", INTERNAL_SECRET="y",
    )
    assert result.returncode == 1
    assert "demo_data switched off" in result.stderr
    connection = await asyncpg.connect(asyncpg_dsn(empty_database_url))
    try:
        assert await connection.fetchval("SELECT count(*) FROM members") == 0
    finally:
        await connection.close()


@pytest.mark.parametrize("app", ["nope", "Blog"])
def test_serve_unknown_app_lists_valid_ones(app):
    result = CliRunner().invoke(cli, ["serve", app])
    assert result.exit_code == 2
    assert "blog" in result.output
    assert "account" in result.output


def test_serve_busy_port_one_line():
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_cli("serve", "blog", "--port", str(port))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"cannot start blog: 127.0.0.1:{port} is not free" in result.stderr
    assert "pass --port" in result.stderr


def test_seed_demo_missing_export_fails(tmp_path):
    result = run_cli("seed-demo", "--ghost-export", str(tmp_path / "nope.json"))
    assert result.returncode == 1
    assert "nope.json: no such file; nothing was loaded" in result.stderr


def test_serve_logs_running_on_once(demo_database_url, clean_redis, tmp_path):
    from shared.infrastructure.devstack import AppProcesses

    # AppProcesses starts each app with `rose-ash serve`, the command `make run` starts too.
    apps = AppProcesses(demo_database_url, clean_redis, tmp_path)
    try:
        apps.start("events")
    finally:
        apps.stop()
    output = apps.log_path("events").read_text()
    running_lines = [line for line in output.splitlines() if "Running on http://" in line]
    assert len(running_lines) == 1, output
    assert f"127.0.0.1:{apps.ports['events']}" in running_lines[0]


@pytest.mark.parametrize("command", [("oauth", "client", "list"), ("activitypub", "deliveries")])
def test_database_down_says_could_not_connect(command):
    port = free_port()
    result = run_cli(*command, DATABASE_URL=f"postgresql+asyncpg://postgres@127.0.0.1:{port}/nothing")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "lost the connection" not in result.stderr
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith(f"rose-ash: could not connect to PostgreSQL at 127.0.0.1:{port}/nothing (connection refused).")
    assert "DATABASE_URL" in message


def test_connection_advice_points_at_make_run(monkeypatch):
    from shared.infrastructure.cli import connection_advice

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("ROSE_ASH_ENV", "dev")
    database = connection_advice("PostgreSQL")
    cache = connection_advice("Redis")
    assert "'make run'" in database
    assert ".run/" in database
    assert "set DATABASE_URL" in database
    assert "'make run'" in cache
    assert "set REDIS_URL" in cache


def test_connection_advice_with_url_set(monkeypatch):
    from shared.infrastructure.cli import connection_advice

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    assert connection_advice("Redis").startswith("Check that the server REDIS_URL names is running")


def test_busy_app_port_names_the_app():
    import socket

    from shared.infrastructure.runner import busy_app_ports

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        lines = busy_app_ports({"cart": port, "blog": free_port()})
    assert len(lines) == 1
    assert lines[0].startswith(f"cannot start cart: 127.0.0.1:{port} is not free")
    assert "--port" not in lines[0]
    assert "make run" in lines[0]


def test_run_busy_app_port():
    import socket

    from shared.infrastructure.config import load_settings

    port = load_settings("dev", environ={}).app("cart").dev_port
    dead = free_port()
    with socket.socket() as holder:
        try:
            holder.bind(("127.0.0.1", port))
            holder.listen()
        except OSError:
            pass  # already in use, which is the case under test as well
        # Dead servers and a short timeout: a broken port check fails fast instead of starting anything.
        result = run_cli(
            "run", ROSE_ASH_ENV="dev", STARTUP_TIMEOUT="1",
            DATABASE_URL=f"postgresql+asyncpg://postgres@127.0.0.1:{dead}/nothing",
            REDIS_URL=f"redis://127.0.0.1:{dead}/0",
        )
    assert result.returncode == 1
    assert f"[make run] cannot start cart: 127.0.0.1:{port} is not free" in result.stdout
    assert "migrating" not in result.stdout
    assert "--port" not in result.stdout


def test_run_help_explains_quieter_logs():
    output = CliRunner().invoke(cli, ["run", "--help"]).output
    assert "--quiet" in output
    assert "ACCESS_LOG=off" in output


@pytest.mark.parametrize(("choice", "expected"), [("all", [200, 404, None]), ("errors", [404, None]), ("off", [])])
def test_access_log_choice(monkeypatch, caplog, choice, expected):
    import logging

    from shared.infrastructure.logs import configure_logging

    monkeypatch.setenv("ACCESS_LOG", choice)
    configure_logging()
    try:
        caplog.set_level(logging.INFO, logger="rose_ash.access")
        access = logging.getLogger("rose_ash.access")
        for status in (200, 404, None):
            access.info("line %s", status, extra={"status": status})
        seen = [record.status for record in caplog.records if record.name == "rose_ash.access"]
    finally:
        monkeypatch.setenv("ACCESS_LOG", "all")
        configure_logging()
    assert seen == expected


def test_httpx_info_lines_are_quiet():
    import logging

    from shared.infrastructure.logs import configure_logging

    configure_logging()
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    assert not logging.getLogger("httpcore").isEnabledFor(logging.INFO)
    assert logging.getLogger("httpx").isEnabledFor(logging.WARNING)


def test_unknown_access_log_choice_fails():
    result = run_cli("db", "schema-sql", "--check", ACCESS_LOG="loud")
    assert result.returncode == 2
    assert "ACCESS_LOG" in result.stderr
    assert "all, errors, off" in result.stderr

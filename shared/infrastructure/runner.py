"""``make run``: everything on one machine, stopped together.

Starts PostgreSQL and Redis (embedded, data under ``.run/``) unless both
``DATABASE_URL`` and ``REDIS_URL`` are set, migrates, loads the demo data,
then runs the six apps and the EventProcessor as child processes until Ctrl-C
or SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlsplit

import click

from . import migrations
from .config import APP_NAMES, REPO_ROOT, load_settings
from .db import wait_for_services
from .devstack import DevStackError, EmbeddedPostgres, EmbeddedRedis, port_bind_error
from .logs import ACCESS_LOG_VARIABLE

RUN_DIR = REPO_ROOT / ".run"
# How often the running processes and embedded servers are checked, in seconds.
WATCH_INTERVAL = 0.5


def _say(message: str) -> None:
    click.echo(f"[make run] {message}", err=False)


def busy_app_ports(ports: Mapping[str, int], host: str = "127.0.0.1") -> list[str]:
    """Return one line for each app whose port on ``host`` cannot be listened on, naming the app."""
    lines = []
    for name, port in ports.items():
        problem = port_bind_error(host, port)
        if problem is not None:
            lines.append(
                f"cannot start {name}: {host}:{port} is not free ({problem}). Stop what uses it, often an "
                f"earlier 'make run' or 'rose-ash serve {name}' ('lsof -i :{port}' names the process), "
                "then run 'make run' again."
            )
    return lines


def watch(
    children: Mapping[str, subprocess.Popen],
    embedded: Sequence[EmbeddedPostgres | EmbeddedRedis],
    stop_requested: Callable[[], bool],
) -> int:
    """Wait until a stop is requested (returns 0) or a child or embedded server stops by itself (returns 1)."""
    while not stop_requested():
        for server in embedded:
            reason = server.exit_reason()
            if reason is not None:
                _say(f"the embedded {_server_name(server)} on 127.0.0.1:{server.port} stopped: {reason}. "
                     "The apps cannot work without it, so everything stops now; run 'make run' again to restart.")
                return 1
        for name, child in children.items():
            if child.poll() is not None:
                _say(f"{name} exited with status {child.returncode}; stopping everything")
                return 1
        time.sleep(WATCH_INTERVAL)
    return 0


def _server_name(server: EmbeddedPostgres | EmbeddedRedis) -> str:
    return type(server).__name__.removeprefix("Embedded")


def run_everything(access_log: str | None = None) -> int:
    """Run everything until Ctrl-C or SIGTERM; ``access_log`` ("all", "errors" or "off") sets ACCESS_LOG for the apps."""
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    env = dict(os.environ)
    env.setdefault("ROSE_ASH_ENV", "dev")
    if access_log is not None:
        env[ACCESS_LOG_VARIABLE] = access_log
    embedded: list[EmbeddedPostgres | EmbeddedRedis] = []
    children: dict[str, subprocess.Popen] = {}
    busy = busy_app_ports({name: load_settings(env=env["ROSE_ASH_ENV"], environ=env).app(name).dev_port
                           for name in APP_NAMES})
    if busy:
        for line in busy:
            _say(line)
        return 1
    try:
        if not (env.get("DATABASE_URL") and env.get("REDIS_URL")):
            settings = load_settings(env=env["ROSE_ASH_ENV"], environ=env)
            if not env.get("DATABASE_URL"):
                parts = urlsplit(settings.database_url)
                postgres = EmbeddedPostgres(RUN_DIR / "postgres", parts.port or 55432, parts.path.lstrip("/"))
                _say(f"starting PostgreSQL 16 on 127.0.0.1:{postgres.port} (data in {postgres.data_dir})")
                postgres.start()
                embedded.append(postgres)
                env["DATABASE_URL"] = postgres.url
            if not env.get("REDIS_URL"):
                port = urlsplit(settings.redis_url).port or 56379
                redis_server = EmbeddedRedis(RUN_DIR / "redis", port)
                _say(f"starting Redis on 127.0.0.1:{port} (data in {redis_server.data_dir})")
                redis_server.start()
                embedded.append(redis_server)
                env["REDIS_URL"] = redis_server.url
        else:
            _say("using PostgreSQL and Redis from DATABASE_URL and REDIS_URL")

        settings = load_settings(env=env["ROSE_ASH_ENV"], environ=env)
        asyncio.run(wait_for_services(settings, settings.startup_timeout))
        _say("migrating the database")
        migrations.upgrade(settings.database_url)
        if settings.demo_data:
            _say("loading demo data")
            subprocess.run([sys.executable, "-m", "shared.infrastructure.cli", "seed-demo"], env=env, check=True,
                           cwd=REPO_ROOT, stdin=subprocess.DEVNULL)

        for name in APP_NAMES:
            children[name] = subprocess.Popen(
                [sys.executable, "-m", "shared.infrastructure.cli", "serve", name],
                env=env, cwd=REPO_ROOT, stdin=subprocess.DEVNULL,
            )
        children["event-processor"] = subprocess.Popen(
            [sys.executable, "-m", "shared.infrastructure.cli", "event-processor"],
            env=env, cwd=REPO_ROOT, stdin=subprocess.DEVNULL,
        )
        _say("the apps are starting:")
        for name in APP_NAMES:
            _say(f"  {name:<11} {settings.app(name).public_url}")
        _say("press Ctrl-C to stop everything")

        return watch(children, embedded, lambda: stopping)
    except (DevStackError, subprocess.CalledProcessError) as error:
        _say(f"could not start: {error}")
        return 1
    finally:
        _stop(children, embedded)


def _stop(children: dict[str, subprocess.Popen], embedded: list) -> None:
    running = {name: child for name, child in children.items() if child.poll() is None}
    if running:
        _say(f"stopping {', '.join(running)}")
    for child in running.values():
        child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in running.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    for server in reversed(embedded):
        _say(f"stopping {_server_name(server)}")
        server.stop()
    if children or embedded:
        _say("stopped")

"""``make run`` notices an embedded PostgreSQL or Redis that stops, names it, and stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from shared.infrastructure.devstack import EmbeddedPostgres, EmbeddedRedis, free_port
from shared.infrastructure.runner import watch

# Only a safety net so that a broken watch fails the test instead of hanging it.
GIVE_UP_SECONDS = 30


def _stop_after(seconds: float):
    deadline = time.monotonic() + seconds
    return lambda: time.monotonic() > deadline


@pytest.fixture
def sleeper():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], stdin=subprocess.DEVNULL)
    yield child
    child.kill()
    child.wait()


def test_watch_stops_when_redis_dies(tmp_path, sleeper, capsys):
    server = EmbeddedRedis(tmp_path / "redis", free_port(), persist=False)
    server.start()
    try:
        assert server.exit_reason() is None
        server.process.kill()
        server.process.wait()
        status = watch({"blog": sleeper}, [server], _stop_after(GIVE_UP_SECONDS))
    finally:
        server.stop()
    output = capsys.readouterr().out
    assert status == 1
    assert f"the embedded Redis on 127.0.0.1:{server.port} stopped" in output
    assert "killed by signal 9" in output
    assert "everything stops now" in output
    assert sleeper.poll() is None  # watch reports; run_everything's cleanup stops the children


def test_watch_stops_when_postgres_dies(scratch_dir, sleeper, capsys):
    server = EmbeddedPostgres(scratch_dir / f"runner-postgres-{os.getpid()}", free_port(), "postgres")
    server.start()
    try:
        assert server.exit_reason() is None
        postmaster = int((server.data_dir / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGKILL)
        status = watch({"blog": sleeper}, [server], _stop_after(GIVE_UP_SECONDS))
    finally:
        server.stop()
    output = capsys.readouterr().out
    assert status == 1
    assert f"the embedded Postgres on 127.0.0.1:{server.port} stopped" in output
    assert f"its process {postmaster} has exited" in output


def test_watch_returns_zero_when_asked_to_stop(tmp_path, sleeper):
    server = EmbeddedRedis(tmp_path / "redis", free_port(), persist=False)
    server.start()
    try:
        assert watch({"blog": sleeper}, [server], lambda: True) == 0
    finally:
        server.stop()

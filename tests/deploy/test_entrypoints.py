"""The apps' entrypoint.sh files, run with fake rose-ash and hypercorn commands."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.support import APPS, REPO_ROOT

# Records its name and arguments. It exits with status 1 when its arguments
# start with the words in $FAKE_<NAME>_FAIL (FAKE_ROSE_ASH_FAIL="db wait").
FAKE_COMMAND = f"""#!{sys.executable}
import json, os, sys

name = os.path.basename(sys.argv[0])
args = sys.argv[1:]
with open(os.environ["FAKE_COMMANDS_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps([name, *args]) + "\\n")
failing = os.environ.get("FAKE_" + name.upper().replace("-", "_") + "_FAIL")
if failing is not None and args[: len(failing.split())] == failing.split():
    sys.exit(1)
"""


@dataclass
class EntrypointRun:
    returncode: int
    stderr: str
    calls: list[list[str]]


@pytest.fixture
def run_entrypoint(tmp_path: Path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("rose-ash", "hypercorn", "event-processor-stand-in"):
        command = bin_dir / name
        command.write_text(FAKE_COMMAND, encoding="utf-8")
        command.chmod(0o755)
    log = tmp_path / "commands.jsonl"

    def run(app: str, *args: str, **environment: str) -> EntrypointRun:
        env = {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "FAKE_COMMANDS_LOG": str(log),
            **environment,
        }
        log.write_text("", encoding="utf-8")
        result = subprocess.run(
            [str(REPO_ROOT / app / "entrypoint.sh"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        calls = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
        return EntrypointRun(result.returncode, result.stderr, calls)

    return run


def hypercorn(app: str, bind: str = "0.0.0.0:8000", workers: str = "2") -> list[str]:
    return [
        "hypercorn",
        "--bind",
        bind,
        "--workers",
        workers,
        "--access-logfile",
        "-",
        "--error-logfile",
        "-",
        f"{app}.app:create_app()",
    ]


WAIT = ["rose-ash", "db", "wait", "--timeout", "60"]


def test_blog_migrates_when_enabled(run_entrypoint) -> None:
    result = run_entrypoint("blog", RUN_MIGRATIONS="true")

    assert result.returncode == 0, result.stderr
    assert result.calls == [WAIT, ["rose-ash", "db", "upgrade"], hypercorn("blog")]


def test_blog_skips_migrations_by_default(run_entrypoint) -> None:
    result = run_entrypoint("blog")

    assert result.returncode == 0, result.stderr
    assert result.calls == [WAIT, hypercorn("blog")]


@pytest.mark.parametrize("app", [app for app in APPS if app != "blog"])
def test_other_apps_never_migrate(run_entrypoint, app: str) -> None:
    result = run_entrypoint(app, RUN_MIGRATIONS="true")

    assert result.returncode == 0, result.stderr
    assert result.calls == [WAIT, hypercorn(app)]
    assert "RUN_MIGRATIONS=true ignored: only the blog container runs migrations" in result.stderr


def test_invalid_migration_flag_is_reported(run_entrypoint) -> None:
    result = run_entrypoint("blog", RUN_MIGRATIONS="yes")

    assert result.returncode == 0, result.stderr
    assert result.calls == [WAIT, hypercorn("blog")]
    assert "RUN_MIGRATIONS='yes' is not true or false" in result.stderr


def test_database_wait_failure_stops_start(run_entrypoint) -> None:
    result = run_entrypoint("market", DB_WAIT_TIMEOUT="5", FAKE_ROSE_ASH_FAIL="db wait")

    assert result.returncode == 1
    assert result.calls == [["rose-ash", "db", "wait", "--timeout", "5"]]
    assert "PostgreSQL or Redis did not become reachable within 5s" in result.stderr


def test_migration_failure_stops_start(run_entrypoint) -> None:
    result = run_entrypoint("blog", RUN_MIGRATIONS="true", FAKE_ROSE_ASH_FAIL="db upgrade")

    assert result.returncode == 1
    assert result.calls == [WAIT, ["rose-ash", "db", "upgrade"]]
    assert "rose-ash db upgrade failed" in result.stderr


def test_bind_and_workers_from_environment(run_entrypoint) -> None:
    result = run_entrypoint("cart", HYPERCORN_BIND="127.0.0.1:9000", HYPERCORN_WORKERS="4")

    assert result.returncode == 0, result.stderr
    assert result.calls[-1] == hypercorn("cart", bind="127.0.0.1:9000", workers="4")


def test_invalid_worker_count_is_rejected(run_entrypoint) -> None:
    result = run_entrypoint("events", HYPERCORN_WORKERS="two")

    assert result.returncode == 64
    assert result.calls == []
    assert "HYPERCORN_WORKERS must be a positive integer, not 'two'" in result.stderr


def test_arguments_replace_hypercorn(run_entrypoint) -> None:
    result = run_entrypoint("federation", "event-processor-stand-in", "--once")

    assert result.returncode == 0, result.stderr
    assert result.calls == [WAIT, ["event-processor-stand-in", "--once"]]


def test_entrypoints_differ_only_in_app_name() -> None:
    blog = (REPO_ROOT / "blog" / "entrypoint.sh").read_text(encoding="utf-8")
    for app in APPS:
        text = (REPO_ROOT / app / "entrypoint.sh").read_text(encoding="utf-8")
        assert re.search(rf"^export APP={app}$", text, re.MULTILINE), app
        normalized = text.replace(f"APP={app}\n", "APP=blog\n").replace(f"Start the {app} container", "Start the blog container")
        assert normalized == blog, app


def test_app_entrypoints_run_the_shared_script() -> None:
    shared_script = REPO_ROOT / "shared" / "docker" / "entrypoint.sh"
    assert os.access(shared_script, os.X_OK)
    for app in APPS:
        text = (REPO_ROOT / app / "entrypoint.sh").read_text(encoding="utf-8")
        assert 'exec "$(dirname "$0")/../shared/docker/entrypoint.sh" "$@"' in text, app


def test_entrypoints_are_executable() -> None:
    for app in APPS:
        assert os.access(REPO_ROOT / app / "entrypoint.sh", os.X_OK), app

"""The Makefile's targets, run with make in a scratch folder that contains a copy of it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def scratch_checkout(tmp_path: Path) -> Path:
    if shutil.which("make") is None:
        pytest.fail("make is missing; install it (apt-get install make)")
    shutil.copy(REPO_ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").write_text("")
    return tmp_path


def make(folder: Path, *arguments: str) -> str:
    result = subprocess.run(["make", *arguments], cwd=folder, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_clean_removes_run_data_and_test_caches(scratch_checkout):
    for folder in (".run/postgres", ".pytest_cache/v", ".hypothesis/examples"):
        (scratch_checkout / folder).mkdir(parents=True)
        (scratch_checkout / folder / "file").write_text("x")
    (scratch_checkout / "keep.txt").write_text("x")

    make(scratch_checkout, "clean")

    assert not (scratch_checkout / ".run").exists()
    assert not (scratch_checkout / ".pytest_cache").exists()
    assert not (scratch_checkout / ".hypothesis").exists()
    assert (scratch_checkout / "keep.txt").exists()


@pytest.mark.parametrize(("arguments", "interpreter"), [((), "python3"), (("PYTHON=python3.11",), "python3.11")])
def test_python_variable_picks_venv_interpreter(scratch_checkout, arguments, interpreter):
    # -n prints the commands without running them, so nothing is installed.
    planned = make(scratch_checkout, "-n", "run", *arguments).splitlines()
    assert f"{interpreter} -m venv .venv" in planned
    assert ".venv/bin/rose-ash run" in planned

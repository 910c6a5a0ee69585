"""Each app starts from the files its Dockerfile copies into the image, and from nothing else.

The test lays out the runtime stage's COPY sources in a folder and imports
the app there in a child process that cannot see the rest of the repository.
That process drops the editable install's finder, and the folder is the only
source on its path. So an import of another app's package fails here as it
would in production.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.support import APPS, REPO_ROOT

# Leaves the image's folder and the standard library and installed packages
# as the only places to import from.
_ISOLATE = """
import importlib, sys
tree = sys.argv[1]
sys.meta_path[:] = [finder for finder in sys.meta_path if "__editable__" not in getattr(finder, "__module__", "")]
sys.path[:] = [tree] + [entry for entry in sys.path if "lib/python" in entry or entry.endswith(".zip")]
"""

_IMPORT_APP = _ISOLATE + """
module = importlib.import_module(sys.argv[2] + ".app")
app = module.create_app()
print(app.name, importlib.import_module("shared").__file__)
"""

_IMPORT_PROCESSOR = _ISOLATE + """
importlib.import_module("shared.infrastructure.activitypub.processor")
importlib.import_module("federation.activitylog.cli")
print("ok")
"""


def runtime_copies(dockerfile: Path) -> list[tuple[str, str]]:
    """Return the (source, destination) pairs that the last stage copies from the build context."""
    stages = dockerfile.read_text().split("\nFROM ")
    copies = []
    for line in stages[-1].splitlines():
        words = line.split()
        if len(words) == 3 and words[0] == "COPY" and not words[1].startswith("--"):
            copies.append((words[1], words[2]))
    return copies


def build_tree(app: str, root: Path) -> Path:
    tree = root / app
    for source, destination in runtime_copies(REPO_ROOT / app / "Dockerfile"):
        target = tree / destination
        if source.endswith("/"):
            shutil.copytree(REPO_ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(REPO_ROOT / source, target)
    return tree


def run_in_tree(code: str, tree: Path, *arguments: str) -> subprocess.CompletedProcess:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("PYTHONPATH", "ROSE_ASH_"))
    }
    environment.update(ROSE_ASH_ENV="test", ROSE_ASH_CONFIG=str(tree / "_config" / "app-config.yaml"))
    return subprocess.run(
        [sys.executable, "-c", code, str(tree), *arguments],
        cwd=tree,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_runtime_stage_copies_found():
    copies = runtime_copies(REPO_ROOT / "blog" / "Dockerfile")
    assert ("shared/", "shared/") in copies
    assert ("blog/", "blog/") in copies


@pytest.mark.parametrize("app", APPS)
def test_app_starts_from_image_files(app, tmp_path):
    tree = build_tree(app, tmp_path)

    result = run_in_tree(_IMPORT_APP, tree, app)

    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[1].startswith(str(tree))


def test_event_processor_from_federation_image(tmp_path):
    tree = build_tree("federation", tmp_path)

    result = run_in_tree(_IMPORT_PROCESSOR, tree)

    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"

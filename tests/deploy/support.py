"""A throwaway git repository laid out like Rose Ash, and a fake docker for it.

The fake ``docker`` goes first on PATH. It appends each call's arguments as one
JSON list a line to a log, succeeds on ``docker image inspect IMAGE`` only for
images in a list of existing ones, and fails any call whose arguments start
with a configured prefix. It never contacts a Docker engine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
APPS = ("blog", "market", "cart", "events", "federation", "account")
REGISTRY = "registry.rose-ash.com:5000"

FAKE_DOCKER = f"""#!{sys.executable}
import json, os, sys

args = sys.argv[1:]
with open(os.environ["FAKE_DOCKER_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(args) + "\\n")

failing = json.loads(os.environ.get("FAKE_DOCKER_FAIL", "[]"))
if failing and args[: len(failing)] == failing:
    print("fake docker: failing as configured", file=sys.stderr)
    sys.exit(1)

if args[:2] == ["image", "inspect"]:
    with open(os.environ["FAKE_DOCKER_IMAGES"], encoding="utf-8") as images:
        existing = set(images.read().split())
    missing = [name for name in args[2:] if name not in existing]
    if missing:
        print("Error: No such image: " + missing[0], file=sys.stderr)
        sys.exit(1)
    print(json.dumps([{{"RepoTags": [name]}} for name in args[2:]]))
"""


def image(app: str) -> str:
    return f"{REGISTRY}/{app}:latest"


def _git_environment() -> dict[str, str]:
    """Return os.environ with git isolated from the user's and the system's configuration."""
    env = dict(os.environ)
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Deploy Test",
        GIT_AUTHOR_EMAIL="deploy-test@example.invalid",
        GIT_COMMITTER_NAME="Deploy Test",
        GIT_COMMITTER_EMAIL="deploy-test@example.invalid",
    )
    return env


@dataclass
class DeployRepo:
    """A git repository laid out like Rose Ash, with deploy.sh and a fake docker on PATH."""

    path: Path
    bin_dir: Path
    docker_log: Path
    images_file: Path
    env: dict[str, str] = field(default_factory=dict)

    def git(self, *args: str) -> str:
        result = subprocess.run(
            ["git", *args], cwd=self.path, env=self.env, check=True, capture_output=True, text=True
        )
        return result.stdout.strip()

    def write(self, relative: str, text: str) -> None:
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def commit(self, message: str, files: dict[str, str]) -> str:
        """Write the files, commit them and return the new HEAD."""
        for relative, text in files.items():
            self.write(relative, text)
        self.git("add", "--all")
        self.git("commit", "--quiet", "--message", message)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def deployed(self, app: str) -> str | None:
        """Return the commit recorded as deployed for an app, or None."""
        result = subprocess.run(
            ["git", "rev-parse", "--quiet", "--verify", f"refs/tags/deployed/{app}^{{commit}}"],
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
        )
        return result.stdout.strip() or None

    def mark_deployed(self, apps: Iterable[str], commit: str) -> None:
        for app in apps:
            self.git("update-ref", f"refs/tags/deployed/{app}", commit)

    def set_images(self, apps: Iterable[str]) -> None:
        """Make exactly these apps' images exist for the fake docker."""
        self.images_file.write_text("".join(image(app) + "\n" for app in apps), encoding="utf-8")

    def fail_docker(self, prefix: Sequence[str]) -> None:
        """Make every docker call whose arguments start with prefix fail."""
        self.env["FAKE_DOCKER_FAIL"] = json.dumps(list(prefix))

    def docker_calls(self) -> list[list[str]]:
        if not self.docker_log.exists():
            return []
        lines = self.docker_log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]

    def run(self, script: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.path / script), *args],
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def deploy(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run("deploy.sh", *args)


def make_deploy_repo(tmp_path: Path) -> DeployRepo:
    """Return a repository whose six apps were all deployed at its first commit.

    Every app's image exists for the fake docker, and its log starts empty.
    """
    path = tmp_path / "repo"
    bin_dir = tmp_path / "bin"
    path.mkdir()
    bin_dir.mkdir()

    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER, encoding="utf-8")
    docker.chmod(0o755)

    env = _git_environment()
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["FAKE_DOCKER_LOG"] = str(tmp_path / "docker-calls.jsonl")
    env["FAKE_DOCKER_IMAGES"] = str(tmp_path / "docker-images.txt")
    for name in ("DEPLOY_REGISTRY", "DEPLOY_STACK", "FAKE_DOCKER_FAIL"):
        env.pop(name, None)

    repo = DeployRepo(
        path=path,
        bin_dir=bin_dir,
        docker_log=tmp_path / "docker-calls.jsonl",
        images_file=tmp_path / "docker-images.txt",
        env=env,
    )

    shutil.copy2(REPO_ROOT / "deploy.sh", path / "deploy.sh")
    (path / "scripts").mkdir()
    shutil.copy2(REPO_ROOT / "scripts" / "changed-apps.sh", path / "scripts" / "changed-apps.sh")

    repo.git("init", "--quiet", "--initial-branch=main")
    files = {
        "pyproject.toml": "[project]\nname = 'rose-ash'\n",
        "docker-compose.yml": "services: {}\n",
        "_config/app-config.yaml": "apps: {}\n",
        "shared/__init__.py": "",
        "tests/test_nothing.py": "",
        "README.md": "Rose Ash\n",
    }
    for app in APPS:
        files[f"{app}/app.py"] = f"# {app}\n"
        files[f"{app}/Dockerfile"] = "FROM scratch\n"
    first = repo.commit("Initial layout", files)

    repo.mark_deployed(APPS, first)
    repo.set_images(APPS)
    return repo

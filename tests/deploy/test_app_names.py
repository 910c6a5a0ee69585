"""Every place that names the six apps names the same six."""

from __future__ import annotations

import re
import subprocess

import yaml

from tests.deploy.support import APPS, REPO_ROOT

# Services of the stack that are not apps of their own.
SUPPORT_SERVICES = {"event-processor", "postgres", "redis"}


def load_yaml(relative: str) -> dict:
    return yaml.safe_load((REPO_ROOT / relative).read_text(encoding="utf-8"))


def apps_in_compose() -> set[str]:
    services = load_yaml("docker-compose.yml")["services"]
    return set(services) - SUPPORT_SERVICES


def apps_in_deploy_help() -> set[str]:
    result = subprocess.run(
        [str(REPO_ROOT / "deploy.sh"), "--help"], capture_output=True, text=True, check=True, timeout=30
    )
    match = re.search(r"^Apps:\s+(.+)$", result.stdout, re.MULTILINE)
    assert match, "deploy.sh --help has no 'Apps:' line"
    return set(match.group(1).split())


def apps_in_change_detection() -> set[str]:
    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "changed-apps.sh"), "--list"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return set(result.stdout.split())


def apps_in_workflow() -> set[str]:
    workflow = load_yaml(".gitea/workflows/ci.yml")
    return set(workflow["jobs"]["build"]["strategy"]["matrix"]["app"])


def apps_in_config() -> set[str]:
    return set(load_yaml("_config/app-config.yaml")["apps"])


def apps_in_folders() -> set[str]:
    """Return the top-level folders that hold an app: an app.py or a Dockerfile."""
    return {
        folder.name
        for folder in REPO_ROOT.iterdir()
        if folder.is_dir()
        and not folder.name.startswith(".")
        and ((folder / "app.py").exists() or (folder / "Dockerfile").exists())
    }


def test_compose_names_the_six_apps() -> None:
    assert apps_in_compose() == set(APPS)


def test_deploy_script_names_the_six_apps() -> None:
    assert apps_in_deploy_help() == set(APPS)


def test_change_detection_names_the_six_apps() -> None:
    assert apps_in_change_detection() == set(APPS)


def test_workflow_names_the_six_apps() -> None:
    assert apps_in_workflow() == set(APPS)


def test_config_names_the_six_apps() -> None:
    assert apps_in_config() == set(APPS)


def test_folders_are_the_six_apps() -> None:
    assert apps_in_folders() == set(APPS)


def test_compose_images_match_service_names() -> None:
    services = load_yaml("docker-compose.yml")["services"]
    for app in APPS:
        assert services[app]["image"] == f"registry.rose-ash.com:5000/{app}:latest", app
    assert services["event-processor"]["image"] == "registry.rose-ash.com:5000/federation:latest"

"""Facts about the Dockerfiles and docker-compose.yml that the linters do not check."""

from __future__ import annotations

import re

import yaml

from tests.deploy.support import APPS, REPO_ROOT

BASE_IMAGE = re.compile(r"^FROM python:3\.11\.\d+-slim-bookworm\b", re.MULTILINE)
SECRET_NAMES = {
    "db_password",
    "secret_key",
    "internal_secret",
    "ap_private_key",
    "sumup_api_key",
    *(f"oauth_client_secret_{app}" for app in APPS if app != "federation"),
}


def dockerfile(app: str) -> str:
    return (REPO_ROOT / app / "Dockerfile").read_text(encoding="utf-8")


def compose() -> dict:
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_dockerfiles_use_pinned_base_in_both_stages() -> None:
    for app in APPS:
        assert len(BASE_IMAGE.findall(dockerfile(app))) == 2, app


def test_dockerfiles_copy_shared_code_and_own_app_only() -> None:
    # Every app serves its outbox from the activity log, so every image also
    # has the federation app's activitylog package, and nothing else of it.
    activity_log = {"federation/__init__.py", "federation/activitylog/"}
    for app in APPS:
        copied = set(re.findall(r"^COPY (\S+) ", dockerfile(app), re.MULTILINE))
        expected = {"pyproject.toml", "shared/", "_config/", f"{app}/", "--from=build"}
        if app != "federation":
            expected |= activity_log
        assert copied == expected, app


def test_dockerfiles_install_dependencies_before_code() -> None:
    for app in APPS:
        text = dockerfile(app)
        assert text.index("pip install --no-cache-dir -r requirements.txt") < text.index("COPY shared/"), app


def test_dockerfiles_run_as_non_root_with_healthcheck() -> None:
    for app in APPS:
        text = dockerfile(app)
        assert re.search(r"^USER 10001:10001$", text, re.MULTILINE), app
        assert "http://127.0.0.1:8000/healthz" in text, app
        assert f'ENTRYPOINT ["/app/{app}/entrypoint.sh"]' in text, app


def test_app_services_roll_out_start_first_with_rollback() -> None:
    services = compose()["services"]
    for app in APPS:
        update = services[app]["deploy"]["update_config"]
        assert update["order"] == "start-first", app
        assert update["failure_action"] == "rollback", app
        assert services[app]["deploy"]["restart_policy"]["condition"] == "any", app
        assert services[app]["deploy"]["resources"]["limits"]["memory"], app


def test_only_blog_runs_migrations() -> None:
    services = compose()["services"]
    migrating = {name for name, service in services.items() if service.get("environment", {}).get("RUN_MIGRATIONS") == "true"}
    assert migrating == {"blog"}


def test_stack_secrets_are_external_and_read_from_files() -> None:
    stack = compose()
    assert set(stack["secrets"]) == SECRET_NAMES
    for name, secret in stack["secrets"].items():
        assert secret == {"external": True}, name
    for name, service in stack["services"].items():
        for variable, value in service.get("environment", {}).items():
            if re.search(r"(PASSWORD|SECRET|KEY)", variable):
                assert variable.endswith("_FILE"), f"{name}: {variable}"
                assert str(value).startswith("/run/secrets/"), f"{name}: {variable}"


def test_stack_uses_named_volumes_and_one_overlay_network() -> None:
    stack = compose()
    assert set(stack["volumes"]) == {"pgdata", "activitylog"}
    assert stack["networks"] == {"backend": {"driver": "overlay"}}
    services = stack["services"]
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    for name in ("federation", "event-processor"):
        assert "activitylog:/var/lib/rose-ash/activitylog" in services[name]["volumes"], name
        assert services[name]["environment"]["ACTIVITY_LOG_DIR"] == "/var/lib/rose-ash/activitylog", name
    assert services["event-processor"]["command"] == ["rose-ash", "event-processor"]
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"

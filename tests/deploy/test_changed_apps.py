"""scripts/changed-apps.sh, the change detection shared by deploy.sh and CI."""

from __future__ import annotations

import json

from tests.deploy.support import APPS, DeployRepo


def changed(repo: DeployRepo, *args: str) -> list[str]:
    result = repo.run("scripts/changed-apps.sh", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_app_folder_change_lists_that_app(deploy_repo: DeployRepo) -> None:
    base = deploy_repo.head()
    deploy_repo.commit("Change events", {"events/app.py": "# events 2\n"})

    assert changed(deploy_repo, base) == ["events"]


def test_apps_listed_in_canonical_order(deploy_repo: DeployRepo) -> None:
    base = deploy_repo.head()
    deploy_repo.commit("Change three apps", {f"{app}/app.py": "# 2\n" for app in ("account", "blog", "cart")})

    assert changed(deploy_repo, base) == ["blog", "cart", "account"]


def test_shared_paths_list_every_app(deploy_repo: DeployRepo) -> None:
    shared_paths = (
        "shared/__init__.py",
        "federation/activitylog/log.py",
        "_config/app-config.yaml",
        "pyproject.toml",
        "docker-compose.yml",
    )
    for path in shared_paths:
        base = deploy_repo.head()
        deploy_repo.commit(f"Change {path}", {path: f"# {path} changed\n"})

        assert changed(deploy_repo, base) == list(APPS), path


def test_other_federation_change_lists_federation(deploy_repo: DeployRepo) -> None:
    base = deploy_repo.head()
    deploy_repo.commit("Change federation", {"federation/bp/pages.py": "# federation 2\n"})

    assert changed(deploy_repo, base) == ["federation"]


def test_unrelated_change_lists_nothing(deploy_repo: DeployRepo) -> None:
    base = deploy_repo.head()
    deploy_repo.commit(
        "Change files outside the images",
        {"tests/test_nothing.py": "# 2\n", "README.md": "Rose Ash 2\n", "blogroll.txt": "not an app\n"},
    )

    assert changed(deploy_repo, base) == []
    assert changed(deploy_repo, "--json", base) == ["[]"]


def test_file_moved_between_apps_lists_both(deploy_repo: DeployRepo) -> None:
    deploy_repo.commit("Add a helper", {"blog/helper.py": "VALUE = 1\n"})
    base = deploy_repo.head()
    deploy_repo.git("mv", "blog/helper.py", "market/helper.py")
    deploy_repo.git("commit", "--quiet", "--message", "Move the helper")

    assert changed(deploy_repo, base) == ["blog", "market"]


def test_json_output_is_an_array(deploy_repo: DeployRepo) -> None:
    base = deploy_repo.head()
    deploy_repo.commit("Change two apps", {"cart/app.py": "# 2\n", "federation/app.py": "# 2\n"})

    output = changed(deploy_repo, "--json", base)

    assert len(output) == 1
    assert json.loads(output[0]) == ["cart", "federation"]


def test_head_option_limits_the_range(deploy_repo: DeployRepo) -> None:
    base = deploy_repo.head()
    middle = deploy_repo.commit("Change blog", {"blog/app.py": "# 2\n"})
    deploy_repo.commit("Change market", {"market/app.py": "# 2\n"})

    assert changed(deploy_repo, "--head", middle, base) == ["blog"]


def test_unknown_base_lists_every_app(deploy_repo: DeployRepo) -> None:
    for base in ("", "0000000000000000000000000000000000000000", "no-such-commit"):
        result = deploy_repo.run("scripts/changed-apps.sh", base)

        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == list(APPS), base
        assert "is not a known commit, so every app is listed" in result.stderr


def test_list_prints_all_apps(deploy_repo: DeployRepo) -> None:
    assert changed(deploy_repo, "--list") == list(APPS)


def test_missing_base_is_a_usage_error(deploy_repo: DeployRepo) -> None:
    result = deploy_repo.run("scripts/changed-apps.sh")

    assert result.returncode == 2
    assert "missing BASE commit" in result.stderr


def test_invalid_head_is_a_usage_error(deploy_repo: DeployRepo) -> None:
    result = deploy_repo.run("scripts/changed-apps.sh", "--head", "no-such-commit", "HEAD")

    assert result.returncode == 2
    assert "--head no-such-commit is not a commit" in result.stderr

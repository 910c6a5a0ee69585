"""deploy.sh against a throwaway git repository and a recording fake docker."""

from __future__ import annotations

from tests.deploy.support import APPS, DeployRepo, image

STACK_DEPLOY = ["stack", "deploy", "--with-registry-auth", "-c", "docker-compose.yml", "coop"]


def inspect(app: str) -> list[str]:
    return ["image", "inspect", image(app)]


def build(app: str) -> list[str]:
    return ["build", "-f", f"{app}/Dockerfile", "-t", image(app), "."]


def push(app: str) -> list[str]:
    return ["push", image(app)]


def update(app: str, service: str | None = None) -> list[str]:
    return ["service", "update", "--with-registry-auth", "--image", image(app), f"coop_{service or app}"]


def updates(apps: list[str]) -> list[list[str]]:
    """Return the service updates for apps. Federation also updates the EventProcessor."""
    calls = []
    for app in apps:
        calls.append(update(app))
        if app == "federation":
            calls.append(update("federation", "event-processor"))
    return calls


def test_blog_change_deploys_only_blog(deploy_repo: DeployRepo) -> None:
    first = deploy_repo.head()
    head = deploy_repo.commit("Change the blog", {"blog/app.py": "# blog, changed\n"})

    result = deploy_repo.deploy()

    assert result.returncode == 0, result.stderr
    others = [app for app in APPS if app != "blog"]
    assert deploy_repo.docker_calls() == [
        *(inspect(app) for app in others),
        build("blog"),
        push("blog"),
        update("blog"),
    ]
    assert deploy_repo.deployed("blog") == head
    for app in others:
        assert deploy_repo.deployed(app) == first
    assert "blog" in result.stdout
    assert "changed since" in result.stdout


def test_shared_change_deploys_every_app(deploy_repo: DeployRepo) -> None:
    head = deploy_repo.commit("Change shared code", {"shared/__init__.py": "VALUE = 1\n"})

    result = deploy_repo.deploy()

    assert result.returncode == 0, result.stderr
    assert deploy_repo.docker_calls() == [
        *(build(app) for app in APPS),
        *(push(app) for app in APPS),
        *updates(list(APPS)),
    ]
    for app in APPS:
        assert deploy_repo.deployed(app) == head


def test_compose_change_redeploys_the_stack(deploy_repo: DeployRepo) -> None:
    head = deploy_repo.commit("Change the stack", {"docker-compose.yml": "services: {blog: {}}\n"})

    result = deploy_repo.deploy()

    assert result.returncode == 0, result.stderr
    assert deploy_repo.docker_calls() == [
        *(build(app) for app in APPS),
        *(push(app) for app in APPS),
        STACK_DEPLOY,
    ]
    for app in APPS:
        assert deploy_repo.deployed(app) == head


def test_config_change_deploys_every_app(deploy_repo: DeployRepo) -> None:
    deploy_repo.commit("Change the configuration", {"_config/app-config.yaml": "apps: {blog: {}}\n"})

    result = deploy_repo.deploy()

    assert result.returncode == 0, result.stderr
    assert deploy_repo.docker_calls() == [
        *(build(app) for app in APPS),
        *(push(app) for app in APPS),
        *updates(list(APPS)),
    ]


def test_nothing_changed_only_checks_images(deploy_repo: DeployRepo) -> None:
    first = deploy_repo.head()
    deploy_repo.commit("Change only the tests", {"tests/test_nothing.py": "# changed\n"})

    result = deploy_repo.deploy()

    assert result.returncode == 0, result.stderr
    assert deploy_repo.docker_calls() == [inspect(app) for app in APPS]
    assert "Nothing to deploy" in result.stdout
    for app in APPS:
        assert deploy_repo.deployed(app) == first


def test_missing_image_is_rebuilt(deploy_repo: DeployRepo) -> None:
    deploy_repo.set_images(app for app in APPS if app != "market")

    result = deploy_repo.deploy()

    assert result.returncode == 0, result.stderr
    assert deploy_repo.docker_calls() == [
        *(inspect(app) for app in APPS),
        build("market"),
        push("market"),
        update("market"),
    ]
    assert f"image {image('market')} not found" in result.stdout
    assert deploy_repo.deployed("market") == deploy_repo.head()


def test_two_named_apps_in_canonical_order(deploy_repo: DeployRepo) -> None:
    first = deploy_repo.head()

    result = deploy_repo.deploy("market", "blog")

    assert result.returncode == 0, result.stderr
    assert deploy_repo.docker_calls() == [
        build("blog"),
        build("market"),
        push("blog"),
        push("market"),
        update("blog"),
        update("market"),
    ]
    assert deploy_repo.deployed("blog") == first
    assert deploy_repo.deployed("market") == first


def test_named_app_given_twice_deploys_once(deploy_repo: DeployRepo) -> None:
    result = deploy_repo.deploy("cart", "cart")

    assert result.returncode == 0, result.stderr
    assert deploy_repo.docker_calls() == [build("cart"), push("cart"), update("cart")]


def test_all_deploys_every_app(deploy_repo: DeployRepo) -> None:
    result = deploy_repo.deploy("--all")

    assert result.returncode == 0, result.stderr
    assert deploy_repo.docker_calls() == [
        *(build(app) for app in APPS),
        *(push(app) for app in APPS),
        *updates(list(APPS)),
    ]


def test_all_with_stack_option_uses_stack_deploy(deploy_repo: DeployRepo) -> None:
    result = deploy_repo.deploy("--all", "--stack")

    assert result.returncode == 0, result.stderr
    assert deploy_repo.docker_calls() == [
        *(build(app) for app in APPS),
        *(push(app) for app in APPS),
        STACK_DEPLOY,
    ]


def test_unknown_app_lists_valid_names(deploy_repo: DeployRepo) -> None:
    result = deploy_repo.deploy("blog", "blgo")

    assert result.returncode == 2
    assert "unknown app 'blgo'" in result.stderr
    assert "Valid apps: blog market cart events federation account" in result.stderr
    assert deploy_repo.docker_calls() == []


def test_unknown_option_is_rejected(deploy_repo: DeployRepo) -> None:
    result = deploy_repo.deploy("--everything")

    assert result.returncode == 2
    assert "unknown option --everything" in result.stderr
    assert deploy_repo.docker_calls() == []


def test_all_and_names_exclude_each_other(deploy_repo: DeployRepo) -> None:
    result = deploy_repo.deploy("--all", "blog")

    assert result.returncode == 2
    assert "--all and app names exclude each other" in result.stderr
    assert deploy_repo.docker_calls() == []


def test_dry_run_runs_no_docker_command(deploy_repo: DeployRepo) -> None:
    first = deploy_repo.head()
    deploy_repo.commit("Change the blog", {"blog/app.py": "# blog, changed\n"})

    result = deploy_repo.deploy("--dry-run")

    assert result.returncode == 0, result.stderr
    assert deploy_repo.docker_calls() == []
    printed = result.stdout.splitlines()
    assert f"+ docker build -f blog/Dockerfile -t {image('blog')} ." in printed
    assert f"+ docker push {image('blog')}" in printed
    assert f"+ docker service update --with-registry-auth --image {image('blog')} coop_blog" in printed
    assert f"+ docker image inspect {image('market')} (skipped in a dry run, so the image counts as present)" in printed
    assert "Dry run: nothing was built, pushed, deployed or recorded." in printed
    assert deploy_repo.deployed("blog") == first


def test_dry_run_with_names_prints_commands(deploy_repo: DeployRepo) -> None:
    result = deploy_repo.deploy("--dry-run", "federation")

    assert result.returncode == 0, result.stderr
    assert deploy_repo.docker_calls() == []
    printed = result.stdout.splitlines()
    assert f"+ docker service update --with-registry-auth --image {image('federation')} coop_federation" in printed
    assert (
        f"+ docker service update --with-registry-auth --image {image('federation')} coop_event-processor"
        in printed
    )


def test_first_deploy_applies_the_stack(deploy_repo: DeployRepo) -> None:
    for app in APPS:
        deploy_repo.git("tag", "--delete", f"deployed/{app}")

    result = deploy_repo.deploy()

    assert result.returncode == 0, result.stderr
    assert deploy_repo.docker_calls() == [
        *(build(app) for app in APPS),
        *(push(app) for app in APPS),
        STACK_DEPLOY,
    ]
    assert "no recorded deployment" in result.stdout
    for app in APPS:
        assert deploy_repo.deployed(app) == deploy_repo.head()


def test_failed_build_records_nothing(deploy_repo: DeployRepo) -> None:
    first = deploy_repo.head()
    deploy_repo.commit("Change shared code", {"shared/__init__.py": "VALUE = 2\n"})
    deploy_repo.fail_docker(build("cart"))

    result = deploy_repo.deploy()

    assert result.returncode == 1
    assert deploy_repo.docker_calls() == [build("blog"), build("market"), build("cart")]
    for app in APPS:
        assert deploy_repo.deployed(app) == first


def test_failed_update_records_nothing(deploy_repo: DeployRepo) -> None:
    first = deploy_repo.head()
    deploy_repo.fail_docker(update("blog"))

    result = deploy_repo.deploy("blog")

    assert result.returncode == 1
    assert deploy_repo.docker_calls() == [build("blog"), push("blog"), update("blog")]
    assert deploy_repo.deployed("blog") == first


def test_registry_and_stack_from_environment(deploy_repo: DeployRepo) -> None:
    deploy_repo.env["DEPLOY_REGISTRY"] = "localhost:5000"
    deploy_repo.env["DEPLOY_STACK"] = "staging"

    result = deploy_repo.deploy("events")

    assert result.returncode == 0, result.stderr
    assert deploy_repo.docker_calls() == [
        ["build", "-f", "events/Dockerfile", "-t", "localhost:5000/events:latest", "."],
        ["push", "localhost:5000/events:latest"],
        ["service", "update", "--with-registry-auth", "--image", "localhost:5000/events:latest", "staging_events"],
    ]


def test_uncommitted_change_warns(deploy_repo: DeployRepo) -> None:
    deploy_repo.write("blog/app.py", "# edited, not committed\n")

    result = deploy_repo.deploy("--dry-run", "blog")

    assert result.returncode == 0, result.stderr
    assert "uncommitted changes" in result.stderr


def test_print_changed_since_deployments(deploy_repo: DeployRepo) -> None:
    deploy_repo.commit("Change two apps", {"cart/app.py": "# cart 2\n", "events/app.py": "# events 2\n"})

    result = deploy_repo.deploy("--print-changed")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["cart", "events"]
    assert deploy_repo.docker_calls() == []


def test_print_changed_since_base(deploy_repo: DeployRepo) -> None:
    first = deploy_repo.head()
    deploy_repo.commit("Change account", {"account/app.py": "# account 2\n"})
    deploy_repo.mark_deployed(APPS, deploy_repo.head())
    deploy_repo.commit("Change market", {"market/app.py": "# market 2\n"})

    since_first = deploy_repo.deploy("--print-changed", first)
    since_deployments = deploy_repo.deploy("--print-changed")

    assert since_first.stdout.splitlines() == ["market", "account"]
    assert since_deployments.stdout.splitlines() == ["market"]


def test_print_changed_rejects_unknown_base(deploy_repo: DeployRepo) -> None:
    result = deploy_repo.deploy("--print-changed", "no-such-commit")

    assert result.returncode == 2
    assert "BASE 'no-such-commit' is not a commit" in result.stderr


def test_help_documents_the_options(deploy_repo: DeployRepo) -> None:
    result = deploy_repo.deploy("--help")

    assert result.returncode == 0
    for option in ("--all", "--dry-run", "--stack", "--print-changed", "deployed/blog"):
        assert option in result.stdout
    assert deploy_repo.docker_calls() == []

"""Fixtures for the deployment scripts: a throwaway git repository and a fake docker."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.support import DeployRepo, make_deploy_repo


@pytest.fixture
def deploy_repo(tmp_path: Path) -> DeployRepo:
    """Return a repository whose six apps were all deployed at its first commit, with every image present."""
    return make_deploy_repo(tmp_path)

"""Fixtures for the OAuth provider tests: federation with the blog registered as its client."""

from __future__ import annotations

import pytest

from tests.federation.oauth.support import register_blog, sign_in


@pytest.fixture
async def federation(app_client, settings):
    await register_blog(settings)
    return await app_client("federation")


@pytest.fixture
async def signed_in(federation):
    await sign_in(federation)
    return federation

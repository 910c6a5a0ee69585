"""Fixtures for the member's fediverse pages: the ActivityPub tests' fake remotes and EventProcessor, and sign-in."""

from __future__ import annotations

import pytest

from tests.federation.activitypub.conftest import database, other_remote, processor, remote  # noqa: F401
from tests.helpers import csrf_from, text_of


async def sign_in(client, login: str = "alice", password: str = "rose-ash-dev") -> None:
    token = csrf_from(await text_of(await client.get("/login")))
    response = await client.post("/login", form={"csrf_token": token, "login": login, "password": password})
    assert response.status_code == 302, await text_of(response)


@pytest.fixture
def member_client(app_client):
    """``await member_client("alice")`` gives a federation test client signed in as that demo member."""

    async def start(login: str = "alice"):
        client = await app_client("federation")
        await sign_in(client, login)
        return client

    return start


async def submit(client, page: str, action: str, **fields: str):
    """POST a form to ``action`` with the CSRF token of ``page``, as a browser that loaded the page would."""
    token = csrf_from(await text_of(await client.get(page)))
    return await client.post(action, form={"csrf_token": token, **fields})

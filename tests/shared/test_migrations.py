"""One migration tree, one head, matching the models, schema.sql and the advisory lock."""

from __future__ import annotations

import asyncio
import os
import sys

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from shared.infrastructure import migrations
from shared.models import Base
from tests.conftest import asyncpg_dsn


def test_the_tree_has_exactly_one_head():
    assert len(migrations.heads()) == 1


def test_schema_sql_matches_the_migrations():
    committed = migrations.SCHEMA_SQL.read_text(encoding="utf-8")
    assert committed == migrations.render_schema_sql(), (
        "schema.sql is out of date: run 'rose-ash db schema-sql' and commit it"
    )


def test_schema_sql_check_notices_a_drift(tmp_path):
    stale = tmp_path / "schema.sql"
    stale.write_text(migrations.render_schema_sql().replace("CREATE TABLE posts", "CREATE TABLE postz"))
    assert migrations.write_schema_sql(stale) is True
    assert migrations.write_schema_sql(stale) is False


async def test_empty_database_migrates_to_head_and_matches_the_models(empty_database_url):
    await asyncio.to_thread(migrations.upgrade, empty_database_url)
    engine = create_async_engine(empty_database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata)
            )
    finally:
        await engine.dispose()
    assert differences == []


async def test_two_processes_migrating_at_once_do_not_race(empty_database_url, clean_redis):
    environ = {**os.environ, "ROSE_ASH_ENV": "test", "DATABASE_URL": empty_database_url, "REDIS_URL": clean_redis}
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "shared.infrastructure.cli", "db", "upgrade",
            env=environ, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        for _ in range(2)
    ]
    outputs = [(await process.communicate())[0].decode() for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    connection = await asyncpg.connect(asyncpg_dsn(empty_database_url))
    try:
        versions = await connection.fetch("SELECT version_num FROM alembic_version")
    finally:
        await connection.close()
    assert [row["version_num"] for row in versions] == migrations.heads()


@pytest.mark.parametrize(
    ("statement", "constraint"),
    [
        ("INSERT INTO markets (slug, name) VALUES ('m', 'M')", None),
        (
            "INSERT INTO products (slug, name, price_minor, currency, market_id) "
            "VALUES ('p', 'P', -1, 'GBP', (SELECT id FROM markets WHERE slug = 'm'))",
            "ck_products_price_not_negative",
        ),
        (
            "INSERT INTO products (slug, name, price_minor, currency, market_id) "
            "VALUES ('p', 'P', 100, 'gbp', (SELECT id FROM markets WHERE slug = 'm'))",
            "ck_products_currency_iso",
        ),
        ("INSERT INTO cart_items (cart_id, product_id, quantity) VALUES (1, 1, 1)", "fk_cart_items_cart_id_carts"),
        ("INSERT INTO members (username, email, display_name) VALUES ('Bad Name', 'x@y', 'X')", "ck_members_username_format"),
    ],
)
async def test_constraints_live_in_the_database(empty_database_url, statement, constraint):
    await asyncio.to_thread(migrations.upgrade, empty_database_url)
    connection = await asyncpg.connect(asyncpg_dsn(empty_database_url))
    try:
        await connection.execute("INSERT INTO markets (slug, name) VALUES ('m', 'M')")
        if constraint is None:
            with pytest.raises(asyncpg.UniqueViolationError):
                await connection.execute(statement)
        else:
            with pytest.raises(asyncpg.IntegrityConstraintViolationError) as caught:
                await connection.execute(statement)
            assert caught.value.constraint_name == constraint
    finally:
        await connection.close()

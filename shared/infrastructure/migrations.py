"""Run the Alembic migrations and render ``schema.sql`` from them.

Alembic is configured here in code, so there is no ``alembic.ini`` to keep in
step with the settings. Call these from synchronous code (the CLI, or a
thread): the online migration starts an event loop of its own.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from .config import REPO_ROOT

ALEMBIC_DIR = REPO_ROOT / "shared" / "alembic"
SCHEMA_SQL = REPO_ROOT / "schema.sql"
SCHEMA_HEADER = (
    "-- Rose Ash database schema, generated from the migrations in shared/alembic.\n"
    "-- Do not edit: run `rose-ash db schema-sql` after adding a migration.\n"
)
# The URL only chooses the SQL dialect when rendering offline; nothing connects to it.
_OFFLINE_URL = "postgresql+asyncpg://render@localhost/render"


def alembic_config(database_url: str, output: io.StringIO | None = None) -> Config:
    config = Config(output_buffer=output) if output is not None else Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def heads() -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config(_OFFLINE_URL)).get_heads())


def render_schema_sql() -> str:
    """The SQL that takes an empty database to head, as ``alembic upgrade --sql`` prints it."""
    buffer = io.StringIO()
    command.upgrade(alembic_config(_OFFLINE_URL, buffer), "head", sql=True)
    body = buffer.getvalue()
    # Drop the blank lines Alembic leaves between statements so diffs stay small.
    body = "\n".join(line.rstrip() for line in body.splitlines())
    body = re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"
    return SCHEMA_HEADER + "\n" + body


def write_schema_sql(path: Path = SCHEMA_SQL) -> bool:
    """Write ``schema.sql``; returns whether its content changed."""
    rendered = render_schema_sql()
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if old != rendered:
        path.write_text(rendered, encoding="utf-8")
        return True
    return False

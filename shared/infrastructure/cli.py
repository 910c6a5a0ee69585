"""``rose-ash``: the operators' command line.

Every command loads the configuration of ``ROSE_ASH_ENV`` (dev when unset)
and stops with one clear line, not a traceback, when something it needs is
missing or unreachable.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import sys
from pathlib import Path

import click

from .config import APP_NAMES, ConfigError, Settings, load_settings
from .db import (
    ServiceUnavailable, address_of, describe, is_connect_failure, is_outage, make_engine, make_sessionmaker,
    wait_for_services,
)
from .devstack import port_bind_error
from .logs import ACCESS_LOG_VARIABLE, configure_logging


def _settings() -> Settings:
    return load_settings()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Run, migrate and look after the Rose Ash apps."""
    configure_logging()


@cli.group()
def db() -> None:
    """Database schema: migrations and the generated schema.sql."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Migrate to this revision.")
def db_upgrade(revision: str) -> None:
    """Apply the migrations (alembic upgrade) under an advisory lock."""
    from . import migrations

    settings = _settings()
    asyncio.run(wait_for_services(settings, settings.startup_timeout, redis_needed=False))
    migrations.upgrade(settings.database_url, revision)
    click.echo(f"Database {address_of(settings.database_url)} migrated to {revision} ({', '.join(migrations.heads())}).")


@db.command("wait")
@click.option(
    "--timeout", type=float, default=None,
    help="Seconds to keep trying; default: the environment's startup_timeout (30 in dev, 60 in production).",
)
@click.option("--redis/--no-redis", default=True, show_default=True, help="Wait for Redis as well.")
def db_wait(timeout: float | None, redis: bool) -> None:
    """Wait until PostgreSQL (and Redis) accept connections, or give up."""
    settings = _settings()
    timeout = settings.startup_timeout if timeout is None else timeout
    asyncio.run(wait_for_services(settings, timeout, redis_needed=redis))
    click.echo(f"PostgreSQL at {address_of(settings.database_url)} is ready" + (" and so is Redis." if redis else "."))


@db.command("schema-sql")
@click.option("--check", is_flag=True, help="Fail instead of writing when schema.sql is out of date.")
@click.option("--output", type=click.Path(path_type=Path), default=None, help="Write here instead of schema.sql.")
def db_schema_sql(check: bool, output: Path | None) -> None:
    """Regenerate schema.sql from the migrations (no database needed)."""
    from . import migrations

    target = output or migrations.SCHEMA_SQL
    if check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != migrations.render_schema_sql():
            raise click.ClickException(
                f"{target} does not match the migrations; run 'rose-ash db schema-sql' and commit the result"
            )
        click.echo(f"{target} matches the migrations.")
        return
    changed = migrations.write_schema_sql(target)
    click.echo(f"{'Wrote' if changed else 'Unchanged:'} {target}")


@cli.command("seed-demo")
@click.option(
    "--ghost-export", type=click.Path(path_type=Path, dir_okay=False), default=None,
    help="A Ghost export file to load the demo posts from (default: the fixtures' v4 export).",
)
def seed_demo(ghost_export: Path | None) -> None:
    """Load demo members, posts, products and events (dev and test only)."""
    from shared.services.demo import DEMO_PASSWORD, DemoDataRefused, seed_demo as load
    from shared.services.ghost_import import GhostImportError

    settings = _settings()
    if ghost_export is not None and not ghost_export.is_file():
        raise click.ClickException(f"{ghost_export}: no such file; nothing was loaded")
    asyncio.run(wait_for_services(settings, settings.startup_timeout, redis_needed=False))

    async def run() -> None:
        engine = make_engine(settings.database_url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                report = await load(session, settings, ghost_export)
        finally:
            await engine.dispose()
        created = ", ".join(f"{what} {number}" for what, number in report.created.items()) or "nothing new"
        click.echo(f"Demo data in {address_of(settings.database_url)}: created {created}.")
        for note in report.notes:
            click.echo(f"  {note}")
        click.echo(f"Demo members alice, bob and admin sign in with the password '{DEMO_PASSWORD}'.")

    try:
        asyncio.run(run())
    except (DemoDataRefused, GhostImportError) as error:
        raise click.ClickException(f"{error}; nothing was loaded") from error


@cli.command("serve")
@click.argument("app", type=click.Choice(APP_NAMES))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=None, help="Port to listen on; default: the app's dev port.")
def serve(app: str, host: str, port: int | None) -> None:
    """Serve one app with Hypercorn, after waiting for PostgreSQL and Redis."""
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config

    settings = _settings()
    port = port or settings.app(app).dev_port
    problem = port_bind_error(host, port)
    if problem is not None:
        raise click.ClickException(
            f"cannot start {app}: {host}:{port} is not free ({problem}); stop what uses that port, "
            f"or pass --port to choose another"
        )
    asyncio.run(wait_for_services(settings, settings.startup_timeout))
    application = importlib.import_module(f"{app}.app").create_app(settings)
    config = Config()
    config.bind = [f"{host}:{port}"]
    config.accesslog = None
    # Given a Logger, Hypercorn logs through it as it is. Given its default "-", it adds a stderr handler
    # of its own to hypercorn.error, and every line also reaches the root handler of configure_logging,
    # so each line would be printed twice.
    config.errorlog = logging.getLogger("hypercorn.error")
    config.graceful_timeout = 5
    click.echo(f"{app}: listening on http://{host}:{port}; its links use {settings.app(app).public_url} "
               f"(set {app.upper()}_PUBLIC_URL to change that)")
    asyncio.run(hypercorn_serve(application, config))


@cli.command("run")
@click.option(
    "--quiet", is_flag=True,
    help=f"Log only requests that failed (status 400 or above); the same as {ACCESS_LOG_VARIABLE}=errors.",
)
def run(quiet: bool) -> None:
    """Start PostgreSQL, Redis and all six apps for development (make run).

    Each app logs one access line per request. To log fewer, pass --quiet,
    or set ACCESS_LOG=errors to log only failed requests or ACCESS_LOG=off
    to log none; with make, run 'ACCESS_LOG=errors make run'. Everything
    stops, with exit status 1, when an app, the EventProcessor, or the
    embedded PostgreSQL or Redis stops by itself.
    """
    from .runner import run_everything

    sys.exit(run_everything(access_log="errors" if quiet else None))


def connection_advice(service: str) -> str:
    """Return the next step for an operator whose command could not connect to PostgreSQL or Redis."""
    variable = "DATABASE_URL" if service == "PostgreSQL" else "REDIS_URL"
    stored = "database" if service == "PostgreSQL" else "Redis data"
    if os.environ.get(variable):
        return (f"Check that the server {variable} names is running, or unset {variable} "
                f"to use the one 'make run' starts.")
    if os.environ.get("ROSE_ASH_ENV", "dev") != "dev":
        return f"Check that {service} is running, or set {variable} to a server that is."
    return (f"Start 'make run' in another terminal (it keeps its {stored} under .run/), "
            f"or set {variable} to a {service} server that is running.")


def _configured_address(service: str) -> str | None:
    try:
        settings = load_settings()
    except ConfigError:
        return None
    return address_of(settings.database_url if service == "PostgreSQL" else settings.redis_url)


def _attach_optional_groups() -> None:
    from .cli_oauth import oauth

    cli.add_command(oauth)
    from .activitypub.cli import activitypub, event_processor

    cli.add_command(event_processor)
    cli.add_command(activitypub)
    try:
        from federation.activitylog.cli import activitylog
    except ImportError:
        return
    cli.add_command(activitylog)


_attach_optional_groups()


def main() -> None:
    try:
        # Without standalone mode, click returns the status a command asked for instead of exiting.
        status = cli.main(standalone_mode=False)
        if isinstance(status, int) and status != 0:
            sys.exit(status)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except ConfigError as error:
        click.echo(f"rose-ash: {error}", err=True)
        sys.exit(2)
    except ServiceUnavailable as error:
        click.echo(
            f"rose-ash: could not connect to {error.service} at {error.address} ({error.reason}); giving up. "
            f"{connection_advice(error.service)}",
            err=True,
        )
        sys.exit(1)
    except Exception as error:
        outage = is_outage(error)
        if outage is None:
            raise
        service = "Redis" if outage == "redis" else "PostgreSQL"
        address = _configured_address(service)
        where = f" at {address}" if address else ""
        if is_connect_failure(error):
            message = f"could not connect to {service}{where} ({describe(error)}). {connection_advice(service)}"
        else:
            message = f"lost the connection to {service}{where} ({describe(error)}); nothing more was done."
        click.echo(f"rose-ash: {message}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()

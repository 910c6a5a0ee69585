"""``rose-ash event-processor`` and ``rose-ash activitypub``: the delivery process and operators' commands."""

from __future__ import annotations

import asyncio
import signal

import click
from sqlalchemy import select

from shared.infrastructure.config import load_settings
from shared.infrastructure.db import make_engine, make_sessionmaker, wait_for_services

from .fetch import RemoteFetcher
from .processor import EventProcessor, RetryPolicy


@click.command("event-processor")
@click.option("--poll-interval", type=float, default=0.5, show_default=True, help="Seconds to wait when nothing is due.")
@click.option("--concurrency", type=int, default=8, show_default=True, help="Deliveries sent at the same time.")
@click.option("--retry-base", type=float, default=30.0, show_default=True, help="Seconds before the first retry; each retry waits twice as long.")
@click.option("--max-attempts", type=int, default=12, show_default=True, help="Attempts before a delivery is marked dead.")
def event_processor(poll_interval: float, concurrency: int, retry_base: float, max_attempts: int) -> None:
    """Process received activities and deliver emitted ones until stopped (SIGTERM or Ctrl-C)."""
    settings = load_settings()

    async def run() -> None:
        await wait_for_services(settings, settings.startup_timeout, redis_needed=False)
        engine = make_engine(settings.database_url, pool_size=concurrency + 2)
        fetcher = RemoteFetcher(settings.allow_private_fetch)
        processor = EventProcessor(
            settings, make_sessionmaker(engine), fetcher, concurrency=concurrency, poll_interval=poll_interval,
            retry=RetryPolicy(base=retry_base, max_attempts=max_attempts),
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        try:
            await processor.run(stop)
        finally:
            await processor.close()
            await fetcher.aclose()
            await engine.dispose()

    click.echo(f"event-processor: activity logs in {settings.activity_log_dir}")
    asyncio.run(run())


@click.group("activitypub")
def activitypub() -> None:
    """Follow remote accounts and inspect deliveries."""


@activitypub.command("follow")
@click.argument("username")
@click.argument("account")
def follow(username: str, account: str) -> None:
    """Make member USERNAME follow ACCOUNT (user@host or an actor URL)."""
    from federation.services.social import follow_remote

    settings = load_settings()

    async def run() -> str:
        engine = make_engine(settings.database_url, pool_size=1)
        fetcher = RemoteFetcher(settings.allow_private_fetch)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                return await follow_remote(session, settings, fetcher, username, account)
        finally:
            await fetcher.aclose()
            await engine.dispose()

    from federation.services.social import UnknownMember

    from .fetch import FetchError
    from .remote import RemoteObjectError

    try:
        followed = asyncio.run(run())
    except (UnknownMember, RemoteObjectError, FetchError) as error:
        raise click.ClickException(_follow_failure(username, account, error)) from None
    click.echo(f"{username} asked to follow {followed}; the follow counts once they accept.")


def _follow_failure(username: str, account: str, error: Exception) -> str:
    """Return one sentence for the operator: why the follow failed, that nothing was sent, and what to do."""
    from urllib.parse import urlsplit

    from federation.services.social import HANDLE_PATTERN, InvalidAccount, UnknownMember, follow_error_message

    from .fetch import FetchError, FetchRefused

    if isinstance(error, UnknownMember):
        return f"no member is called {username!r}, so nothing was sent; give the username of a member of this site."
    text = account.strip()
    if isinstance(error, InvalidAccount) and not (
        text.lower().startswith(("http://", "https://")) or HANDLE_PATTERN.match(text)
    ):
        return (
            f"{account[:100]!r} is not a fediverse account, so nothing was sent; give a handle such as "
            "user@example.social or an actor URL that starts with https://."
        )
    cause = error if isinstance(error, FetchError) else error.__cause__
    if isinstance(cause, FetchError) and not isinstance(cause, FetchRefused):
        host = urlsplit(cause.url).netloc or account
        return (
            f"could not reach {host} ({cause.reason}), so nothing was sent; check the address and that the "
            "server is running, then try again."
        )
    return f"{follow_error_message(account, error)} Nothing was sent."


@activitypub.command("deliveries")
@click.option("--state", type=click.Choice(["pending", "done", "dead"]), default="dead", show_default=True)
@click.option("--limit", type=int, default=50, show_default=True)
def deliveries(state: str, limit: int) -> None:
    """List deliveries in STATE, newest first, with their last error."""
    from shared.models import APDelivery

    settings = load_settings()

    async def run() -> list:
        engine = make_engine(settings.database_url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session:
                rows = await session.scalars(
                    select(APDelivery).where(APDelivery.state == state).order_by(APDelivery.id.desc()).limit(limit)
                )
                return list(rows)
        finally:
            await engine.dispose()

    rows = asyncio.run(run())
    for row in rows:
        click.echo(f"{row.id}\t{row.inbox_url}\tattempts={row.attempts}\tstatus={row.last_status}\t{row.last_error or ''}")
    click.echo(f"{len(rows)} {state} deliveries")

"""``rose-ash oauth client add|list|remove``: the OAuth clients federation accepts.

Our own five apps register themselves at start-up from the configuration;
these commands are for third-party clients.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from .config import APP_NAMES, load_settings
from .db import make_engine, make_sessionmaker

T = TypeVar("T")


def _in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    settings = load_settings()

    async def run() -> T:
        engine = make_engine(settings.database_url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


@click.group("oauth")
def oauth() -> None:
    """OAuth 2.0 / OpenID Connect clients of the federation app."""


@oauth.group("client")
def client() -> None:
    """Register, list and remove OAuth clients."""


@client.command("add")
@click.option("--name", required=True, help="The name members see on the consent screen.")
@click.option(
    "--redirect-uri", "redirect_uris", multiple=True, required=True,
    help="A redirect URI, matched exactly; repeat the option for several. https, or http on localhost.",
)
@click.option("--public", is_flag=True, help="A public client (no secret, PKCE required), such as a browser or mobile app.")
def client_add(name: str, redirect_uris: tuple[str, ...], public: bool) -> None:
    """Register a third-party client and print its client_id (and secret, shown only this once)."""
    from shared.services.oauth_clients import InvalidClientRegistration, add_client

    try:
        registered = _in_transaction(lambda session: add_client(session, name, list(redirect_uris), public))
    except InvalidClientRegistration as error:
        raise click.BadParameter(str(error), param_hint="--name / --redirect-uri") from error
    click.echo(f"client_id: {registered.client_id}")
    if registered.client_secret is not None:
        click.echo(f"client_secret: {registered.client_secret}")
        click.echo("Store the secret now: only its hash is kept, so it cannot be shown again.")
    else:
        click.echo("Public client: no secret; it must use PKCE with S256.")


@client.command("list")
def client_list() -> None:
    """List every registered client with its type and redirect URIs."""
    from shared.services.oauth_clients import list_clients

    clients = _in_transaction(list_clients)
    missing = sorted(set(APP_NAMES) - {"federation"} - {c.client_id for c in clients if c.is_first_party})
    if missing:
        click.echo(f"Not listed until their first sign-in, which registers them: {', '.join(missing)}.")
    if not clients:
        click.echo("No OAuth clients are registered yet.")
        return
    for registered in clients:
        if registered.is_first_party:
            kind = "first-party"
        elif registered.is_public:
            kind = "public"
        else:
            kind = "confidential"
        click.echo(f"{registered.client_id}\t{kind}\t{registered.name}\t{' '.join(registered.redirect_uris)}")


@client.command("remove")
@click.argument("client_id")
def client_remove(client_id: str) -> None:
    """Remove a client, with every code, token and consent it holds."""
    from shared.services.oauth_clients import FirstPartyClientError, remove_client

    try:
        removed = _in_transaction(lambda session: remove_client(session, client_id))
    except FirstPartyClientError as error:
        raise click.ClickException(f"{error}; nothing was removed") from error
    if not removed:
        raise click.ClickException(f"no OAuth client has client_id {client_id!r}; see 'rose-ash oauth client list'")
    click.echo(f"Removed OAuth client {client_id}.")

"""``rose-ash oauth client add|list|remove`` and ``rose-ash oauth signing-key list|rotate|retire``.

The client commands manage the OAuth clients federation accepts. Our own
five apps register themselves at start-up from the configuration; these
commands are for third-party clients. The signing-key commands rotate the
keys that sign federation's id_tokens and logout tokens.
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
        option = "--name" if error.field == "name" else "--redirect-uri"
        raise click.BadParameter(f"{error}; nothing was registered", param_hint=f"'{option}'") from error
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
    click.echo("CLIENT_ID\tTYPE\tNAME\tREDIRECT_URIS")
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


@oauth.group("signing-key")
def signing_key() -> None:
    """Rotate, list and retire the RSA keys that sign federation's id_tokens and logout tokens."""


def _reject_when_key_configured() -> None:
    from federation.oauth.keys import configured_key_variable

    variable = configured_key_variable()
    if variable is not None:
        raise click.ClickException(
            f"{variable} is set, so federation signs with that key and ignores the keys in the database; "
            f"replace the key it names to rotate, or unset {variable}. Nothing was changed."
        )


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z")


@signing_key.command("list")
def signing_key_list() -> None:
    """List the keys, newest first: the one that signs, the others still in the JWKS, and retired ones."""
    from federation.oauth.keys import configured_key_variable, list_signing_keys

    variable = configured_key_variable()
    if variable is not None:
        click.echo(f"{variable} is set: federation signs with that key and ignores the keys below.")
    keys = _in_transaction(list_signing_keys)
    if not keys:
        click.echo("No signing key is stored yet; federation creates one when it first signs a token.")
        return
    for key in keys:
        if key.retired_at is not None:
            state = f"retired {_when(key.retired_at)}"
        elif key.signing:
            state = "signing"
        else:
            state = f"in JWKS, stopped signing {_when(key.superseded_at)}"
        click.echo(f"{key.kid}\tcreated {_when(key.created_at)}\t{state}")


@signing_key.command("rotate")
def signing_key_rotate() -> None:
    """Generate a new key that signs from now on; the older keys stay in the JWKS until retired."""
    from federation.oauth.keys import KEY_RELOAD_SECONDS, rotate_signing_key

    _reject_when_key_configured()
    kid = _in_transaction(rotate_signing_key)
    click.echo(f"Generated OIDC signing key {kid}; it signs new tokens from now on.")
    click.echo(f"Running federation processes switch to it within {KEY_RELOAD_SECONDS // 60} minutes.")
    click.echo("The older keys stay in the JWKS; retire one with 'rose-ash oauth signing-key retire KID'.")


class _DashArgumentCommand(click.Command):
    """A command whose arguments may start with "-", as a kid (an RFC 7638 thumbprint in base64url) can.

    Only the command's own option names are read as options; every other
    word, and every word after "--", is an argument. That works because the
    command's options are flags that take no value.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        option_names = {name for parameter in self.get_params(ctx) if isinstance(parameter, click.Option)
                        for name in (*parameter.opts, *parameter.secondary_opts)}
        options: list[str] = []
        arguments: list[str] = []
        remaining = list(args)
        while remaining:
            word = remaining.pop(0)
            if word == "--":
                arguments.extend(remaining)
                break
            if word in option_names:
                options.append(word)
            else:
                arguments.append(word)
        return super().parse_args(ctx, [*options, "--", *arguments])


@signing_key.command("retire", cls=_DashArgumentCommand)
@click.argument("kid")
@click.option("--force", is_flag=True, help="Retire a key even if it stopped signing less than an hour ago.")
def signing_key_retire(kid: str, force: bool) -> None:
    """Remove key KID from the JWKS, so tokens it signed no longer verify.

    KID may start with '-'; it is read as the kid, not as an option.
    """
    from federation.oauth.keys import KEY_RELOAD_SECONDS, SigningKeyChangeError, retire_signing_key

    _reject_when_key_configured()
    try:
        _in_transaction(lambda session: retire_signing_key(session, kid, force))
    except SigningKeyChangeError as error:
        raise click.ClickException(f"{error}. Nothing was changed; see 'rose-ash oauth signing-key list'.") from error
    click.echo(f"Retired OIDC signing key {kid}; tokens it signed no longer verify.")
    click.echo(f"Running federation processes drop it from the JWKS within {KEY_RELOAD_SECONDS // 60} minutes.")

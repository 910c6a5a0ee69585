"""Registering OAuth clients at federation: third parties from the CLI, our own apps at start-up.

Client secrets are random 256-bit values, so a plain SHA-256 of the secret is
enough to store them; a slow password hash would only slow every token
request down. The secret itself is shown once and never stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.infrastructure.config import ConfigError, Settings
from shared.models import OAuthClient

CALLBACK_PATH = "/auth/callback"
BACKCHANNEL_LOGOUT_PATH = "/auth/backchannel-logout"
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


class InvalidClientRegistration(ValueError):
    """A client's name or redirect URI cannot be registered.

    ``field`` names the value at fault: "name" or "redirect_uri".
    """

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    name: str
    redirect_uris: list[str]
    is_public: bool
    is_first_party: bool
    client_secret: str | None = None  # set only right after registration


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def check_redirect_uri(uri: str) -> str:
    """Return ``uri`` when it may be registered: absolute, without a fragment, https unless loopback."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidClientRegistration(f"redirect URI {uri!r} is not an absolute http or https URL", "redirect_uri")
    if parts.fragment or "#" in uri:
        raise InvalidClientRegistration(f"redirect URI {uri!r} has a fragment; remove the part from '#'", "redirect_uri")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise InvalidClientRegistration(f"redirect URI {uri!r} must use https (plain http only for localhost)", "redirect_uri")
    return uri


async def add_client(session: AsyncSession, name: str, redirect_uris: list[str], public: bool) -> RegisteredClient:
    """Register a third-party client; the returned secret is the only copy there will be."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidClientRegistration("the client name must be 1 to 100 characters long", "name")
    if not redirect_uris:
        raise InvalidClientRegistration("give at least one redirect URI", "redirect_uri")
    uris = [check_redirect_uri(uri) for uri in dict.fromkeys(redirect_uris)]
    # Hexadecimal, so that an id never starts with "-" and reads as a command-line option.
    client_id = secrets.token_hex(16)
    secret = None if public else secrets.token_urlsafe(32)
    session.add(OAuthClient(
        client_id=client_id, name=name, redirect_uris=uris,
        secret_hash=None if secret is None else hash_secret(secret), is_first_party=False,
    ))
    await session.flush()
    return RegisteredClient(client_id, name, uris, public, False, secret)


async def list_clients(session: AsyncSession) -> list[RegisteredClient]:
    rows = await session.scalars(select(OAuthClient).order_by(OAuthClient.is_first_party.desc(), OAuthClient.name))
    return [
        RegisteredClient(row.client_id, row.name, list(row.redirect_uris), row.is_public, row.is_first_party)
        for row in rows
    ]


class FirstPartyClientError(ValueError):
    """One of the platform's own apps was named where only third-party clients may be."""


async def remove_client(session: AsyncSession, client_id: str) -> bool:
    """Delete a third-party client with its codes, tokens and consents; returns whether it existed."""
    first_party = await session.scalar(
        select(OAuthClient.is_first_party).where(OAuthClient.client_id == client_id)
    )
    if first_party:
        raise FirstPartyClientError(
            f"{client_id!r} is one of Rose Ash's own apps; its client comes from the configuration and stays"
        )
    result = await session.execute(delete(OAuthClient).where(OAuthClient.client_id == client_id))
    return result.rowcount > 0


async def register_first_party_client(session: AsyncSession, settings: Settings, app_name: str) -> None:
    """Create or update this app's own client row from the configuration.

    Each client app does this itself, because only it has its secret: the
    federation app's configuration has no client secrets at all.
    """
    if not settings.oauth_client_secret:
        raise ConfigError(
            f"environments.{settings.env}.oauth_client_secret",
            f"is missing, so the {app_name} app cannot sign members in",
            "set OAUTH_CLIENT_SECRET or OAUTH_CLIENT_SECRET_FILE",
        )
    urls = settings.app(app_name)
    values = {
        "name": urls.title,
        "secret_hash": hash_secret(settings.oauth_client_secret),
        "redirect_uris": [urls.public_url + CALLBACK_PATH],
        "post_logout_redirect_uris": [urls.public_url + "/"],
        "backchannel_logout_uri": urls.internal_url + BACKCHANNEL_LOGOUT_PATH,
        "is_first_party": True,
    }
    statement = insert(OAuthClient).values(client_id=app_name, **values)
    await session.execute(statement.on_conflict_do_update(index_elements=[OAuthClient.client_id], set_=values))

"""Who a token speaks for: the ``sub``, id_token and userinfo claims, and logout tokens.

The ``sub`` is the member's ActivityPub actor URI, ``<federation>/users/<username>``,
so the same identity serves OpenID Connect clients and the fediverse.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.infrastructure.config import Settings
from shared.models import Member, OAuthClient

from .keys import KeyStore

log = logging.getLogger(__name__)

ID_TOKEN_LIFETIME_SECONDS = 3600
LOGOUT_TOKEN_LIFETIME_SECONDS = 120
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
BACKCHANNEL_TIMEOUT_SECONDS = 5.0
SUPPORTED_SCOPES = ("openid", "profile", "email")


def issuer(settings: Settings) -> str:
    return settings.app("federation").public_url


def subject_of(settings: Settings, username: str) -> str:
    return f"{issuer(settings)}/users/{username}"


def username_of(settings: Settings, subject: str) -> str | None:
    prefix = issuer(settings) + "/users/"
    return subject[len(prefix):] if subject.startswith(prefix) else None


def member_claims(settings: Settings, member: Member, scope: str) -> dict[str, Any]:
    scopes = set(scope.split())
    claims: dict[str, Any] = {"sub": subject_of(settings, member.username)}
    if "profile" in scopes:
        claims["name"] = member.display_name
        claims["preferred_username"] = member.username
        claims["profile"] = f"{issuer(settings)}/@{member.username}"
    if "email" in scopes:
        claims["email"] = member.email
        # NOTE: sign-up does not confirm email addresses yet.
        claims["email_verified"] = False
    return claims


async def build_id_token(
    keys: KeyStore,
    settings: Settings,
    client: OAuthClient,
    member: Member,
    scope: str,
    auth_time: float,
    nonce: str | None,
    session_sid: str | None,
) -> str:
    now = int(time.time())
    claims = {
        **member_claims(settings, member, scope),
        "iss": issuer(settings),
        "aud": client.client_id,
        "azp": client.client_id,
        "iat": now,
        "exp": now + ID_TOKEN_LIFETIME_SECONDS,
        "auth_time": int(auth_time),
    }
    if nonce:
        claims["nonce"] = nonce
    if session_sid:
        claims["sid"] = session_sid
    return await keys.sign(claims)


async def load_member(db: AsyncSession, member_id: int) -> Member | None:
    return await db.scalar(select(Member).where(Member.id == member_id))


async def _post_logout_token(
    http: httpx.AsyncClient, keys: KeyStore, settings: Settings, client: OAuthClient, subject: str, sid: str | None
) -> bool:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer(settings),
        "aud": client.client_id,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_LIFETIME_SECONDS,
        "jti": secrets.token_urlsafe(16),
        "sub": subject,
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }
    if sid:
        claims["sid"] = sid
    token = await keys.sign(claims, token_type="logout+jwt")
    assert client.backchannel_logout_uri is not None
    try:
        response = await http.post(client.backchannel_logout_uri, data={"logout_token": token})
    except httpx.HTTPError as error:
        log.warning("back-channel logout to client %s at %s failed: %s", client.client_id, client.backchannel_logout_uri, error)
        return False
    if response.status_code != 200:
        log.warning(
            "back-channel logout to client %s at %s answered %d",
            client.client_id, client.backchannel_logout_uri, response.status_code,
        )
        return False
    return True


async def send_backchannel_logouts(
    db: AsyncSession,
    keys: KeyStore,
    settings: Settings,
    subject: str,
    sid: str | None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> dict[str, bool]:
    """Post a logout token to every client with a back-channel logout URI, in parallel.

    Returns, per client_id, whether the client confirmed with a 200. A client
    that fails is logged and skipped: one app that is down must not keep the
    member signed in everywhere else.
    """
    clients = list(await db.scalars(select(OAuthClient).where(OAuthClient.backchannel_logout_uri.is_not(None))))
    if not clients:
        return {}
    async with httpx.AsyncClient(timeout=BACKCHANNEL_TIMEOUT_SECONDS, transport=transport) as http:
        results = await asyncio.gather(
            *(_post_logout_token(http, keys, settings, client, subject, sid) for client in clients)
        )
    return {client.client_id: ok for client, ok in zip(clients, results)}

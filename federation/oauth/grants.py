"""Authorization codes and tokens: issue, exchange, rotate, revoke.

Codes and tokens are random strings handed out once; only their SHA-256 is
stored. Every token issued from one code shares the code's ``family_id``, so
a reused code or a reused refresh token revokes the whole family.

Revocations caused by a replay must survive the failed request that detected
it, whose own transaction is rolled back, so they run in a transaction of
their own (``revoke_family``).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.models import OAuthAuthorizationCode, OAuthClient, OAuthToken
from shared.services.oauth_clients import hash_secret

from .errors import OAuthError, invalid_grant

log = logging.getLogger(__name__)

CODE_LIFETIME = timedelta(minutes=10)
ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
REFRESH_TOKEN_LIFETIME = timedelta(days=30)
# RFC 7636, section 4.1: 43 to 128 characters from the unreserved set.
CODE_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
# The base64url SHA-256 of a verifier, without padding, is always 43 characters.
S256_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Grant:
    """What a code or refresh token proves: who approved which client for what."""

    member_id: int
    scope: str
    family_id: uuid.UUID
    session_sid: str | None
    auth_time: datetime
    nonce: str | None = None


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int


async def issue_code(
    db: AsyncSession,
    client: OAuthClient,
    member_id: int,
    redirect_uri: str,
    scope: str,
    nonce: str | None,
    code_challenge: str | None,
    session_sid: str | None,
    auth_time: datetime,
) -> str:
    code = secrets.token_urlsafe(32)
    now = utcnow()
    db.add(OAuthAuthorizationCode(
        code_hash=hash_secret(code), client_pk=client.id, member_id=member_id, redirect_uri=redirect_uri,
        scope=scope, nonce=nonce, code_challenge=code_challenge,
        code_challenge_method="S256" if code_challenge else None, family_id=uuid.uuid4(),
        session_sid=session_sid, auth_time=auth_time, created_at=now, expires_at=now + CODE_LIFETIME,
    ))
    await db.flush()
    return code


async def revoke_family(sessionmaker: async_sessionmaker, family_id: uuid.UUID, reason: str) -> int:
    """Revoke every live token of a family in a transaction of its own; returns how many."""
    async with sessionmaker() as session, session.begin():
        result = await session.execute(
            update(OAuthToken)
            .where(OAuthToken.family_id == family_id, OAuthToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    log.warning("revoked %d tokens of family %s: %s", result.rowcount, family_id, reason)
    return result.rowcount


def _check_pkce(code: OAuthAuthorizationCode, verifier: str | None) -> None:
    if code.code_challenge is None:
        if verifier:
            raise invalid_grant("code_verifier was sent, but the authorization request had no code_challenge")
        return
    if not verifier:
        raise invalid_grant("code_verifier is missing; send the PKCE verifier the code_challenge was made from")
    if not CODE_VERIFIER.match(verifier):
        raise invalid_grant("code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_', '~'")
    if not secrets.compare_digest(s256(verifier), code.code_challenge):
        raise invalid_grant("code_verifier does not match the code_challenge")


async def exchange_code(
    db: AsyncSession,
    sessionmaker: async_sessionmaker,
    client: OAuthClient,
    code_value: str,
    redirect_uri: str | None,
    verifier: str | None,
) -> Grant:
    """Check a code against the client, redirect_uri and PKCE verifier, and use it up."""
    code = await db.scalar(select(OAuthAuthorizationCode).where(OAuthAuthorizationCode.code_hash == hash_secret(code_value)))
    if code is None or code.client_pk != client.id:
        raise invalid_grant("the authorization code is invalid or was issued to another client")
    if code.used_at is not None:
        await revoke_family(sessionmaker, code.family_id, f"authorization code {code.id} was used again")
        raise invalid_grant("the authorization code was already used; the tokens issued from it are revoked")
    if code.expires_at <= utcnow():
        raise invalid_grant("the authorization code has expired; start the sign-in again")
    if redirect_uri != code.redirect_uri:
        raise invalid_grant("redirect_uri does not match the one in the authorization request")
    _check_pkce(code, verifier)

    # Claim the code atomically: of two requests racing with one code, the second finds it used.
    claimed = await db.scalar(
        update(OAuthAuthorizationCode)
        .where(OAuthAuthorizationCode.id == code.id, OAuthAuthorizationCode.used_at.is_(None))
        .values(used_at=utcnow())
        .returning(OAuthAuthorizationCode.id)
    )
    if claimed is None:
        await revoke_family(sessionmaker, code.family_id, f"authorization code {code.id} was used twice at once")
        raise invalid_grant("the authorization code was already used; the tokens issued from it are revoked")
    return Grant(code.member_id, code.scope, code.family_id, code.session_sid, code.auth_time, code.nonce)


async def issue_tokens(db: AsyncSession, client: OAuthClient, grant: Grant) -> IssuedTokens:
    now = utcnow()
    access_token = secrets.token_urlsafe(32)
    refresh_token = secrets.token_urlsafe(32)
    for value, token_type, lifetime in (
        (access_token, "access", ACCESS_TOKEN_LIFETIME),
        (refresh_token, "refresh", REFRESH_TOKEN_LIFETIME),
    ):
        db.add(OAuthToken(
            token_hash=hash_secret(value), token_type=token_type, client_pk=client.id, member_id=grant.member_id,
            scope=grant.scope, family_id=grant.family_id, session_sid=grant.session_sid, auth_time=grant.auth_time,
            created_at=now, expires_at=now + lifetime,
        ))
    await db.flush()
    return IssuedTokens(access_token, refresh_token, int(ACCESS_TOKEN_LIFETIME.total_seconds()))


async def rotate_refresh_token(
    db: AsyncSession,
    sessionmaker: async_sessionmaker,
    client: OAuthClient,
    refresh_token: str,
    requested_scope: str | None,
) -> Grant:
    """Use up a refresh token; a second use of the same one revokes its whole family."""
    token = await db.scalar(
        select(OAuthToken).where(OAuthToken.token_hash == hash_secret(refresh_token), OAuthToken.token_type == "refresh")
    )
    if token is None or token.client_pk != client.id:
        raise invalid_grant("the refresh token is invalid or was issued to another client")
    if token.revoked_at is not None:
        raise invalid_grant("the refresh token was revoked; sign in again")
    if token.rotated_at is not None:
        await revoke_family(sessionmaker, token.family_id, f"refresh token {token.id} was used again")
        raise invalid_grant("the refresh token was already used; every token of this sign-in is now revoked")
    if token.expires_at <= utcnow():
        raise invalid_grant("the refresh token has expired; sign in again")
    scope = token.scope
    if requested_scope:
        requested = set(requested_scope.split())
        if not requested <= set(token.scope.split()):
            raise OAuthError("invalid_scope", f"scope may only narrow the original grant ({token.scope})")
        scope = " ".join(sorted(requested))

    claimed = await db.scalar(
        update(OAuthToken)
        .where(OAuthToken.id == token.id, OAuthToken.rotated_at.is_(None), OAuthToken.revoked_at.is_(None))
        .values(rotated_at=utcnow())
        .returning(OAuthToken.id)
    )
    if claimed is None:
        await revoke_family(sessionmaker, token.family_id, f"refresh token {token.id} was used twice at once")
        raise invalid_grant("the refresh token was already used; every token of this sign-in is now revoked")
    return Grant(token.member_id, scope, token.family_id, token.session_sid, token.auth_time)


async def find_token(db: AsyncSession, value: str) -> OAuthToken | None:
    return await db.scalar(select(OAuthToken).where(OAuthToken.token_hash == hash_secret(value)))


def is_active(token: OAuthToken) -> bool:
    if token.revoked_at is not None or token.expires_at <= utcnow():
        return False
    return token.token_type == "access" or token.rotated_at is None


async def revoke_token(db: AsyncSession, client: OAuthClient, value: str) -> None:
    """Revoke a token issued to ``client`` (RFC 7009); a refresh token takes its whole family along.

    Unknown tokens and tokens of other clients are ignored, as RFC 7009 lets
    the server answer 200 for a token it does not know.
    """
    token = await find_token(db, value)
    if token is None or token.client_pk != client.id:
        return
    condition = OAuthToken.family_id == token.family_id if token.token_type == "refresh" else OAuthToken.id == token.id
    await db.execute(update(OAuthToken).where(condition, OAuthToken.revoked_at.is_(None)).values(revoked_at=utcnow()))


async def revoke_member_tokens(db: AsyncSession, member_id: int, keep_sid: str | None) -> int:
    """Revoke every live token of the member except those issued from the federation session ``keep_sid``.

    Returns how many sign-ins (token families) lost their tokens.
    """
    condition = OAuthToken.member_id == member_id
    if keep_sid is not None:
        condition &= or_(OAuthToken.session_sid.is_(None), OAuthToken.session_sid != keep_sid)
    families = await db.scalars(
        update(OAuthToken)
        .where(condition, OAuthToken.revoked_at.is_(None), OAuthToken.expires_at > utcnow())
        .values(revoked_at=utcnow())
        .returning(OAuthToken.family_id)
    )
    return len(set(families))

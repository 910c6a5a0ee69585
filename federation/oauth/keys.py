"""The RSA keys that sign id_tokens and logout tokens, and the JWKS that publishes them.

In production the key may come from a PEM file named by ``OIDC_PRIVATE_KEY_FILE``
(or the PEM itself in ``OIDC_PRIVATE_KEY``). Without either, the first key is
generated on first use and kept in ``oidc_signing_keys``; an advisory lock
makes sure two processes starting at once create only one.

Keys in the database rotate (``rose-ash oauth signing-key rotate``): the
newest key that is not retired signs, and every key that is not retired is
in the JWKS, so tokens signed by an older key still verify until an operator
retires it. Each process reads the keys again every ``KEY_RELOAD_SECONDS``.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.models import OIDCSigningKey

log = logging.getLogger(__name__)

ALGORITHM = "RS256"
KEY_SIZE_BITS = 2048
# pg_advisory_xact_lock key: the bytes of "oidckey" read as a number.
KEY_CREATION_LOCK = 0x6F6964636B6579
# How long a process signs with the keys it read before it reads them again; also the JWKS's max-age.
# NOTE: with several federation processes, one may sign with a new key for up to this long
# before another publishes it in its JWKS; federation runs as one replica today.
KEY_RELOAD_SECONDS = 300
# An id_token lives an hour, so a key that stopped signing less than this ago may still be needed to verify one.
RETIRE_GRACE = timedelta(hours=1)


class SigningKeyError(Exception):
    """The configured OIDC signing key could not be read."""


def _with_kid(pem: bytes | str) -> RSAKey:
    key = RSAKey.import_key(pem)
    return RSAKey.import_key(pem, parameters={"kid": key.thumbprint(), "use": "sig", "alg": ALGORITHM})


def _configured_key(environ: dict[str, str] | os._Environ) -> RSAKey | None:
    pem = environ.get("OIDC_PRIVATE_KEY")
    file_name = environ.get("OIDC_PRIVATE_KEY_FILE")
    if not pem and file_name:
        try:
            pem = Path(file_name).read_text(encoding="utf-8")
        except OSError as error:
            raise SigningKeyError(
                f"OIDC_PRIVATE_KEY_FILE={file_name} could not be read ({error.strerror}); "
                "point it at an RSA private key in PEM form"
            ) from error
    if not pem:
        return None
    try:
        key = _with_kid(pem)
    except ValueError as error:
        raise SigningKeyError(f"the OIDC signing key is not an RSA private key in PEM form: {error}") from error
    if not key.is_private:
        raise SigningKeyError("the OIDC signing key holds only a public key; give the RSA private key")
    return key


def configured_key_variable(environ: dict[str, str] | os._Environ | None = None) -> str | None:
    """Return the name of the variable that sets the signing key, when one is set; database keys are then unused."""
    environ = os.environ if environ is None else environ
    for name in ("OIDC_PRIVATE_KEY", "OIDC_PRIVATE_KEY_FILE"):
        if environ.get(name):
            return name
    return None


async def _stored_keys(session: AsyncSession) -> list[RSAKey]:
    rows = await session.scalars(
        select(OIDCSigningKey)
        .where(OIDCSigningKey.retired_at.is_(None))
        .order_by(OIDCSigningKey.created_at.desc(), OIDCSigningKey.id.desc())
    )
    return [_with_kid(row.private_key_pem) for row in rows]


def _new_key_row() -> OIDCSigningKey:
    pem = RSAKey.generate_key(KEY_SIZE_BITS).as_pem(private=True).decode("ascii")
    return OIDCSigningKey(kid=_with_kid(pem).kid, private_key_pem=pem)


async def _create_stored_key(sessionmaker: async_sessionmaker) -> list[RSAKey]:
    async with sessionmaker() as session, session.begin():
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": KEY_CREATION_LOCK})
        keys = await _stored_keys(session)
        if keys:
            return keys
        row = _new_key_row()
        session.add(row)
        log.info("generated OIDC signing key kid=%s", row.kid)
        return [_with_kid(row.private_key_pem)]


class KeyStore:
    """The active signing keys of one process; the newest signs.

    A configured key is read once. Database keys are read again after
    ``reload_seconds``, so a rotation reaches every process within that time.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker,
        environ: dict[str, str] | os._Environ | None = None,
        reload_seconds: float = KEY_RELOAD_SECONDS,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._environ = os.environ if environ is None else environ
        self._reload_seconds = reload_seconds
        self._keys: list[RSAKey] = []
        self._configured = False
        self._loaded_at = 0.0

    async def keys(self) -> list[RSAKey]:
        if self._configured:
            return self._keys
        if self._keys and time.monotonic() - self._loaded_at < self._reload_seconds:
            return self._keys
        configured = _configured_key(self._environ)
        if configured is not None:
            self._keys, self._configured = [configured], True
            return self._keys
        async with self._sessionmaker() as session:
            keys = await _stored_keys(session)
        self._keys = keys or await _create_stored_key(self._sessionmaker)
        self._loaded_at = time.monotonic()
        return self._keys

    async def jwks(self) -> dict[str, Any]:
        return {"keys": [key.as_dict(private=False) for key in await self.keys()]}

    async def sign(self, claims: dict[str, Any], token_type: str = "JWT") -> str:
        key = (await self.keys())[0]
        return jwt.encode({"alg": ALGORITHM, "kid": key.kid, "typ": token_type}, claims, key)

    async def verify(self, token: str) -> dict[str, Any]:
        """Check the signature of a token we issued and return its claims; expiry is not checked here.

        Raises ``joserfc.errors.JoseError`` (or ``ValueError``) when the token is malformed or not ours.
        """
        decoded = jwt.decode(token, KeySet(await self.keys()), algorithms=[ALGORITHM])
        return dict(decoded.claims)


class SigningKeyChangeError(Exception):
    """A rotation or retirement that would break sign-in; nothing was changed."""


@dataclass(frozen=True)
class SigningKeyInfo:
    kid: str
    created_at: datetime
    retired_at: datetime | None
    signing: bool
    # When the oldest newer key that is not retired was created, which is when this key stopped signing.
    superseded_at: datetime | None


async def list_signing_keys(session: AsyncSession) -> list[SigningKeyInfo]:
    """Return every key in the database, newest first, saying which one signs."""
    rows = list(await session.scalars(
        select(OIDCSigningKey).order_by(OIDCSigningKey.created_at.desc(), OIDCSigningKey.id.desc())
    ))
    active = [row for row in rows if row.retired_at is None]
    infos = []
    for row in rows:
        newer = [other for other in active if (other.created_at, other.id) > (row.created_at, row.id)]
        superseded_at = min(other.created_at for other in newer) if newer else None
        signing = bool(active) and row is active[0]
        infos.append(SigningKeyInfo(row.kid, row.created_at, row.retired_at, signing, superseded_at))
    return infos


async def rotate_signing_key(session: AsyncSession) -> str:
    """Add a new key, which signs from now on; the older keys stay in the JWKS. Returns the new kid."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": KEY_CREATION_LOCK})
    row = _new_key_row()
    session.add(row)
    await session.flush()
    log.info("rotated the OIDC signing key: kid=%s signs from now on", row.kid)
    return row.kid


async def retire_signing_key(session: AsyncSession, kid: str, force: bool = False) -> SigningKeyInfo:
    """Take a key out of the JWKS, so tokens it signed no longer verify; returns the key as it was.

    Raises ``SigningKeyChangeError`` for an unknown, already retired or
    signing key, and, unless ``force``, for a key that stopped signing less
    than ``RETIRE_GRACE`` ago.
    """
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": KEY_CREATION_LOCK})
    found = next((info for info in await list_signing_keys(session) if info.kid == kid), None)
    if found is None:
        raise SigningKeyChangeError(f"no OIDC signing key has kid {kid!r}")
    if found.retired_at is not None:
        raise SigningKeyChangeError(f"the key {kid} was already retired on {found.retired_at:%Y-%m-%d %H:%M %Z}")
    if found.signing:
        raise SigningKeyChangeError(f"the key {kid} is the one that signs; rotate first, then retire it")
    now = datetime.now(timezone.utc)
    if not force and found.superseded_at is not None and now - found.superseded_at < RETIRE_GRACE:
        wait = found.superseded_at + RETIRE_GRACE - now
        raise SigningKeyChangeError(
            f"the key {kid} stopped signing less than an hour ago, so id_tokens it signed may still be in use; "
            f"retry in {int(wait.total_seconds() // 60) + 1} minutes, or pass --force"
        )
    await session.execute(update(OIDCSigningKey).where(OIDCSigningKey.kid == kid).values(retired_at=now))
    log.info("retired OIDC signing key kid=%s", kid)
    return found

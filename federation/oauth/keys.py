"""The RSA key that signs id_tokens and logout tokens, and the JWKS that publishes it.

In production the key may come from a PEM file named by ``OIDC_PRIVATE_KEY_FILE``
(or the PEM itself in ``OIDC_PRIVATE_KEY``). Without either, the first key is
generated on first use and kept in ``oidc_signing_keys``; an advisory lock
makes sure two processes starting at once create only one.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.models import OIDCSigningKey

log = logging.getLogger(__name__)

ALGORITHM = "RS256"
KEY_SIZE_BITS = 2048
# pg_advisory_xact_lock key: the bytes of "oidckey" read as a number.
KEY_CREATION_LOCK = 0x6F6964636B6579


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


async def _stored_keys(session: AsyncSession) -> list[RSAKey]:
    rows = await session.scalars(
        select(OIDCSigningKey).where(OIDCSigningKey.retired_at.is_(None)).order_by(OIDCSigningKey.created_at.desc())
    )
    return [_with_kid(row.private_key_pem) for row in rows]


async def _create_stored_key(sessionmaker: async_sessionmaker) -> list[RSAKey]:
    async with sessionmaker() as session, session.begin():
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": KEY_CREATION_LOCK})
        keys = await _stored_keys(session)
        if keys:
            return keys
        key = RSAKey.generate_key(KEY_SIZE_BITS)
        pem = key.as_pem(private=True).decode("ascii")
        stored = _with_kid(pem)
        session.add(OIDCSigningKey(kid=stored.kid, private_key_pem=pem))
        log.info("generated OIDC signing key kid=%s", stored.kid)
        return [stored]


class KeyStore:
    """The active signing keys of one process, loaded once; the newest signs."""

    def __init__(self, sessionmaker: async_sessionmaker, environ: dict[str, str] | os._Environ | None = None) -> None:
        self._sessionmaker = sessionmaker
        self._environ = os.environ if environ is None else environ
        self._keys: list[RSAKey] = []

    async def keys(self) -> list[RSAKey]:
        if not self._keys:
            configured = _configured_key(self._environ)
            if configured is not None:
                self._keys = [configured]
            else:
                async with self._sessionmaker() as session:
                    self._keys = await _stored_keys(session)
                if not self._keys:
                    self._keys = await _create_stored_key(self._sessionmaker)
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

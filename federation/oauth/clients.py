"""Finding clients and authenticating them at the token, revocation and introspection endpoints.

Confidential clients authenticate with ``client_secret_basic`` or
``client_secret_post`` (RFC 6749, section 2.3.1); public clients send only
their ``client_id``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from urllib.parse import unquote_plus

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from werkzeug.datastructures import Headers, MultiDict

from shared.models import OAuthClient
from shared.services.oauth_clients import hash_secret

from .errors import OAuthError, invalid_request


def invalid_client(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, status=401)


async def find_client(db: AsyncSession, client_id: str | None) -> OAuthClient | None:
    if not client_id or len(client_id) > 64:
        return None
    return await db.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))


def _basic_credentials(headers: Headers) -> tuple[str, str] | None:
    authorization = headers.get("Authorization", "")
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise invalid_client("the Basic Authorization header is not valid base64 of client_id:client_secret") from None
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        raise invalid_client("the Basic Authorization header has no ':' between client_id and client_secret")
    # RFC 6749, section 2.3.1: both parts are form-urlencoded before base64.
    return unquote_plus(client_id), unquote_plus(secret)


async def authenticate_client(db: AsyncSession, headers: Headers, form: MultiDict, *, public_allowed: bool = True) -> OAuthClient:
    """Return the client that sent this request, or raise ``invalid_client``."""
    basic = _basic_credentials(headers)
    if basic is not None and (form.get("client_secret") is not None):
        raise invalid_request("send the client credentials either in the Authorization header or in the form, not both")
    if basic is not None:
        client_id, secret = basic
        if form.get("client_id") not in (None, client_id):
            raise invalid_request("client_id in the form differs from the one in the Authorization header")
    else:
        client_id, secret = form.get("client_id"), form.get("client_secret")

    client = await find_client(db, client_id)
    if client is None:
        raise invalid_client("client authentication failed: unknown client_id")
    if client.is_public:
        if secret:
            raise invalid_client("client authentication failed: this client is public and has no secret")
        if not public_allowed:
            raise invalid_client("this endpoint is for confidential clients only")
        return client
    if not secret:
        raise invalid_client("client authentication failed: client_secret is missing")
    if not hmac.compare_digest(hash_secret(secret), client.secret_hash or ""):
        raise invalid_client("client authentication failed: wrong client_secret")
    return client

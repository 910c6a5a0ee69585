"""Verify a signed request to one of our inboxes: the signature checks, then the signer's key."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx
from cryptography.exceptions import UnsupportedAlgorithm
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import APDomainBlock

from .fetch import RemoteFetcher
from .remote import RemoteKey, RemoteObjectError, cached_key, fetch_key
from .signatures import (
    SignatureProblem, VerificationResult, inspect_request, load_public_key, verify_with_key,
)

log = logging.getLogger(__name__)


async def is_blocked(session: AsyncSession, host: str | None) -> bool:
    if not host:
        return False
    host = host.lower()
    candidates = [host]
    parts = host.split(".")
    candidates += [".".join(parts[index:]) for index in range(1, len(parts) - 1)]
    return await session.scalar(select(APDomainBlock.domain).where(APDomainBlock.domain.in_(candidates)).limit(1)) is not None


def _key_verifies(parsed, key: RemoteKey) -> bool:
    try:
        public_key = load_public_key(key.public_key_pem)
    except (ValueError, UnsupportedAlgorithm):
        log.warning("the public key %s of %s cannot be loaded", key.key_id, key.actor_uri)
        return False
    return verify_with_key(parsed, public_key)


async def verify_incoming(
    session: AsyncSession,
    fetcher: RemoteFetcher,
    fetch_auth: httpx.Auth | None,
    *,
    method: str,
    target: str,
    host: str,
    headers: Mapping[str, str],
    body: bytes,
    max_age: timedelta,
    max_future: timedelta,
    now: datetime | None = None,
) -> VerificationResult:
    """Check a request's signature, fetching the signer's key when it is not cached.

    When a cached key fails, the key is fetched again once, because the
    remote may have rotated it.
    """
    result = inspect_request(method, target, host, headers, body, now or datetime.now(timezone.utc), max_age, max_future)
    if not result.ok:
        return result
    parsed = result.parsed
    assert parsed is not None
    if await is_blocked(session, urlsplit(parsed.key_id).hostname):
        return VerificationResult.failed(SignatureProblem.BLOCKED, f"{urlsplit(parsed.key_id).hostname} is blocked", parsed.key_id)

    key = await cached_key(session, parsed.key_id)
    fetched = False
    if key is None:
        key, fetched = await _fetch(session, fetcher, fetch_auth, parsed.key_id), True
        if key is None:
            return VerificationResult.failed(SignatureProblem.UNKNOWN_KEY, f"no public key found at {parsed.key_id}", parsed.key_id)
    if _key_verifies(parsed, key):
        return VerificationResult(None, "", parsed.key_id, key.actor_uri, parsed)
    if not fetched:
        # NOTE: every failed signature with a cached key costs one fetch of that key.
        refreshed = await _fetch(session, fetcher, fetch_auth, parsed.key_id)
        if refreshed is not None and _key_verifies(parsed, refreshed):
            return VerificationResult(None, "", parsed.key_id, refreshed.actor_uri, parsed)
    return VerificationResult.failed(SignatureProblem.BAD_SIGNATURE, f"the signature does not verify with {parsed.key_id}", parsed.key_id)


async def _fetch(session, fetcher, fetch_auth, key_id: str) -> RemoteKey | None:
    try:
        return await fetch_key(session, fetcher, key_id, fetch_auth)
    except RemoteObjectError as error:
        log.info("fetching key %s failed: %s", key_id, error.reason)
        return None

"""Rate limits on failed sign-ins and on wrong current passwords, counted in Redis.

Failed sign-ins count per account and per client address. The account key is
the login name as typed (lower-cased), whether or not a member has it. So the
limit behaves the same for unknown names and never reveals which accounts
exist.

A browser that has signed in to the account before carries a known-device
cookie (``federation.services.known_devices``). Its failures count against
that device instead of the account, and the account's count does not block
it. So a stranger who types wrong passwords for a username locks out other
strangers, but not the member's own browsers. The per-address limit applies
to every browser alike.
"""

from __future__ import annotations

import hashlib

import redis.asyncio as aioredis

WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_DEVICE = 5
MAX_FAILURES_PER_ADDRESS = 20
MAX_WRONG_CURRENT_PASSWORDS = 5
BLOCKED_MESSAGE = "Too many failed sign-in attempts. Wait 15 minutes, then try again."
PASSWORD_CHANGE_BLOCKED_MESSAGE = (
    "Password changes are paused after too many wrong current passwords. Wait 15 minutes, then try again."
)


def _account_key(login: str) -> str:
    # Hash the login so Redis never stores typed email addresses in the clear.
    account = hashlib.sha256(login.strip().lower().encode("utf-8")).hexdigest()
    return f"signin-failures:account:{account}"


def _address_key(address: str) -> str:
    return f"signin-failures:address:{address}"


def _device_key(device: str) -> str:
    return f"signin-failures:device:{device}"


def _password_change_key(member_id: int) -> str:
    return f"password-change-failures:member:{member_id}"


def _first_key_and_limit(login: str, device: str | None) -> tuple[str, int]:
    if device:
        return _device_key(device), MAX_FAILURES_PER_DEVICE
    return _account_key(login), MAX_FAILURES_PER_ACCOUNT


async def _count_failure(client: aioredis.Redis, *keys: str) -> None:
    async with client.pipeline(transaction=True) as pipe:
        for key in keys:
            # The window starts at the first failure; INCR keeps the expiry that SET NX gave the key.
            pipe.set(key, 0, ex=WINDOW_SECONDS, nx=True)
            pipe.incr(key)
        await pipe.execute()


async def is_blocked(client: aioredis.Redis, login: str, address: str, device: str | None = None) -> bool:
    """Check the limits for a sign-in; ``device`` is the known-device id when the browser has one for this account."""
    first_key, limit = _first_key_and_limit(login, device)
    first_count, address_count = await client.mget(first_key, _address_key(address))
    return int(first_count or 0) >= limit or int(address_count or 0) >= MAX_FAILURES_PER_ADDRESS


async def record_failure(client: aioredis.Redis, login: str, address: str, device: str | None = None) -> None:
    first_key, _ = _first_key_and_limit(login, device)
    await _count_failure(client, first_key, _address_key(address))


async def record_success(client: aioredis.Redis, login: str, address: str, device: str | None = None) -> None:
    keys = [_account_key(login)]
    if device:
        keys.append(_device_key(device))
    await client.delete(*keys)


async def password_change_blocked(client: aioredis.Redis, member_id: int) -> bool:
    return int(await client.get(_password_change_key(member_id)) or 0) >= MAX_WRONG_CURRENT_PASSWORDS


async def record_wrong_current_password(client: aioredis.Redis, member_id: int) -> None:
    await _count_failure(client, _password_change_key(member_id))


async def clear_wrong_current_passwords(client: aioredis.Redis, member_id: int) -> None:
    await client.delete(_password_change_key(member_id))

"""Rate limits on failed sign-ins, per account and per client address, counted in Redis.

The account key is the login name as typed (lower-cased), whether or not a
member has it. So the limit behaves the same for unknown names and never
reveals which accounts exist.
"""

from __future__ import annotations

import hashlib

import redis.asyncio as aioredis

WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
BLOCKED_MESSAGE = "Too many failed sign-in attempts. Wait 15 minutes, then try again."


def _keys(login: str, address: str) -> tuple[str, str]:
    # Hash the login so Redis never stores typed email addresses in the clear.
    account = hashlib.sha256(login.strip().lower().encode("utf-8")).hexdigest()
    return f"signin-failures:account:{account}", f"signin-failures:address:{address}"


async def is_blocked(client: aioredis.Redis, login: str, address: str) -> bool:
    account_key, address_key = _keys(login, address)
    account_count, address_count = await client.mget(account_key, address_key)
    return int(account_count or 0) >= MAX_FAILURES_PER_ACCOUNT or int(address_count or 0) >= MAX_FAILURES_PER_ADDRESS


async def record_failure(client: aioredis.Redis, login: str, address: str) -> None:
    async with client.pipeline(transaction=True) as pipe:
        for key in _keys(login, address):
            # The window starts at the first failure; INCR keeps the expiry that SET NX gave the key.
            pipe.set(key, 0, ex=WINDOW_SECONDS, nx=True)
            pipe.incr(key)
        await pipe.execute()


async def record_success(client: aioredis.Redis, login: str, address: str) -> None:
    account_key, _ = _keys(login, address)
    await client.delete(account_key)

"""The async SQLAlchemy engine, and telling an outage apart from a bug."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from urllib.parse import urlsplit

import redis.asyncio as aioredis
import redis.exceptions
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from .config import Settings

log = logging.getLogger(__name__)


class ServiceUnavailable(Exception):
    """PostgreSQL or Redis could not be reached."""

    def __init__(self, service: str, address: str, reason: str) -> None:
        self.service = service
        self.address = address
        self.reason = reason
        super().__init__(f"{service} at {address} is unreachable ({reason})")


def make_engine(database_url: str, *, pool_size: int = 5) -> AsyncEngine:
    return create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=5,
        pool_recycle=1800,
        connect_args={"timeout": 5, "command_timeout": 30},
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def make_redis(redis_url: str) -> aioredis.Redis:
    return aioredis.Redis.from_url(
        redis_url, decode_responses=False, socket_connect_timeout=3, socket_timeout=5, health_check_interval=30
    )


def address_of(url: str) -> str:
    """``host:port/name`` of a database or Redis URL, without the credentials."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path}"


def is_outage(error: BaseException) -> str | None:
    """Return the failing service's name when ``error`` means PostgreSQL or Redis is unreachable."""
    if isinstance(error, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return "redis"
    if isinstance(error, ServiceUnavailable):
        return error.service.lower()
    if isinstance(error, OperationalError | InterfaceError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    ):
        return "database"
    if isinstance(error, ConnectionError | socket.gaierror | asyncio.TimeoutError | TimeoutError):
        return "database"
    return None


def is_connect_failure(error: BaseException) -> bool:
    """Return True when ``error`` means a connection to PostgreSQL or Redis could not be opened at all.

    asyncpg raises the socket's own OSError (or TimeoutError) while it connects,
    and SQLAlchemy passes it on unwrapped. Once connected, a broken connection
    arrives wrapped in a DBAPIError. redis-py words every failed connect as
    "Error N connecting to HOST:PORT" or "Timeout connecting to server".
    """
    if isinstance(error, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return "connecting to" in str(error).lower()
    if isinstance(error, DBAPIError):
        return False
    return isinstance(error, OSError | asyncio.TimeoutError | TimeoutError)


def describe(error: BaseException) -> str:
    """Return a one-line reason for ``error``, without a traceback, for operators."""
    cause = error
    while getattr(cause, "orig", None) is not None:
        cause = cause.orig  # type: ignore[assignment]
    if isinstance(cause, ConnectionRefusedError):
        # asyncio words a refused connection as "Connect call failed (HOST, PORT)", which hides the reason.
        return "connection refused"
    if isinstance(cause, redis.exceptions.ConnectionError) and isinstance(cause.__cause__, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror.lower()
    text_ = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return text_[:200]


async def check_database(engine: AsyncEngine) -> None:
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to connect means the database is unreachable to us
        raise ServiceUnavailable("PostgreSQL", address_of(str(engine.url)), describe(error)) from error


async def check_redis(client: aioredis.Redis, url: str) -> None:
    try:
        await client.ping()
    except Exception as error:
        raise ServiceUnavailable("Redis", address_of(url), describe(error)) from error


async def wait_for_services(settings: Settings, timeout: float, *, redis_needed: bool = True) -> None:
    """Retry PostgreSQL (and Redis) until both accept connections or ``timeout`` seconds pass.

    Raises ``ServiceUnavailable`` for the first service still failing at the end.
    """
    engine = make_engine(settings.database_url, pool_size=1)
    client = make_redis(settings.redis_url)
    deadline = time.monotonic() + timeout
    delay = 0.2
    reported: set[str] = set()
    try:
        while True:
            try:
                await check_database(engine)
                if redis_needed:
                    await check_redis(client, settings.redis_url)
                return
            except ServiceUnavailable as error:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise
                if error.service not in reported:
                    log.warning("%s; retrying for up to %.0f s", error, timeout)
                    reported.add(error.service)
                await asyncio.sleep(min(delay, remaining))
                delay = min(delay * 2, 2.0)
    finally:
        await engine.dispose()
        await client.aclose()


def get_session():
    """Return the current request's database session: one transaction per request.

    The factory commits it after a response below 400 and rolls it back
    otherwise, so a view never commits by itself.
    """
    from quart import current_app, g

    session = g.get("db_session")
    if session is None:
        session = current_app.extensions["sessionmaker"]()
        g.db_session = session
    return session

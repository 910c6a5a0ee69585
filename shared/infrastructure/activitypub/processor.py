"""The EventProcessor: processes received activities and delivers emitted ones.

It runs as its own process (``rose-ash event-processor``). Each step claims
rows with ``FOR UPDATE SKIP LOCKED``, so several processors never take the
same row, and a processor that dies mid-step leaves its rows to the next one:

- inbound: run the activity's handler and mark the row done, in one transaction;
- outbound: work out the inboxes (one per shared inbox), queue one delivery
  per inbox with the exact body bytes, append the activity to the actor's
  activity log, and mark the row done, in one transaction;
- deliveries: each worker holds one delivery's row lock while it POSTs, and
  records the outcome in the same transaction. A delivery is repeated only
  when the process dies after the remote responded and before that commit.

``run_once()`` performs one pass of all three, so tests drive it step by step.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.infrastructure.config import Settings
from shared.models import APActivity, APDelivery, APFollow, APRemoteActor

from .actors import LocalActor, app_actor, local_actor_by_id, local_actor_by_uri, signing_key
from .fetch import FetchError, RemoteFetcher
from .inbound import InboundContext, process_inbound
from .outbox import ActivityLogWriter
from .remote import RemoteObjectError, remote_actor
from .signatures import HTTPSignatureAuth
from .vocab import ACTIVITY_JSON, PUBLIC_ALIASES, ids_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: attempt n waits ``base * 2**(n-1)`` seconds, at most ``cap``; dead after ``max_attempts``."""

    base: float = 30.0
    cap: float = 12 * 3600.0
    max_attempts: int = 12

    def delay(self, attempts: int) -> timedelta:
        seconds = min(self.cap, self.base * 2 ** max(0, attempts - 1))
        return timedelta(seconds=seconds * random.uniform(0.9, 1.1))


# 4xx responses that mean the delivery will never succeed; other 4xx (401 after a key
# change, 408, 429) and every 5xx are retried.
PERMANENT_STATUSES = frozenset(range(400, 500)) - {401, 408, 429}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def serialize(activity: dict[str, Any]) -> bytes:
    """Return the bytes to deliver for an activity, without bto and bcc, which are addressing for us only."""
    public = {key: value for key, value in activity.items() if key not in ("bto", "bcc")}
    return json.dumps(public, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class EventProcessor:
    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker,
        fetcher: RemoteFetcher,
        *,
        log_directory: Path | None = None,
        retry: RetryPolicy = RetryPolicy(),
        concurrency: int = 8,
        batch_size: int = 50,
        poll_interval: float = 0.5,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.fetcher = fetcher
        self.logs = ActivityLogWriter(log_directory or settings.activity_log_dir)
        self.retry = retry
        self.concurrency = concurrency
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self._signers: dict[int, HTTPSignatureAuth] = {}

    async def close(self) -> None:
        await self.logs.close()

    async def run(self, stop: asyncio.Event) -> None:
        log.info("EventProcessor started; activity logs in %s", self.logs.directory)
        while not stop.is_set():
            try:
                done = await self.run_once()
            except Exception:
                log.exception("EventProcessor pass failed; retrying in %.1f s", self.poll_interval)
                done = 0
            if done == 0:
                try:
                    await asyncio.wait_for(stop.wait(), self.poll_interval)
                except TimeoutError:
                    pass
        log.info("EventProcessor stopped")

    async def run_once(self) -> int:
        """Process what is due now: received activities, emitted activities, then deliveries."""
        return await self.process_inbound() + await self.process_outbound() + await self.deliver_due()

    async def _fetch_auth(self, session: AsyncSession) -> HTTPSignatureAuth:
        actor = await app_actor(session, self.settings, "federation")
        return HTTPSignatureAuth(*await signing_key(session, self.settings, actor))

    # Received activities

    async def process_inbound(self) -> int:
        done, due_before = 0, _now()
        while done < self.batch_size:
            outcome = await self._process_one_inbound(due_before)
            if outcome is None:
                break
            done += 1
        return done

    def _claim(self, direction: str, due_before: datetime):
        # Rows are due when their time came before this pass began, so a row
        # postponed during the pass waits for the next one.
        return (
            select(APActivity)
            .where(APActivity.direction == direction, APActivity.state == "pending", APActivity.next_attempt_at <= due_before)
            .order_by(APActivity.next_attempt_at, APActivity.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )

    async def _process_one_inbound(self, due_before: datetime) -> int | None:
        async with self.sessionmaker() as session:
            async with session.begin():
                row = await session.scalar(self._claim("inbound", due_before))
                if row is None:
                    return None
                row_id = row.id
                try:
                    async with session.begin_nested():
                        context = InboundContext(session, self.settings, self.fetcher, await self._fetch_auth(session), row)
                        await process_inbound(context)
                except Exception as error:  # a bad remote document must not stop the queue
                    self._postpone(row, f"{type(error).__name__}: {error}")
                    log.warning("processing %s (row %s) failed: %s", row.uri, row_id, error, exc_info=not isinstance(error, (RemoteObjectError, FetchError)))
                    return row_id
                row.state, row.processed_at = "done", _now()
        return row_id

    def _postpone(self, row: APActivity, error: str) -> None:
        row.attempts += 1
        row.last_error = error[:2000]
        if row.attempts >= self.retry.max_attempts:
            row.state = "failed"
        else:
            row.next_attempt_at = _now() + self.retry.delay(row.attempts)

    # Emitted activities

    async def process_outbound(self) -> int:
        done, due_before = 0, _now()
        while done < self.batch_size:
            if await self._process_one_outbound(due_before) is None:
                break
            done += 1
        return done

    async def _process_one_outbound(self, due_before: datetime) -> int | None:
        async with self.sessionmaker() as session, session.begin():
            row = await session.scalar(self._claim("outbound", due_before))
            if row is None:
                return None
            actor = await local_actor_by_id(session, self.settings, row.actor_id) if row.actor_id else None
            if actor is None:
                row.state, row.last_error = "failed", "the activity has no local actor"
                return row.id
            body = serialize(row.payload)
            for inbox in await self._inboxes(session, actor, row.payload):
                await session.execute(
                    insert(APDelivery).values(activity_id=row.id, inbox_url=inbox, body=body).on_conflict_do_nothing()
                )
            row.log_seq = await self.logs.append_once(actor.log_name, row.uri, body)
            row.state, row.processed_at = "done", _now()
            return row.id

    async def _inboxes(self, session: AsyncSession, actor: LocalActor, activity: dict[str, Any]) -> list[str]:
        """Return each inbox to deliver to, a shared inbox once for all the actors behind it."""
        inboxes: dict[str, None] = {}
        addresses = [address for key in ("to", "cc", "bto", "bcc", "audience") for address in ids_of(activity.get(key))]
        for address in addresses:
            if address in PUBLIC_ALIASES:
                continue
            if address == actor.followers:
                follows = await session.scalars(
                    select(APFollow).where(
                        APFollow.local_actor_id == actor.id, APFollow.direction == "inbound", APFollow.state == "accepted"
                    )
                )
                for follow in follows:
                    target = follow.remote_shared_inbox or follow.remote_inbox
                    if target:
                        inboxes[target] = None
                continue
            if await local_actor_by_uri(session, self.settings, address) is not None:
                # NOTE: local actors on this instance are not delivered to; they share our database.
                continue
            target = await self._remote_inbox(session, address)
            if target:
                inboxes[target] = None
        return list(inboxes)

    async def _remote_inbox(self, session: AsyncSession, uri: str) -> str | None:
        cached = await session.scalar(select(APRemoteActor).where(APRemoteActor.uri == uri))
        try:
            found = cached or await remote_actor(session, self.fetcher, uri, await self._fetch_auth(session))
        except RemoteObjectError as error:
            log.warning("no inbox for %s, so it is left out of the delivery: %s", uri, error.reason)
            return None
        return found.shared_inbox or found.inbox

    # Deliveries

    async def deliver_due(self) -> int:
        """Deliver every due delivery, ``concurrency`` at a time; return how many attempts were made."""
        due_before = _now()
        counts = await asyncio.gather(*(self._delivery_worker(due_before) for _ in range(self.concurrency)))
        return sum(counts)

    async def _delivery_worker(self, due_before: datetime) -> int:
        attempts = 0
        while attempts < self.batch_size and await self._deliver_one(due_before):
            attempts += 1
        return attempts

    async def _signer(self, session: AsyncSession, actor_id: int) -> HTTPSignatureAuth:
        signer = self._signers.get(actor_id)
        if signer is None:
            actor = await local_actor_by_id(session, self.settings, actor_id)
            assert actor is not None
            signer = HTTPSignatureAuth(*await signing_key(session, self.settings, actor))
            self._signers[actor_id] = signer
        return signer

    async def _deliver_one(self, due_before: datetime) -> bool:
        async with self.sessionmaker() as session, session.begin():
            delivery = await session.scalar(
                select(APDelivery)
                .where(APDelivery.state == "pending", APDelivery.next_attempt_at <= due_before)
                .order_by(APDelivery.next_attempt_at, APDelivery.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if delivery is None:
                return False
            activity = await session.get(APActivity, delivery.activity_id)
            signer = await self._signer(session, activity.actor_id)
            delivery.attempts += 1
            try:
                response = await self.fetcher.request(
                    "POST", delivery.inbox_url, content=delivery.body,
                    headers={"Content-Type": ACTIVITY_JSON, "Accept": ACTIVITY_JSON}, auth=signer,
                )
            except FetchError as error:
                self._delivery_failed(delivery, None, error.reason)
                return True
            if 200 <= response.status_code < 300:
                delivery.state, delivery.delivered_at, delivery.last_status = "done", _now(), response.status_code
                delivery.last_error = None
            else:
                self._delivery_failed(delivery, response.status_code, f"the inbox answered {response.status_code}")
            return True

    def _delivery_failed(self, delivery: APDelivery, status: int | None, reason: str) -> None:
        delivery.last_status, delivery.last_error = status, reason[:2000]
        if (status is not None and status in PERMANENT_STATUSES) or delivery.attempts >= self.retry.max_attempts:
            delivery.state = "dead"
            log.warning("delivery %s to %s is dead after %d attempts: %s", delivery.id, delivery.inbox_url, delivery.attempts, reason)
        else:
            delivery.next_attempt_at = _now() + self.retry.delay(delivery.attempts)
            log.info("delivery %s to %s failed (attempt %d), retrying later: %s", delivery.id, delivery.inbox_url, delivery.attempts, reason)


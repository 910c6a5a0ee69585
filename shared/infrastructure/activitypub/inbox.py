"""Receive an activity at an inbox: verify, check the signer, store it once, answer 202.

The work an activity causes happens later, in the EventProcessor
(``inbound.py``). Storing the row first, under the unique pair of activity
id and recipient, means a repeated delivery stops here and causes nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import APActivity, APFollow, APRemoteActor, APRemoteKey

from .fetch import RemoteFetcher
from .signatures import STATUS_FOR_PROBLEM, SignatureProblem
from .verification import verify_incoming
from .vocab import id_of, types_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboxOutcome:
    status: int
    message: str
    stored: bool = False


@dataclass(frozen=True)
class InboxRequest:
    method: str
    target: str
    host: str
    headers: dict[str, str]
    body: bytes


def _error(problem: SignatureProblem, detail: str) -> InboxOutcome:
    return InboxOutcome(STATUS_FOR_PROBLEM[problem], detail)


async def _actor_known(session: AsyncSession, actor_uri: str) -> bool:
    for query in (
        select(APRemoteActor.id).where(APRemoteActor.uri == actor_uri),
        select(APRemoteKey.id).where(APRemoteKey.actor_uri == actor_uri),
        select(APFollow.id).where(APFollow.remote_actor_uri == actor_uri),
    ):
        if await session.scalar(query.limit(1)) is not None:
            return True
    return False


async def receive_activity(
    session: AsyncSession,
    fetcher: RemoteFetcher,
    fetch_auth: httpx.Auth | None,
    request: InboxRequest,
    *,
    recipient_uri: str,
    recipient_actor_id: int | None,
    max_age: timedelta,
    max_future: timedelta,
) -> InboxOutcome:
    """Verify and store one delivery; ``recipient_uri`` is the addressed actor, or the shared inbox URL."""
    try:
        activity = json.loads(request.body)
    except ValueError:
        return _error(SignatureProblem.MALFORMED, "the body is not JSON")
    if not isinstance(activity, dict):
        return _error(SignatureProblem.MALFORMED, "the body is not a JSON object")
    activity_id, actor_uri = id_of(activity.get("id")), id_of(activity.get("actor"))
    if not activity_id or not actor_uri:
        return _error(SignatureProblem.MALFORMED, "the activity needs an id and an actor")

    # Servers announce a deleted account to everyone who may have known it; when
    # we never did, there is nothing to remove and no key left to fetch.
    if "Delete" in types_of(activity) and id_of(activity.get("object")) == actor_uri:
        if not await _actor_known(session, actor_uri):
            return InboxOutcome(202, "the deleted actor was never known here")

    result = await verify_incoming(
        session, fetcher, fetch_auth, method=request.method, target=request.target, host=request.host,
        headers=request.headers, body=request.body, max_age=max_age, max_future=max_future,
    )
    if not result.ok:
        log.info("inbox %s rejected %s from %s: %s", recipient_uri, activity_id, result.key_id, result.detail)
        return InboxOutcome(result.status, result.detail)
    if result.actor_uri != actor_uri:
        detail = f"the activity's actor {actor_uri} is not the signer {result.actor_uri}"
        log.info("inbox %s rejected %s: %s", recipient_uri, activity_id, detail)
        return _error(SignatureProblem.ACTOR_MISMATCH, detail)

    kinds = sorted(types_of(activity))
    inserted = await session.scalar(
        insert(APActivity)
        .values(
            uri=activity_id, recipient_uri=recipient_uri, actor_id=recipient_actor_id, remote_actor_uri=actor_uri,
            direction="inbound", activity_type=(kinds[0] if kinds else "Unknown")[:40],
            object_uri=id_of(activity.get("object")), payload=activity, state="pending",
        )
        .on_conflict_do_nothing(index_elements=["uri", "recipient_uri"])
        .returning(APActivity.id)
    )
    if inserted is None:
        return InboxOutcome(202, "already received")
    return InboxOutcome(202, "accepted", stored=True)


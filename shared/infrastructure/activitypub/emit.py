"""Emit an activity: insert a pending outbound row in the caller's transaction.

The EventProcessor delivers it after the transaction commits, so an activity
goes out exactly when the change it announces is saved.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import APActivity

from .actors import LocalActor
from .vocab import AS_CONTEXT, PUBLIC, id_of


def new_activity_uri(actor: LocalActor) -> str:
    return f"{actor.uri}/activities/{uuid.uuid4()}"


def public_addressing(actor: LocalActor) -> dict[str, list[str]]:
    return {"to": [PUBLIC], "cc": [actor.followers]}


async def emit_activity(
    session: AsyncSession,
    actor: LocalActor,
    activity_type: str,
    activity_object: Any,
    *,
    to: list[str],
    cc: list[str] | None = None,
    extra: dict[str, Any] | None = None,
    uri: str | None = None,
) -> APActivity:
    """Add a pending outbound activity to ``session``; it is delivered once the transaction commits."""
    uri = uri or new_activity_uri(actor)
    payload: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": uri,
        "type": activity_type,
        "actor": actor.uri,
        "object": activity_object,
        "to": to,
        "published": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    if cc:
        payload["cc"] = cc
    payload.update(extra or {})
    row = APActivity(
        uri=uri, recipient_uri="", actor_id=actor.id, direction="outbound", activity_type=activity_type,
        object_uri=id_of(activity_object), payload=payload, state="pending",
    )
    session.add(row)
    await session.flush()
    return row

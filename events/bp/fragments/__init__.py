"""The events' fragments for other apps: ``upcoming``, the next entries (``n``, optional ``calendar``)."""

from __future__ import annotations

from quart import abort, render_template
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from shared.infrastructure.db import get_session
from shared.infrastructure.fragments import FragmentContext, fragments_blueprint
from shared.models import Calendar, EventEntry

MAX_ENTRIES = 20


async def upcoming(context: FragmentContext) -> str:
    raw = context.params.get("n", "3")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_ENTRIES:
        abort(400, f"n must be a whole number from 1 to {MAX_ENTRIES}")
    query = (
        select(EventEntry)
        .where(EventEntry.starts_at >= func.now())
        .order_by(EventEntry.starts_at)
        .limit(int(raw))
        .options(selectinload(EventEntry.calendar))
    )
    if context.params.get("calendar"):
        query = query.join(Calendar).where(Calendar.slug == context.params["calendar"])
    entries = list(await get_session().scalars(query))
    return await render_template("events/fragments/upcoming.html", entries=entries)


bp = fragments_blueprint({"upcoming": upcoming})

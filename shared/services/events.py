"""The events' service: upcoming entries for other apps' widgets."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from shared.contracts.dtos import EventEntryDTO
from shared.models import EventEntry


def entry_dto(entry: EventEntry) -> EventEntryDTO:
    return EventEntryDTO(
        id=entry.id,
        calendar_slug=entry.calendar.slug,
        slug=entry.slug,
        title=entry.title,
        starts_at=entry.starts_at,
        ends_at=entry.ends_at,
        location=entry.location,
    )


class SqlEventsService:
    async def upcoming_entries(self, session: AsyncSession, limit: int) -> list[EventEntryDTO]:
        rows = await session.scalars(
            select(EventEntry)
            .where(EventEntry.starts_at >= func.now())
            .order_by(EventEntry.starts_at)
            .limit(limit)
            .options(selectinload(EventEntry.calendar))
        )
        return [entry_dto(entry) for entry in rows]

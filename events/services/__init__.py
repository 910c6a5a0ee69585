"""Queries behind the events' pages: a month of entries laid out as weeks."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from shared.models import Calendar, EventEntry


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def label(self) -> str:
        return self.first_day.strftime("%B %Y")

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def has_previous(self) -> bool:
        return (self.year, self.month) > (FIRST_YEAR, 1)

    @property
    def has_next(self) -> bool:
        return (self.year, self.month) < (LAST_YEAR, 12)

    def shifted(self, months: int) -> "Month":
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)


FIRST_YEAR = 1900
LAST_YEAR = 2999


def parse_month(raw: str | None, today: date) -> Month | None:
    """Read ``YYYY-MM`` from the query string; None when it is not a month in the calendar's range."""
    if not raw:
        return Month(today.year, today.month)
    parts = raw.split("-")
    if len(parts) != 2 or not all(part.isdigit() for part in parts) or (len(parts[0]), len(parts[1])) != (4, 2):
        return None
    year, month = int(parts[0]), int(parts[1])
    if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
        return None
    return Month(year, month)


async def month_entries(session: AsyncSession, month: Month) -> list[EventEntry]:
    start = datetime.combine(month.first_day, datetime.min.time(), timezone.utc)
    end = datetime.combine(month.shifted(1).first_day, datetime.min.time(), timezone.utc)
    rows = await session.scalars(
        select(EventEntry)
        .where(EventEntry.starts_at >= start, EventEntry.starts_at < end)
        .order_by(EventEntry.starts_at)
        .options(selectinload(EventEntry.calendar))
    )
    return list(rows)


def weeks(month: Month, entries: list[EventEntry]) -> list[list[tuple[date, list[EventEntry]]]]:
    """Monday-first weeks covering the month, each day with its entries."""
    by_day: dict[date, list[EventEntry]] = {}
    for entry in entries:
        by_day.setdefault(entry.starts_at.astimezone(timezone.utc).date(), []).append(entry)
    grid = calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)
    return [[(day, by_day.get(day, [])) for day in week] for week in grid]


async def entry_by_slugs(session: AsyncSession, calendar_slug: str, entry_slug: str) -> EventEntry | None:
    return await session.scalar(
        select(EventEntry)
        .join(Calendar)
        .where(Calendar.slug == calendar_slug, EventEntry.slug == entry_slug)
        .options(selectinload(EventEntry.calendar))
    )

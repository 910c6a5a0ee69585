"""The month calendar and a page per event entry."""

from __future__ import annotations

from datetime import datetime, timezone

from quart import Blueprint, abort, render_template, request

from events.services import FIRST_YEAR, LAST_YEAR, entry_by_slugs, month_entries, parse_month, weeks
from shared.infrastructure.db import get_session

bp = Blueprint("pages", __name__)


@bp.get("/")
async def index():
    today = datetime.now(timezone.utc).date()
    month = parse_month(request.args.get("month"), today)
    if month is None:
        abort(
            400,
            f"'{request.args.get('month', '')[:20]}' is not a month the calendar shows. "
            f"Use the form YYYY-MM between {FIRST_YEAR}-01 and {LAST_YEAR}-12, as in ?month=2026-12.",
        )
    entries = await month_entries(get_session(), month)
    return await render_template(
        "events/index.html", month=month, weeks=weeks(month, entries), entries=entries, today=today
    )


@bp.get("/<calendar_slug>/<entry_slug>/")
async def entry(calendar_slug: str, entry_slug: str):
    found = await entry_by_slugs(get_session(), calendar_slug, entry_slug)
    if found is None:
        abort(404)
    return await render_template("events/entry.html", entry=found)

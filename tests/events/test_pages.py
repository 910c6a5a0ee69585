"""The events' month calendar and entry pages."""

from __future__ import annotations

from datetime import datetime, timezone

from tests.helpers import text_of


async def test_index_shows_this_month_with_the_demo_entries(app_client):
    client = await app_client("events")
    response = await client.get("/")
    html = await text_of(response)
    assert response.status_code == 200
    assert f"Events in {datetime.now(timezone.utc).strftime('%B %Y')}" in html
    for title in ("Seed swap", "Sourdough workshop", "Members&#39; meeting", "Orchard walk"):
        assert title in html


async def test_another_month_has_no_entries(app_client):
    client = await app_client("events")
    response = await client.get("/?month=1999-01")
    html = await text_of(response)
    assert response.status_code == 200
    assert "Events in January 1999" in html
    assert "Nothing is on this month." in html


async def test_entry_page_shows_time_and_place(app_client):
    client = await app_client("events")
    response = await client.get("/community/bread-workshop/")
    html = await text_of(response)
    assert response.status_code == 200
    assert "<h1>Sourdough workshop</h1>" in html
    assert "Where: Birch Bakery" in html


async def test_unknown_entry_is_the_404_page(app_client):
    client = await app_client("events")
    assert (await client.get("/community/no-such-event/")).status_code == 404
    assert (await client.get("/no-calendar/seed-swap/")).status_code == 404


async def test_malformed_month_is_a_400_that_shows_the_expected_form(app_client):
    client = await app_client("events")
    for bad in ("december", "2026-13", "2026-1-1", "99999-01", "2026-1", "1899-12", "3000-01"):
        response = await client.get(f"/?month={bad}")
        assert response.status_code == 400, bad
        assert "Use the form YYYY-MM" in await text_of(response)


async def test_calendar_edges_link_only_inside_the_range(app_client):
    client = await app_client("events")
    first = await text_of(await client.get("/?month=1900-01"))
    last = await text_of(await client.get("/?month=2999-12"))
    assert 'rel="prev"' not in first
    assert 'href="/?month=1900-02"' in first
    assert 'rel="next"' not in last
    assert 'href="/?month=2999-11"' in last

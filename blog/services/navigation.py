"""The blog's managed navigation menu, shown in every app's header."""

from __future__ import annotations

from collections.abc import Sequence

import redis.asyncio as aioredis
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import async_sessionmaker

from shared.infrastructure.fragments import invalidate
from shared.infrastructure.page_cache import invalidate_pages
from shared.models import NavigationItem


async def replace_navigation(
    sessionmaker: async_sessionmaker, redis_client: aioredis.Redis, items: Sequence[tuple[str, str]]
) -> None:
    """Replace the menu with ``items`` (label, URL), then drop every cached copy that shows it."""
    for label, url in items:
        if not label.strip() or not url.strip():
            raise ValueError(f"a navigation item needs a label and a URL, got ({label!r}, {url!r})")
    async with sessionmaker() as session, session.begin():
        await session.execute(delete(NavigationItem))
        session.add_all(
            NavigationItem(label=label.strip(), url=url.strip(), sort_order=order) for order, (label, url) in enumerate(items)
        )
    # Invalidate only after the commit, so a fetch in between cannot cache the old menu again.
    await invalidate(redis_client, "blog", "nav")
    await invalidate_pages(redis_client, "blog")

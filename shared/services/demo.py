"""Demo content for development: members, Ghost posts, markets, events.

Only an environment with ``demo_data: true`` (dev and test) may load it;
production configuration never creates the demo members.
"""

from __future__ import annotations

import calendar as calendar_module
import os
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.infrastructure.config import REPO_ROOT, Settings
from shared.infrastructure.passwords import hash_password
from shared.models import (
    APActor, Calendar, Category, EventEntry, Market, Member, NavigationItem, Newsletter, Producer, Product,
)

from .ghost_import import GhostImportError, import_ghost_content, load_ghost_export

DEMO_PASSWORD = "rose-ash-dev"
DEMO_MEMBERS = (
    ("alice", "alice@example.org", "Alice Ash", "Grows roses and writes about them.", False),
    ("bob", "bob@example.org", "Bob Birch", "Bakes bread for the Saturday market.", False),
    ("admin", "admin@example.org", "Rose Ash Admin", "Looks after the cooperative's platform.", True),
)
FIXTURES_DIR = Path(os.environ.get("ROSE_ASH_FIXTURES") or REPO_ROOT.parent / "shared" / "fixtures")
DEFAULT_GHOST_EXPORT = FIXTURES_DIR / "ghost" / "v4_export.json"

MARKETS = (
    ("saturday-market", "Saturday Market", "Fresh produce from local growers, every Saturday morning."),
    ("craft-market", "Craft Market", "Handmade goods from the cooperative's makers."),
)
PRODUCERS = (
    ("birch-bakery", "Birch Bakery", "Sourdough and pastries baked at dawn."),
    ("ash-orchard", "Ash Orchard", "Apples, pears and juice from an old orchard."),
    ("hedge-and-loom", "Hedge & Loom", "Woven goods from local wool."),
)
CATEGORIES = (("bread", "Bread"), ("fruit", "Fruit"), ("textiles", "Textiles"))
PRODUCTS = (
    ("sourdough-loaf", "Sourdough loaf", "A slow-risen white sourdough, 800 g.", 450, "saturday-market", "birch-bakery", "bread", 24),
    ("rye-loaf", "Dark rye loaf", "Whole rye with caraway, 1 kg.", 520, "saturday-market", "birch-bakery", "bread", 12),
    ("apple-box", "Box of apples", "Five kilos of mixed eating apples.", 900, "saturday-market", "ash-orchard", "fruit", 30),
    ("apple-juice", "Pressed apple juice", "One litre, pressed from our own apples.", 350, "saturday-market", "ash-orchard", "fruit", None),
    ("wool-scarf", "Wool scarf", "A scarf woven from undyed local wool.", 3800, "craft-market", "hedge-and-loom", "textiles", 5),
    ("wool-blanket", "Wool blanket", "A heavy blanket for a double bed.", 12500, "craft-market", "hedge-and-loom", "textiles", 0),
)
EVENTS = (
    (3, "seed-swap", "Seed swap", "Bring seeds, take seeds.", "The Old Barn"),
    (10, "bread-workshop", "Sourdough workshop", "Learn to keep a starter and bake a loaf.", "Birch Bakery"),
    (17, "members-meeting", "Members' meeting", "The cooperative's monthly meeting; all members welcome.", "Village Hall"),
    (24, "orchard-walk", "Orchard walk", "A guided walk through the orchard at dusk.", "Ash Orchard"),
)
NAVIGATION = (("Home", "/"), ("About", "/about/"))


@dataclass
class DemoReport:
    created: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def count(self, what: str, number: int = 1) -> None:
        if number:
            self.created[what] = self.created.get(what, 0) + number


class DemoDataRefused(RuntimeError):
    pass


async def _get_or_create(session: AsyncSession, model: type, report: DemoReport, label: str, **values) -> object:
    key = {"username": values["username"]} if "username" in values else {"slug": values["slug"]}
    row = await session.scalar(select(model).filter_by(**key))
    if row is None:
        row = model(**values)
        session.add(row)
        await session.flush()
        report.count(label)
    return row


async def seed_demo(
    session: AsyncSession, settings: Settings, ghost_export: Path | None = None, now: datetime | None = None
) -> DemoReport:
    """Load the demo content; running it again adds only what is missing."""
    if not settings.demo_data:
        raise DemoDataRefused(
            f"the {settings.env} environment has demo_data switched off, so no demo members or content were created"
        )
    report = DemoReport()
    now = now or datetime.now(timezone.utc)

    password_hash = None
    for username, email, display_name, bio, is_admin in DEMO_MEMBERS:
        existing = await session.scalar(select(Member).where(Member.username == username))
        if existing is None:
            password_hash = password_hash or hash_password(DEMO_PASSWORD)
            existing = Member(
                username=username, email=email, display_name=display_name, bio=bio,
                password_hash=password_hash, is_admin=is_admin,
            )
            session.add(existing)
            await session.flush()
            report.count("members")
        actor = await session.scalar(select(APActor).where(APActor.member_id == existing.id))
        if actor is None:
            session.add(APActor(
                preferred_username=username, actor_type="Person", member_id=existing.id,
                display_name=display_name, summary=bio,
            ))
            report.count("actors")

    explicit_export = ghost_export is not None
    ghost_export = ghost_export or DEFAULT_GHOST_EXPORT
    if ghost_export.exists():
        imported = await import_ghost_content(session, load_ghost_export(ghost_export))
        report.count("posts", imported.posts_created)
        report.notes.append(
            f"Ghost export {ghost_export.name}: {imported.posts_created} new, {imported.posts_updated} updated "
            f"and {imported.posts_unchanged} unchanged posts and pages"
        )
    elif explicit_export:
        raise GhostImportError(f"{ghost_export}: no such file")
    else:
        report.notes.append(
            f"no Ghost export at {ghost_export}, so no demo posts were loaded; "
            "set ROSE_ASH_FIXTURES to the fixtures folder or pass --ghost-export FILE"
        )

    for order, (label, url) in enumerate(NAVIGATION):
        if await session.scalar(select(NavigationItem).where(NavigationItem.url == url)) is None:
            session.add(NavigationItem(label=label, url=url, sort_order=order))
            report.count("navigation")

    markets = {slug: await _get_or_create(session, Market, report, "markets", slug=slug, name=name, description=text)
               for slug, name, text in MARKETS}
    producers = {slug: await _get_or_create(session, Producer, report, "producers", slug=slug, name=name, description=text)
                 for slug, name, text in PRODUCERS}
    categories = {slug: await _get_or_create(session, Category, report, "categories", slug=slug, name=name)
                  for slug, name in CATEGORIES}
    for slug, name, text, price, market, producer, category, stock in PRODUCTS:
        await _get_or_create(
            session, Product, report, "products", slug=slug, name=name, description=text, price_minor=price,
            currency="GBP", stock=stock, market_id=markets[market].id, producer_id=producers[producer].id,
            category_id=categories[category].id,
        )

    community = await _get_or_create(
        session, Calendar, report, "calendars", slug="community", name="Community calendar",
        description="Markets, workshops and meetings of the cooperative.",
    )
    days_in_month = calendar_module.monthrange(now.year, now.month)[1]
    for day, slug, title, text, location in EVENTS:
        exists = await session.scalar(
            select(EventEntry).where(EventEntry.calendar_id == community.id, EventEntry.slug == slug)
        )
        if exists is None:
            starts = datetime.combine(now.date().replace(day=min(day, days_in_month)), time(18, 0), timezone.utc)
            session.add(EventEntry(
                calendar_id=community.id, slug=slug, title=title, description=text, location=location,
                starts_at=starts, ends_at=starts + timedelta(hours=2), capacity=30, currency="GBP",
            ))
            report.count("event entries")

    if await session.scalar(select(Newsletter).where(Newsletter.slug == "news")) is None:
        session.add(Newsletter(slug="news", name="Rose Ash news", description="What the cooperative is up to, monthly."))
        report.count("newsletters")
    await session.flush()
    return report

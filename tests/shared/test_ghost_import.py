"""The Ghost importer: real exports, sanitising, idempotence and bad input."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from shared.infrastructure.db import make_engine, make_sessionmaker
from shared.infrastructure.html import sanitise_html
from shared.models import Post, Tag
from shared.services.ghost_import import (
    GhostImportError, import_ghost_content, load_ghost_export, parse_ghost_export,
)


@pytest.fixture
async def db_session(empty_database_url):
    import asyncio

    from shared.infrastructure import migrations

    await asyncio.to_thread(migrations.upgrade, empty_database_url)
    engine = make_engine(empty_database_url)
    async with make_sessionmaker(engine)() as session:
        yield session
    await engine.dispose()


async def test_v4_export_imports_posts_pages_tags_and_authors(db_session, fixtures_dir):
    report = await import_ghost_content(db_session, load_ghost_export(fixtures_dir / "ghost" / "v4_export.json"))
    assert (report.posts_created, report.pages, report.tags, report.skipped) == (11, 4, 1, [])
    welcome = await db_session.scalar(select(Post).where(Post.slug == "welcome"))
    assert welcome.status == "published"
    assert not welcome.is_page
    assert welcome.published_at.isoformat().startswith("2021-03-24")


async def test_v2_export_with_its_page_flag_imports_too(db_session, fixtures_dir):
    report = await import_ghost_content(db_session, load_ghost_export(fixtures_dir / "ghost" / "v2_export.json"))
    assert report.posts_created == 7
    assert report.skipped == []
    assert await db_session.scalar(select(func.count()).select_from(Post).where(Post.is_page)) == 0


async def test_importing_twice_updates_instead_of_duplicating(db_session, fixtures_dir):
    content = load_ghost_export(fixtures_dir / "ghost" / "v4_export.json")
    await import_ghost_content(db_session, content)
    again = await import_ghost_content(db_session, content)
    assert (again.posts_created, again.posts_updated, again.posts_unchanged) == (0, 0, 11)
    assert await db_session.scalar(select(func.count()).select_from(Post)) == 11
    assert await db_session.scalar(select(func.count()).select_from(Tag)) == 1


async def test_script_and_event_handlers_are_removed_on_import(db_session, fixtures_dir):
    document = json.loads((fixtures_dir / "ghost" / "v4_export.json").read_text())
    post = document["db"][0]["data"]["posts"][0]
    post["html"] = '<p onclick="steal()">Hi <a href="javascript:alert(1)">x</a></p><script>alert(1)</script><img src="https://e.example/a.png">'
    await import_ghost_content(db_session, parse_ghost_export(document))
    stored = await db_session.scalar(select(Post.html).where(Post.ghost_id == post["id"]))
    assert "script" not in stored
    assert "onclick" not in stored
    assert "javascript:" not in stored
    assert '<img src="https://e.example/a.png">' in stored


async def test_ghost_url_placeholders_become_site_links(db_session, fixtures_dir):
    await import_ghost_content(db_session, load_ghost_export(fixtures_dir / "ghost" / "v4_export.json"))
    welcome = await db_session.scalar(select(Post.html).where(Post.slug == "welcome"))
    assert "__GHOST_URL__" not in welcome
    assert 'href="/design/"' in welcome


def test_sanitiser_keeps_ordinary_formatting():
    html = '<h2>Title</h2><p><strong>bold</strong> <a href="https://x.example/">link</a></p><ul><li>one</li></ul>'
    cleaned = sanitise_html(html)
    assert "<h2>Title</h2>" in cleaned
    assert "<strong>bold</strong>" in cleaned
    assert "<li>one</li>" in cleaned
    assert 'rel="noopener noreferrer"' in cleaned


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "expected a JSON object"),
        ({"db": "nope"}, "'db' should be a list"),
        ({"db": [{"meta": {}}]}, "no 'data' object"),
        ({"db": [{"data": {"posts": {"a": 1}}}]}, "'data.posts' should be a list"),
    ],
)
def test_malformed_export_says_what_is_wrong(document, message):
    with pytest.raises(GhostImportError, match=message):
        parse_ghost_export(document)


def test_unreadable_file_names_the_file(tmp_path):
    broken = tmp_path / "export.json"
    broken.write_text("{not json")
    with pytest.raises(GhostImportError, match="export.json: not valid JSON"):
        load_ghost_export(broken)


async def test_bad_date_names_the_post_and_writes_nothing(db_session, fixtures_dir):
    document = json.loads((fixtures_dir / "ghost" / "v4_export.json").read_text())
    document["db"][0]["data"]["posts"][3]["published_at"] = "yesterday"
    with pytest.raises(GhostImportError, match=r"posts\[3\] \(portal\).*'yesterday'"):
        async with db_session.begin():
            await import_ghost_content(db_session, parse_ghost_export(document))
    assert await db_session.scalar(select(func.count()).select_from(Post)) == 0

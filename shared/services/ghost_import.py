"""Load Ghost content (an export file, or later the Content API) into the blog's tables.

The Ghost sync reuses ``import_ghost_content``: records are matched on their
Ghost id, so importing the same content twice updates instead of duplicating.
Post HTML is sanitised on the way in.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.infrastructure.html import sanitise_html
from shared.models import Author, Post, Tag, post_authors, post_tags

log = logging.getLogger(__name__)

EXCERPT_LENGTH = 300
# Ghost writes links to its own site as "__GHOST_URL__/path/"; on our blog they become "/path/".
GHOST_URL_PLACEHOLDER = "__GHOST_URL__"


class GhostImportError(ValueError):
    """The Ghost content is not in a shape we can import; the message says where."""


@dataclass(frozen=True)
class GhostContent:
    posts: list[dict[str, Any]]
    tags: list[dict[str, Any]]
    users: list[dict[str, Any]]
    posts_tags: list[dict[str, Any]]
    posts_authors: list[dict[str, Any]]
    version: str = "unknown"


@dataclass
class ImportReport:
    posts_created: int = 0
    posts_updated: int = 0
    posts_unchanged: int = 0
    pages: int = 0
    tags: int = 0
    authors: int = 0
    skipped: list[str] = field(default_factory=list)


def _list(data: dict[str, Any], name: str, source: str) -> list[dict[str, Any]]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise GhostImportError(f"{source}: 'data.{name}' should be a list of objects")
    return value


def parse_ghost_export(document: Any, source: str = "export") -> GhostContent:
    """Read a Ghost export (``{"db": [{"meta": ..., "data": ...}]}``, versions 2 to 5)."""
    if not isinstance(document, dict):
        raise GhostImportError(f"{source}: expected a JSON object at the top level")
    if "db" in document:
        if not isinstance(document["db"], list) or not document["db"] or not isinstance(document["db"][0], dict):
            raise GhostImportError(f"{source}: 'db' should be a list holding one export object")
        document = document["db"][0]
    data = document.get("data")
    if not isinstance(data, dict):
        raise GhostImportError(f"{source}: no 'data' object found; is this a Ghost export file?")
    version = str((document.get("meta") or {}).get("version", "unknown"))
    return GhostContent(
        posts=_list(data, "posts", source),
        tags=_list(data, "tags", source),
        users=_list(data, "users", source),
        posts_tags=_list(data, "posts_tags", source),
        posts_authors=_list(data, "posts_authors", source),
        version=version,
    )


def load_ghost_export(path: Path) -> GhostContent:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise GhostImportError(f"{path}: could not be read ({error.strerror})") from error
    except ValueError as error:
        raise GhostImportError(f"{path}: not valid JSON ({error})") from error
    return parse_ghost_export(document, str(path))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _timestamp(value: Any, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as error:
        raise GhostImportError(f"{where}: {value!r} is not an ISO 8601 date") from error


def _is_page(post: dict[str, Any]) -> bool:
    if "type" in post:
        return post["type"] == "page"
    return bool(post.get("page"))


def _excerpt(post: dict[str, Any]) -> str:
    custom = _text(post.get("custom_excerpt")).strip()
    if custom:
        return custom
    plain = " ".join(_text(post.get("plaintext")).split())
    if len(plain) <= EXCERPT_LENGTH:
        return plain
    return plain[:EXCERPT_LENGTH].rsplit(" ", 1)[0] + "…"


async def _upsert(session: AsyncSession, model: type, ghost_id: str, values: dict[str, Any]) -> tuple[Any, str]:
    """Create or update one row by its Ghost id; returns it and "created", "updated" or "unchanged"."""
    row = await session.scalar(select(model).where(model.ghost_id == ghost_id))
    if row is None:
        row = model(ghost_id=ghost_id, **values)
        session.add(row)
        await session.flush()
        return row, "created"
    changed = {name: value for name, value in values.items() if getattr(row, name) != value}
    for name, value in changed.items():
        setattr(row, name, value)
    if changed:
        await session.flush()
    return row, "updated" if changed else "unchanged"


async def import_ghost_content(session: AsyncSession, content: GhostContent) -> ImportReport:
    """Create or update authors, tags and posts; runs inside the caller's transaction."""
    report = ImportReport()
    authors: dict[str, int] = {}
    for user in content.users:
        ghost_id = _text(user.get("id"))
        if not ghost_id or not user.get("slug"):
            report.skipped.append(f"user without id or slug: {user.get('name')!r}")
            continue
        author, _ = await _upsert(
            session,
            Author,
            ghost_id,
            {
                "slug": _text(user["slug"]),
                "name": _text(user.get("name")) or _text(user["slug"]),
                "bio": _text(user.get("bio")),
                "profile_image": user.get("profile_image") or None,
            },
        )
        authors[ghost_id] = author.id
        report.authors += 1

    tags: dict[str, int] = {}
    for tag_data in content.tags:
        ghost_id = _text(tag_data.get("id"))
        if not ghost_id or not tag_data.get("slug"):
            report.skipped.append(f"tag without id or slug: {tag_data.get('name')!r}")
            continue
        tag, _ = await _upsert(
            session,
            Tag,
            ghost_id,
            {
                "slug": _text(tag_data["slug"]),
                "name": _text(tag_data.get("name")) or _text(tag_data["slug"]),
                "description": _text(tag_data.get("description")),
                "visibility": _text(tag_data.get("visibility")) or "public",
            },
        )
        tags[ghost_id] = tag.id
        report.tags += 1

    posts: dict[str, int] = {}
    for index, post_data in enumerate(content.posts):
        ghost_id = _text(post_data.get("id"))
        where = f"posts[{index}] ({post_data.get('slug', '?')})"
        if not ghost_id or not post_data.get("slug") or not post_data.get("title"):
            report.skipped.append(f"{where}: missing id, slug or title")
            continue
        status = _text(post_data.get("status")) or "draft"
        if status not in ("draft", "published", "scheduled"):
            report.skipped.append(f"{where}: unknown status {status!r}")
            continue
        published_at = _timestamp(post_data.get("published_at"), where)
        if status == "published" and published_at is None:
            report.skipped.append(f"{where}: published without a publication date")
            continue
        updated_at = _timestamp(post_data.get("updated_at"), where) or published_at
        values: dict[str, Any] = {
            "slug": _text(post_data["slug"]),
            "title": _text(post_data["title"]),
            "html": sanitise_html(_text(post_data.get("html")).replace(GHOST_URL_PLACEHOLDER, "")),
            "excerpt": _excerpt(post_data),
            "feature_image": post_data.get("feature_image") or None,
            "status": status,
            "is_page": _is_page(post_data),
            "featured": bool(int(post_data.get("featured") or 0)),
            "published_at": published_at,
        }
        if updated_at is not None:
            values["updated_at"] = updated_at
        post, outcome = await _upsert(session, Post, ghost_id, values)
        posts[ghost_id] = post.id
        if outcome == "created":
            report.posts_created += 1
        elif outcome == "updated":
            report.posts_updated += 1
        else:
            report.posts_unchanged += 1
        if values["is_page"]:
            report.pages += 1

    await _link(session, post_tags, "tag_id", content.posts_tags, "tag_id", posts, tags)
    author_links = content.posts_authors or [
        {"post_id": post.get("id"), "author_id": post.get("author_id"), "sort_order": 0}
        for post in content.posts
        if post.get("author_id")
    ]
    await _link(session, post_authors, "author_id", author_links, "author_id", posts, authors)
    return report


async def _link(
    session: AsyncSession,
    table: Any,
    column: str,
    links: list[dict[str, Any]],
    ghost_key: str,
    posts: dict[str, int],
    targets: dict[str, int],
) -> None:
    rows: dict[tuple[int, int], int] = {}
    for link in links:
        post_id = posts.get(_text(link.get("post_id")))
        target_id = targets.get(_text(link.get(ghost_key)))
        if post_id is None or target_id is None:
            continue
        rows.setdefault((post_id, target_id), int(link.get("sort_order") or 0))
    if not posts:
        return
    await session.execute(delete(table).where(table.c.post_id.in_(list(posts.values()))))
    if rows:
        await session.execute(
            insert(table),
            [{"post_id": post_id, column: target_id, "sort_order": order} for (post_id, target_id), order in rows.items()],
        )

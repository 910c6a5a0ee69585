"""Queries behind the blog's pages."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from shared.infrastructure.pagination import Page, page_count
from shared.models import Post, Tag, post_tags


def _published_posts():
    return select(Post).where(Post.is_page.is_(False), Post.status == "published")


async def latest_posts(session: AsyncSession, number: int, per_page: int, tag: Tag | None = None) -> Page:
    query = _published_posts()
    if tag is not None:
        query = query.where(Post.id.in_(select(post_tags.c.post_id).where(post_tags.c.tag_id == tag.id)))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = page_count(total, per_page)
    rows = await session.scalars(
        query.order_by(Post.published_at.desc(), Post.id.desc())
        .offset((min(number, pages) - 1) * per_page)
        .limit(per_page)
        .options(selectinload(Post.tags), selectinload(Post.authors))
    )
    return Page(number=number, pages=pages, total=total, items=list(rows))


async def published_by_slug(session: AsyncSession, slug: str) -> Post | None:
    return await session.scalar(
        select(Post)
        .where(Post.slug == slug, Post.status == "published")
        .options(selectinload(Post.tags), selectinload(Post.authors))
    )


async def tag_by_slug(session: AsyncSession, slug: str) -> Tag | None:
    return await session.scalar(select(Tag).where(Tag.slug == slug))

"""The blog: posts and pages, tags, authors and the navigation menu."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, created_at_column

post_tags = Table(
    "post_tags",
    Base.metadata,
    Column("post_id", BigInteger, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", BigInteger, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    Column("sort_order", Integer, nullable=False, server_default="0"),
)

post_authors = Table(
    "post_authors",
    Base.metadata,
    Column("post_id", BigInteger, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("author_id", BigInteger, ForeignKey("authors.id", ondelete="CASCADE"), primary_key=True),
    Column("sort_order", Integer, nullable=False, server_default="0"),
)


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ghost_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    slug: Mapped[str] = mapped_column(String(191), unique=True)
    name: Mapped[str] = mapped_column(String(191))
    bio: Mapped[str] = mapped_column(Text, server_default="")
    profile_image: Mapped[str | None] = mapped_column(Text)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ghost_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    slug: Mapped[str] = mapped_column(String(191), unique=True)
    name: Mapped[str] = mapped_column(String(191))
    description: Mapped[str] = mapped_column(Text, server_default="")
    visibility: Mapped[str] = mapped_column(String(20), server_default="public")

    posts: Mapped[list["Post"]] = relationship(secondary=post_tags, back_populates="tags", viewonly=True)


class Post(Base):
    """A post or, with ``is_page`` set, a standalone page."""

    __tablename__ = "posts"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'scheduled')", name="status_known"),
        CheckConstraint("status <> 'published' OR published_at IS NOT NULL", name="published_has_date"),
        Index("ix_posts_listing", "is_page", "status", "published_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ghost_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    slug: Mapped[str] = mapped_column(String(191), unique=True)
    title: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text, server_default="")
    excerpt: Mapped[str] = mapped_column(Text, server_default="")
    feature_image: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), server_default="draft")
    is_page: Mapped[bool] = mapped_column(Boolean, server_default="false")
    featured: Mapped[bool] = mapped_column(Boolean, server_default="false")
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()

    tags: Mapped[list[Tag]] = relationship(secondary=post_tags, back_populates="posts", order_by=post_tags.c.sort_order)
    authors: Mapped[list[Author]] = relationship(secondary=post_authors, order_by=post_authors.c.sort_order)


class NavigationItem(Base):
    __tablename__ = "navigation_items"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(Integer, server_default="0")

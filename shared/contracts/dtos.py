"""Frozen dataclasses passed between apps.

A DTO holds plain values only: never an ORM object, never a session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ProductDTO:
    id: int
    slug: str
    name: str
    price_minor: int
    currency: str
    market_slug: str
    market_name: str
    producer_name: str | None
    image_url: str | None
    in_stock: bool


@dataclass(frozen=True, slots=True)
class MemberDTO:
    id: int
    username: str
    display_name: str
    bio: str
    is_admin: bool
    joined_at: datetime


@dataclass(frozen=True, slots=True)
class EventEntryDTO:
    id: int
    calendar_slug: str
    slug: str
    title: str
    starts_at: datetime
    ends_at: datetime | None
    location: str


@dataclass(frozen=True, slots=True)
class OAuthGrantDTO:
    """A third-party application a member has allowed to use their account."""

    client_id: str
    client_name: str
    scope: str
    granted_at: datetime

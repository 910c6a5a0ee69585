"""The interfaces apps call each other through (DESIGN.md, rule 2).

Each method takes the caller's request-scoped ``AsyncSession``, so a call
across apps joins the caller's transaction instead of opening another.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession

from .dtos import EventEntryDTO, MemberDTO, OAuthGrantDTO, ProductDTO


@runtime_checkable
class MarketService(Protocol):
    async def get_product(self, session: AsyncSession, product_id: int) -> ProductDTO | None: ...

    async def get_products(self, session: AsyncSession, product_ids: list[int]) -> dict[int, ProductDTO]: ...


@runtime_checkable
class MemberService(Protocol):
    async def get_member(self, session: AsyncSession, member_id: int) -> MemberDTO | None: ...

    async def get_member_by_username(self, session: AsyncSession, username: str) -> MemberDTO | None: ...

    async def list_members(self, session: AsyncSession) -> list[MemberDTO]: ...


@runtime_checkable
class EventsService(Protocol):
    async def upcoming_entries(self, session: AsyncSession, limit: int) -> list[EventEntryDTO]: ...


@runtime_checkable
class OAuthGrantService(Protocol):
    async def list_grants(self, session: AsyncSession, member_id: int) -> list[OAuthGrantDTO]: ...

    async def revoke_grant(self, session: AsyncSession, member_id: int, client_id: str) -> bool: ...

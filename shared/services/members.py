"""The members' service, owned by the federation app."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.dtos import MemberDTO
from shared.models import Member


def member_dto(member: Member) -> MemberDTO:
    return MemberDTO(
        id=member.id,
        username=member.username,
        display_name=member.display_name,
        bio=member.bio,
        is_admin=member.is_admin,
        joined_at=member.created_at,
    )


class SqlMemberService:
    async def get_member(self, session: AsyncSession, member_id: int) -> MemberDTO | None:
        member = await session.get(Member, member_id)
        return member_dto(member) if member else None

    async def get_member_by_username(self, session: AsyncSession, username: str) -> MemberDTO | None:
        member = await session.scalar(select(Member).where(Member.username == username.lower()))
        return member_dto(member) if member else None

    async def list_members(self, session: AsyncSession) -> list[MemberDTO]:
        rows = await session.scalars(select(Member).order_by(Member.username))
        return [member_dto(member) for member in rows]

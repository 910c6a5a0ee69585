"""Signing members in with their email (or username) and password."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.infrastructure.passwords import verify_password
from shared.models import Member


async def authenticate(session: AsyncSession, login: str, password: str) -> Member | None:
    login = login.strip().lower()
    member = await session.scalar(
        select(Member).where(or_(func.lower(Member.email) == login, Member.username == login))
    )
    if member is None or not verify_password(member.password_hash, password):
        return None
    return member

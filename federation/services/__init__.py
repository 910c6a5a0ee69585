"""Signing members in with their email (or username) and password."""

from __future__ import annotations

import functools

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.infrastructure.passwords import hash_password, verify_password
from shared.models import Member


@functools.cache
def _unknown_member_hash() -> str:
    # Checked when no member matches, so an unknown name costs the same time as a wrong password.
    return hash_password("no member has this password")


async def find_member(session: AsyncSession, login: str) -> Member | None:
    """Return the member whose email address or username is ``login``, ignoring case."""
    login = login.strip().lower()
    return await session.scalar(select(Member).where(or_(func.lower(Member.email) == login, Member.username == login)))


async def authenticate(session: AsyncSession, login: str, password: str) -> Member | None:
    member = await find_member(session, login)
    if member is None:
        verify_password(_unknown_member_hash(), password)
        return None
    if not verify_password(member.password_hash, password):
        return None
    return member

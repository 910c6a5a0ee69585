"""Signing up and changing passwords."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.services.signin_limits import MAX_WRONG_CURRENT_PASSWORDS, WINDOW_SECONDS
from shared.infrastructure.config import APP_NAMES
from shared.infrastructure.passwords import hash_password, verify_password
from shared.models import APActor, Member

USERNAME = re.compile(r"^[a-z0-9_]{1,30}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200


@dataclass
class SignUpResult:
    member: Member | None = None
    errors: list[str] = field(default_factory=list)


WRONG_CURRENT_PASSWORD_MESSAGE = (
    f"Your current password is wrong. After {MAX_WRONG_CURRENT_PASSWORDS} wrong attempts within "
    f"{WINDOW_SECONDS // 60} minutes, password changes are paused until those {WINDOW_SECONDS // 60} minutes have passed."
)


def password_problems(password: str, confirmation: str) -> list[str]:
    """Return every problem with a new password and its confirmation, so the form can list them all at once."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.")
    elif len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"Choose a password of at most {MAX_PASSWORD_LENGTH} characters.")
    if password != confirmation:
        problems.append("The two passwords differ. Type the same password twice.")
    return problems


# The six apps are fediverse actors under their own names, so no member may take those names.
RESERVED_USERNAMES = frozenset(APP_NAMES) | {"actor", "inbox", "outbox", "users", "rose_ash", "rose-ash", "root", "postmaster"}


async def sign_up(
    session: AsyncSession, username: str, email: str, display_name: str, password: str, confirmation: str
) -> SignUpResult:
    """Create a member and their Person actor, or return what is wrong with the form."""
    username = username.strip().lower()
    email = email.strip()
    display_name = display_name.strip()
    errors = []
    if not USERNAME.match(username):
        errors.append("Choose a username of 1 to 30 lower-case letters, digits or underscores.")
    elif username in RESERVED_USERNAMES:
        errors.append(f"The username {username!r} is reserved for the platform itself. Choose another.")
    if not EMAIL.match(email) or len(email) > 254:
        errors.append("Enter a valid email address, such as name@example.org.")
    if not display_name or len(display_name) > 100:
        errors.append("Enter your name, in at most 100 characters.")
    errors += password_problems(password, confirmation)
    if not errors:
        taken = await session.scalar(
            select(func.count()).select_from(Member).where(
                (Member.username == username) | (func.lower(Member.email) == email.lower())
            )
        )
        actor_taken = await session.scalar(select(APActor.id).where(APActor.preferred_username == username))
        if taken or actor_taken:
            errors.append("That username or email address is already registered. Sign in instead, or choose another.")
    if errors:
        return SignUpResult(errors=errors)

    member = Member(username=username, email=email, display_name=display_name, password_hash=hash_password(password))
    session.add(member)
    await session.flush()
    session.add(APActor(preferred_username=username, actor_type="Person", member_id=member.id, display_name=display_name))
    await session.flush()
    return SignUpResult(member=member)


@dataclass
class PasswordChange:
    errors: list[str] = field(default_factory=list)
    # True when the current password was wrong, which counts towards the rate limit.
    wrong_current: bool = False


async def change_password(
    session: AsyncSession, member_id: int, current: str, new: str, confirmation: str
) -> PasswordChange:
    """Set a new password after checking the current one; the result lists the problems, none on success."""
    member = await session.get(Member, member_id)
    if member is None:
        return PasswordChange(["Your account no longer exists."])
    if not verify_password(member.password_hash, current):
        return PasswordChange([WRONG_CURRENT_PASSWORD_MESSAGE], wrong_current=True)
    problems = password_problems(new, confirmation)
    if new == current:
        problems.append("The new password is the same as your current one. Choose a different password.")
    if problems:
        return PasswordChange(problems)
    member.password_hash = hash_password(new)
    await session.flush()
    return PasswordChange()

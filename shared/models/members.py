"""Members of the cooperative: the people who sign in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, created_at_column


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint("username ~ '^[a-z0-9_]{1,30}$'", name="username_format"),
        CheckConstraint("position('@' in email) > 1", name="email_format"),
        Index("uq_members_lower_email", func.lower(text("email")), unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    username: Mapped[str] = mapped_column(String(30), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(Text)
    bio: Mapped[str] = mapped_column(Text, server_default="")
    is_admin: Mapped[bool] = mapped_column(Boolean, server_default="false")
    created_at: Mapped[datetime] = created_at_column()

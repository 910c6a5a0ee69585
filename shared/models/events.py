"""Calendars, their event entries, tickets and bookings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import CURRENCY_CHECK, Base, created_at_column


class Calendar(Base):
    __tablename__ = "calendars"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, server_default="")
    timezone: Mapped[str] = mapped_column(String(64), server_default="Europe/London")

    entries: Mapped[list["EventEntry"]] = relationship(back_populates="calendar", order_by="EventEntry.starts_at")


class EventEntry(Base):
    __tablename__ = "event_entries"
    __table_args__ = (
        UniqueConstraint("calendar_id", "slug"),
        CheckConstraint("ends_at IS NULL OR ends_at >= starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("ticket_price_minor IS NULL OR ticket_price_minor >= 0", name="price_not_negative"),
        CheckConstraint(f"currency {CURRENCY_CHECK}", name="currency_iso"),
        Index("ix_event_entries_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(150))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, server_default="")
    location: Mapped[str] = mapped_column(Text, server_default="")
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    capacity: Mapped[int | None] = mapped_column(Integer)
    ticket_price_minor: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), server_default="GBP")
    created_at: Mapped[datetime] = created_at_column()

    calendar: Mapped[Calendar] = relationship(back_populates="entries")


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint("status IN ('reserved', 'paid', 'checked_in', 'cancelled')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_entry_id: Mapped[int] = mapped_column(ForeignKey("event_entries.id", ondelete="RESTRICT"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    code: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), server_default="reserved")
    created_at: Mapped[datetime] = created_at_column()


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("event_entry_id", "member_id"),
        CheckConstraint("seats > 0", name="seats_positive"),
        CheckConstraint("status IN ('confirmed', 'waitlisted', 'cancelled')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_entry_id: Mapped[int] = mapped_column(ForeignKey("event_entries.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    seats: Mapped[int] = mapped_column(Integer, server_default="1")
    status: Mapped[str] = mapped_column(String(20), server_default="confirmed")
    created_at: Mapped[datetime] = created_at_column()

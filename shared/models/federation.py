"""ActivityPub actors, keys, follows, activities and objects, and notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, created_at_column


class APActor(Base):
    """A local actor: a member (Person) or one of the six apps (Application)."""

    __tablename__ = "ap_actors"
    __table_args__ = (
        CheckConstraint("actor_type IN ('Person', 'Application', 'Service', 'Group')", name="type_known"),
        CheckConstraint("preferred_username ~ '^[a-z0-9_.-]{1,64}$'", name="username_format"),
        CheckConstraint("(member_id IS NULL) <> (app_name IS NULL)", name="member_or_app"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    preferred_username: Mapped[str] = mapped_column(String(64), unique=True)
    actor_type: Mapped[str] = mapped_column(String(20))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), unique=True)
    app_name: Mapped[str | None] = mapped_column(String(20), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), server_default="")
    summary: Mapped[str] = mapped_column(Text, server_default="")
    # A locked actor approves each follower by hand; an unlocked one accepts every Follow.
    manually_approves_followers: Mapped[bool] = mapped_column(Boolean, server_default="false")
    created_at: Mapped[datetime] = created_at_column()

    keys: Mapped[list["APKey"]] = relationship(back_populates="actor")


class APKey(Base):
    __tablename__ = "ap_keys"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("ap_actors.id", ondelete="CASCADE"), index=True)
    key_id: Mapped[str] = mapped_column(Text, unique=True)
    public_key_pem: Mapped[str] = mapped_column(Text)
    private_key_pem: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    actor: Mapped[APActor] = relationship(back_populates="keys")


class APFollow(Base):
    """A follow between a local actor and a remote one, in either direction."""

    __tablename__ = "ap_follows"
    __table_args__ = (
        UniqueConstraint("local_actor_id", "remote_actor_uri", "direction"),
        CheckConstraint("direction IN ('inbound', 'outbound')", name="direction_known"),
        CheckConstraint("state IN ('pending', 'accepted', 'rejected')", name="state_known"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    local_actor_id: Mapped[int] = mapped_column(ForeignKey("ap_actors.id", ondelete="CASCADE"))
    remote_actor_uri: Mapped[str] = mapped_column(Text)
    remote_inbox: Mapped[str | None] = mapped_column(Text)
    remote_shared_inbox: Mapped[str | None] = mapped_column(Text)
    direction: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(10), server_default="pending")
    follow_activity_uri: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class APActivity(Base):
    """An activity to deliver (outbound) or one received (inbound).

    Any app emits an activity by inserting a pending row in the same
    transaction as the change it announces; the EventProcessor delivers it.
    An inbound row is stored by the inbox before any side effect, and the
    unique (uri, recipient_uri) pair makes a repeated delivery a no-op.
    Outbound rows have an empty ``recipient_uri``.
    """

    __tablename__ = "ap_activities"
    __table_args__ = (
        UniqueConstraint("uri", "recipient_uri"),
        CheckConstraint("direction IN ('inbound', 'outbound')", name="direction_known"),
        CheckConstraint("state IN ('pending', 'processing', 'done', 'failed')", name="state_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_ap_activities_pending", "next_attempt_at", postgresql_where="state = 'pending'"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    uri: Mapped[str] = mapped_column(Text)
    recipient_uri: Mapped[str] = mapped_column(Text, server_default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("ap_actors.id", ondelete="CASCADE"), index=True)
    remote_actor_uri: Mapped[str | None] = mapped_column(Text)
    direction: Mapped[str] = mapped_column(String(10))
    activity_type: Mapped[str] = mapped_column(String(40))
    object_uri: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    state: Mapped[str] = mapped_column(String(12), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    # Sequence number of the entry in the actor's activity log, once appended.
    log_seq: Mapped[int | None] = mapped_column(BigInteger)
    next_attempt_at: Mapped[datetime] = created_at_column()
    created_at: Mapped[datetime] = created_at_column()
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class APDelivery(Base):
    """One POST of an outbound activity to one inbox, retried with backoff until it succeeds or is dead.

    ``body`` is the exact JSON bytes to send. Each attempt is signed when it
    is sent, so a retry carries a fresh Date and the Digest of these bytes.
    """

    __tablename__ = "ap_deliveries"
    __table_args__ = (
        UniqueConstraint("activity_id", "inbox_url"),
        CheckConstraint("state IN ('pending', 'done', 'dead')", name="state_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_ap_deliveries_pending", "next_attempt_at", postgresql_where="state = 'pending'"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("ap_activities.id", ondelete="CASCADE"))
    inbox_url: Mapped[str] = mapped_column(Text)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(10), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = created_at_column()
    created_at: Mapped[datetime] = created_at_column()
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class APRemoteActor(Base):
    """A remote actor fetched from its server: where to deliver to it, and its document."""

    __tablename__ = "ap_remote_actors"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    uri: Mapped[str] = mapped_column(Text, unique=True)
    actor_type: Mapped[str] = mapped_column(String(40))
    preferred_username: Mapped[str | None] = mapped_column(Text)
    inbox: Mapped[str | None] = mapped_column(Text)
    shared_inbox: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    fetched_at: Mapped[datetime] = created_at_column()


class APRemoteKey(Base):
    """A remote actor's public key, found by the keyId its signatures name."""

    __tablename__ = "ap_remote_keys"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key_id: Mapped[str] = mapped_column(Text, unique=True)
    actor_uri: Mapped[str] = mapped_column(Text, index=True)
    public_key_pem: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = created_at_column()


class APDomainBlock(Base):
    """A remote domain whose signed requests are answered 403 and never processed."""

    __tablename__ = "ap_domain_blocks"
    __table_args__ = (CheckConstraint("domain = lower(domain)", name="domain_lowercase"),)

    domain: Mapped[str] = mapped_column(Text, primary_key=True)
    reason: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = created_at_column()


class APObject(Base):
    """A Note, Article, Event or other object, local or fetched from a remote server."""

    __tablename__ = "ap_objects"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    uri: Mapped[str] = mapped_column(Text, unique=True)
    object_type: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("ap_actors.id", ondelete="CASCADE"), index=True)
    attributed_to: Mapped[str | None] = mapped_column(Text, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    is_local: Mapped[bool] = mapped_column(Boolean, server_default="false")
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_unread", "member_id", postgresql_where="read_at IS NULL"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    actor_uri: Mapped[str | None] = mapped_column(Text)
    object_uri: Mapped[str | None] = mapped_column(Text)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()

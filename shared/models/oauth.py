"""The OAuth 2.0 / OpenID Connect provider's clients, codes, tokens, consents and signing keys.

Client secrets, codes and tokens are stored as the hex SHA-256 of their
value, never as the value itself.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Index, String, Text, UniqueConstraint, Uuid,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, created_at_column

# A hex SHA-256 digest.
SHA256_HEX_CHECK = "~ '^[0-9a-f]{64}$'"


class OAuthClient(Base):
    """A registered client: one of our five apps (first-party) or a third party.

    A client without a secret is public and must use PKCE.
    """

    __tablename__ = "oauth_clients"
    __table_args__ = (
        CheckConstraint("client_id ~ '^[A-Za-z0-9_-]{1,64}$'", name="client_id_format"),
        CheckConstraint(f"secret_hash {SHA256_HEX_CHECK}", name="secret_hash_format"),
        CheckConstraint("cardinality(redirect_uris) >= 1", name="has_redirect_uri"),
        CheckConstraint("NOT is_first_party OR secret_hash IS NOT NULL", name="first_party_is_confidential"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    redirect_uris: Mapped[list[str]] = mapped_column(ARRAY(Text))
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    backchannel_logout_uri: Mapped[str | None] = mapped_column(Text)
    is_first_party: Mapped[bool] = mapped_column(Boolean, server_default="false")
    created_at: Mapped[datetime] = created_at_column()

    @property
    def is_public(self) -> bool:
        return self.secret_hash is None


class OAuthAuthorizationCode(Base):
    """A single-use authorization code, bound to its client, redirect_uri and PKCE challenge."""

    __tablename__ = "oauth_authorization_codes"
    __table_args__ = (
        CheckConstraint(f"code_hash {SHA256_HEX_CHECK}", name="code_hash_format"),
        CheckConstraint("code_challenge_method = 'S256'", name="challenge_method_s256"),
        CheckConstraint("(code_challenge IS NULL) = (code_challenge_method IS NULL)", name="challenge_complete"),
        CheckConstraint("expires_at <= created_at + interval '10 minutes'", name="lives_at_most_10_minutes"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(10))
    # Every token issued from this code shares the family, so a reused code revokes them all.
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    session_sid: Mapped[str | None] = mapped_column(String(64))
    auth_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OAuthToken(Base):
    """An access or refresh token. Refresh tokens rotate: each use marks the old one rotated."""

    __tablename__ = "oauth_tokens"
    __table_args__ = (
        CheckConstraint(f"token_hash {SHA256_HEX_CHECK}", name="token_hash_format"),
        CheckConstraint("token_type IN ('access', 'refresh')", name="type_known"),
        CheckConstraint("token_type = 'refresh' OR rotated_at IS NULL", name="only_refresh_rotates"),
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_type: Mapped[str] = mapped_column(String(10))
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(Text)
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    session_sid: Mapped[str | None] = mapped_column(String(64))
    auth_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OAuthConsent(Base):
    """A member's approval of a third-party client for some scopes, until the member revokes it."""

    __tablename__ = "oauth_consents"
    __table_args__ = (UniqueConstraint("member_id", "client_pk"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class OIDCSigningKey(Base):
    """An RSA key that signs id_tokens and logout tokens; its public half is in the JWKS until retired."""

    __tablename__ = "oidc_signing_keys"
    __table_args__ = (
        Index("ix_oidc_signing_keys_active", "created_at", postgresql_where="retired_at IS NULL"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kid: Mapped[str] = mapped_column(String(100), unique=True)
    private_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

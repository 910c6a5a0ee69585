"""Third-party applications a member has allowed, owned by federation and shown on the account app."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.dtos import OAuthGrantDTO
from shared.models import OAuthClient, OAuthConsent, OAuthToken


class SqlOAuthGrantService:
    async def list_grants(self, session: AsyncSession, member_id: int) -> list[OAuthGrantDTO]:
        rows = await session.execute(
            select(OAuthConsent, OAuthClient)
            .join(OAuthClient, OAuthClient.id == OAuthConsent.client_pk)
            .where(OAuthConsent.member_id == member_id)
            .order_by(OAuthClient.name)
        )
        return [
            OAuthGrantDTO(client.client_id, client.name, consent.scope, consent.created_at)
            for consent, client in rows
        ]

    async def revoke_grant(self, session: AsyncSession, member_id: int, client_id: str) -> bool:
        """Withdraw the approval and revoke every token the client holds for the member."""
        client = await session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
        if client is None:
            return False
        result = await session.execute(
            delete(OAuthConsent).where(OAuthConsent.member_id == member_id, OAuthConsent.client_pk == client.id)
        )
        await session.execute(
            update(OAuthToken)
            .where(OAuthToken.member_id == member_id, OAuthToken.client_pk == client.id, OAuthToken.revoked_at.is_(None))
            .values(revoked_at=datetime.now(timezone.utc))
        )
        return result.rowcount > 0

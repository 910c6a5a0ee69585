"""Queries behind the market's pages; other apps use shared.services.market instead."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from shared.models import Market, Product


async def markets_with_products(session: AsyncSession) -> list[Market]:
    rows = await session.scalars(
        select(Market).order_by(Market.name).options(selectinload(Market.products).selectinload(Product.producer))
    )
    return list(rows)


async def product_by_slug(session: AsyncSession, slug: str) -> Product | None:
    return await session.scalar(
        select(Product)
        .where(Product.slug == slug)
        .options(selectinload(Product.market), selectinload(Product.producer), selectinload(Product.category))
    )

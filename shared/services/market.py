"""The market's service: product DTOs for other apps."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from shared.contracts.dtos import ProductDTO
from shared.models import Product


def product_dto(product: Product) -> ProductDTO:
    return ProductDTO(
        id=product.id,
        slug=product.slug,
        name=product.name,
        price_minor=product.price_minor,
        currency=product.currency,
        market_slug=product.market.slug,
        market_name=product.market.name,
        producer_name=product.producer.name if product.producer else None,
        image_url=product.image_url,
        in_stock=product.stock is None or product.stock > 0,
    )


class SqlMarketService:
    async def get_product(self, session: AsyncSession, product_id: int) -> ProductDTO | None:
        products = await self.get_products(session, [product_id])
        return products.get(product_id)

    async def get_products(self, session: AsyncSession, product_ids: list[int]) -> dict[int, ProductDTO]:
        if not product_ids:
            return {}
        rows = await session.scalars(
            select(Product)
            .where(Product.id.in_(product_ids))
            .options(selectinload(Product.market), selectinload(Product.producer))
        )
        return {product.id: product_dto(product) for product in rows}

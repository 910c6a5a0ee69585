"""The visitor's cart. Product names and prices come from the market service."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from shared.contracts.dtos import ProductDTO
from shared.models import Cart, CartItem
from shared.services.registry import services

MAX_QUANTITY = 99


@dataclass(frozen=True)
class CartLine:
    product: ProductDTO
    quantity: int

    @property
    def subtotal_minor(self) -> int:
        return self.product.price_minor * self.quantity


def new_cart_key() -> str:
    return secrets.token_urlsafe(24)


async def find_cart(session: AsyncSession, cart_key: str | None) -> Cart | None:
    if not cart_key:
        return None
    return await session.scalar(
        select(Cart).where(Cart.session_key == cart_key).options(selectinload(Cart.items))
    )


async def find_member_cart(session: AsyncSession, member_id: int) -> Cart | None:
    return await session.scalar(select(Cart).where(Cart.member_id == member_id).options(selectinload(Cart.items)))


async def cart_lines(session: AsyncSession, cart: Cart | None) -> list[CartLine]:
    if cart is None or not cart.items:
        return []
    products = await services.market.get_products(session, [item.product_id for item in cart.items])
    return [CartLine(products[item.product_id], item.quantity) for item in cart.items if item.product_id in products]


def totals(lines: list[CartLine]) -> dict[str, int]:
    """The total per currency; a cart normally holds one currency."""
    result: dict[str, int] = {}
    for line in lines:
        result[line.product.currency] = result.get(line.product.currency, 0) + line.subtotal_minor
    return result


async def add_to_cart(
    session: AsyncSession, cart_key: str, product_id: int, quantity: int, member_id: int | None = None
) -> int:
    """Add ``quantity`` of a product; returns the new quantity in the cart (at most MAX_QUANTITY).

    A signed-in member's cart belongs to the member; a visitor's to the visitor's session.
    """
    if member_id is not None:
        cart = await find_member_cart(session, member_id)
    else:
        cart = await find_cart(session, cart_key)
    if cart is None:
        cart = Cart(member_id=member_id, items=[]) if member_id is not None else Cart(session_key=cart_key, items=[])
        session.add(cart)
    item = next((item for item in cart.items if item.product_id == product_id), None)
    if item is None:
        item = CartItem(product_id=product_id, quantity=min(quantity, MAX_QUANTITY))
        cart.items.append(item)
    else:
        item.quantity = min(item.quantity + quantity, MAX_QUANTITY)
    await session.flush()
    return item.quantity


async def adopt_visitor_cart(session: AsyncSession, cart_key: str, member_id: int) -> bool:
    """Move what a visitor put in their cart into their member cart after they sign in.

    Returns whether anything moved. Quantities of a product in both carts add up, to at most MAX_QUANTITY.
    """
    visitor = await find_cart(session, cart_key)
    if visitor is None:
        return False
    member_cart = await find_member_cart(session, member_id)
    if member_cart is None:
        visitor.session_key = None
        visitor.member_id = member_id
        return bool(visitor.items)
    for item in list(visitor.items):
        existing = next((line for line in member_cart.items if line.product_id == item.product_id), None)
        if existing is None:
            member_cart.items.append(CartItem(product_id=item.product_id, quantity=item.quantity))
        else:
            existing.quantity = min(existing.quantity + item.quantity, MAX_QUANTITY)
    moved = bool(visitor.items)
    await session.delete(visitor)
    await session.flush()
    return moved


async def remove_from_cart(
    session: AsyncSession, cart_key: str, product_id: int, member_id: int | None = None
) -> bool:
    cart = await find_member_cart(session, member_id) if member_id is not None else await find_cart(session, cart_key)
    item = next((item for item in cart.items if item.product_id == product_id), None) if cart else None
    if item is None:
        return False
    await session.delete(item)
    return True

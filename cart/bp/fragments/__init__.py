"""The cart's fragments for other apps: ``cart-mini``, the item count and total of a member's cart."""

from __future__ import annotations

from quart import render_template

from cart.services import cart_lines, find_member_cart, totals
from shared.infrastructure.db import get_session
from shared.infrastructure.fragments import FragmentContext, fragments_blueprint


async def cart_mini(context: FragmentContext) -> str:
    lines = []
    if context.member_id is not None:
        session = get_session()
        lines = await cart_lines(session, await find_member_cart(session, context.member_id))
    count = sum(line.quantity for line in lines)
    return await render_template("cart/fragments/cart_mini.html", count=count, totals=totals(lines))


bp = fragments_blueprint({"cart-mini": cart_mini})

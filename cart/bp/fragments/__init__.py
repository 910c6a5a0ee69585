"""The cart's fragments for other apps: ``cart-mini``, the item count and total of a member's or visitor's cart."""

from __future__ import annotations

from quart import render_template

from cart.services import cart_lines, find_cart, find_member_cart, totals
from shared.infrastructure.db import get_session
from shared.infrastructure.fragments import FragmentContext, fragments_blueprint


async def cart_mini(context: FragmentContext) -> str:
    lines = []
    session = get_session()
    if context.member_id is not None:
        lines = await cart_lines(session, await find_member_cart(session, context.member_id))
    elif context.cart_key is not None:
        # The cart key comes from the signed internal credential, so only our apps can ask for a visitor's cart.
        lines = await cart_lines(session, await find_cart(session, context.cart_key))
    count = sum(line.quantity for line in lines)
    return await render_template("cart/fragments/cart_mini.html", count=count, totals=totals(lines))


bp = fragments_blueprint({"cart-mini": cart_mini})

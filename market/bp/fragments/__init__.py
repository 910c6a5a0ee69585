"""The market's fragments for other apps: ``featured``, a few products in stock (``n``)."""

from __future__ import annotations

from quart import abort, render_template
from sqlalchemy import or_, select

from shared.infrastructure.db import get_session
from shared.infrastructure.fragments import FragmentContext, fragments_blueprint
from shared.models import Product

MAX_PRODUCTS = 12


async def featured(context: FragmentContext) -> str:
    raw = context.params.get("n", "3")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PRODUCTS:
        abort(400, f"n must be a whole number from 1 to {MAX_PRODUCTS}")
    products = await get_session().scalars(
        select(Product).where(or_(Product.stock.is_(None), Product.stock > 0)).order_by(Product.created_at.desc(), Product.id).limit(int(raw))
    )
    return await render_template("market/fragments/featured.html", products=list(products))


bp = fragments_blueprint({"featured": featured})

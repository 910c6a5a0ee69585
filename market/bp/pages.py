"""Public pages: the markets with their products, and one page per product."""

from __future__ import annotations

from quart import Blueprint, abort, render_template

from market.services import markets_with_products, product_by_slug
from shared.infrastructure.db import get_session

bp = Blueprint("pages", __name__)


@bp.get("/")
async def index():
    return await render_template("market/index.html", markets=await markets_with_products(get_session()))


@bp.get("/product/<slug>/")
async def product(slug: str):
    found = await product_by_slug(get_session(), slug)
    if found is None:
        abort(404)
    return await render_template("market/product.html", product=found)

"""The cart page and the forms that change it."""

from __future__ import annotations

from quart import Blueprint, abort, current_app, redirect, render_template, request, session

from cart.services import (
    MAX_QUANTITY, add_to_cart, adopt_visitor_cart, cart_lines, find_cart, find_member_cart, new_cart_key,
    remove_from_cart, totals,
)
from shared.infrastructure.db import get_session
from shared.infrastructure.fragments import current_member_id, invalidate
from shared.services.registry import services

bp = Blueprint("pages", __name__)


@bp.before_request
async def adopt_cart_after_sign_in() -> None:
    """Give a member who just signed in whatever they added to the cart as a visitor."""
    member_id = current_member_id()
    cart_key = session.get("cart_key")
    if member_id is None or not cart_key:
        return
    session.pop("cart_key")
    if await adopt_visitor_cart(get_session(), cart_key, member_id):
        await _forget_cart_fragment(member_id)


@bp.get("/")
async def index():
    db = get_session()
    member_id = current_member_id()
    cart = await find_member_cart(db, member_id) if member_id is not None else await find_cart(db, session.get("cart_key"))
    lines = await cart_lines(db, cart)
    notice = session.pop("cart_notice", None)
    return await render_template("cart/index.html", lines=lines, totals=totals(lines), notice=notice)


@bp.get("/add/<int:product_id>")
async def add_form(product_id: int):
    product = await services.market.get_product(get_session(), product_id)
    if product is None:
        abort(404)
    return await render_template("cart/add.html", product=product, quantity="1", errors=[])


def _whole_number(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 6 else None


@bp.post("/add")
async def add():
    form = await request.form
    db = get_session()
    product_id = _whole_number(form.get("product_id"))
    product = await services.market.get_product(db, product_id) if product_id is not None else None
    if product is None:
        message = "That product is not in the market (any more). Choose a product from the market and try again."
        return await render_template("cart/add.html", product=None, quantity="1", errors=[message]), 400
    quantity = _whole_number(form.get("quantity"))
    errors = []
    if quantity is None or not 1 <= quantity <= MAX_QUANTITY:
        errors.append(f"Quantity must be a whole number from 1 to {MAX_QUANTITY}.")
    elif not product.in_stock:
        errors.append(f"{product.name} is sold out.")
    if errors:
        return await render_template("cart/add.html", product=product, quantity=form.get("quantity", ""), errors=errors), 400
    member_id = current_member_id()
    cart_key = session.get("cart_key") or ""
    if member_id is None:
        cart_key = cart_key or new_cart_key()
        session["cart_key"] = cart_key
    in_cart = await add_to_cart(db, cart_key, product.id, quantity, member_id)
    await _forget_cart_fragment(member_id)
    if in_cart == MAX_QUANTITY:
        session["cart_notice"] = f"You now have {MAX_QUANTITY} of {product.name}, the most one cart can hold."
    return redirect("/")


async def _forget_cart_fragment(member_id: int | None) -> None:
    # Other apps' headers show this cart; drop their cached copy so the next page shows the change.
    if member_id is not None:
        await invalidate(current_app.extensions["redis"], "cart", "cart-mini", member_id)


@bp.post("/remove")
async def remove():
    form = await request.form
    product_id = _whole_number(form.get("product_id"))
    member_id = current_member_id()
    removed = product_id is not None and await remove_from_cart(get_session(), session.get("cart_key", ""), product_id, member_id)
    if not removed:
        abort(400, "That product is not in your cart.")
    await _forget_cart_fragment(member_id)
    return redirect("/")

"""The cart page and the forms that change it.

A signed-out visitor's cart is found by the cart key in the shared cart cookie
(``shared.infrastructure.cart_cookie``), which the other apps send back to the
cart app when they ask for the visitor's ``cart-mini`` fragment.
"""

from __future__ import annotations

from quart import Blueprint, Response, abort, after_this_request, current_app, redirect, render_template, request, session

from cart.services import (
    MAX_QUANTITY, add_to_cart, adopt_visitor_cart, cart_lines, find_cart, find_member_cart, new_cart_key,
    remove_from_cart, totals,
)
from shared.infrastructure.cart_cookie import current_cart_key, delete_cart_cookie, set_cart_cookie
from shared.infrastructure.db import get_session
from shared.infrastructure.fragments import current_member_id, invalidate
from shared.services.registry import services

bp = Blueprint("pages", __name__)


@bp.before_request
async def adopt_cart_after_sign_in() -> None:
    """Give a member who just signed in whatever they added to the cart as a visitor."""
    member_id = current_member_id()
    cart_key = current_cart_key()
    if member_id is None or cart_key is None:
        return

    @after_this_request
    async def forget_visitor_cart(response: Response) -> Response:
        # A failed request rolls the move back, so the visitor keeps the cookie that finds their cart.
        if response.status_code < 400:
            delete_cart_cookie(response, current_app.extensions["settings"])
        return response

    if await adopt_visitor_cart(get_session(), cart_key, member_id):
        await _forget_cart_fragment(member_id, None)


@bp.get("/")
async def index():
    db = get_session()
    member_id = current_member_id()
    cart = await find_member_cart(db, member_id) if member_id is not None else await find_cart(db, current_cart_key())
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
    cart_key = None if member_id is not None else (current_cart_key() or new_cart_key())
    in_cart = await add_to_cart(db, cart_key or "", product.id, quantity, member_id)
    await _forget_cart_fragment(member_id, cart_key)
    if in_cart == MAX_QUANTITY:
        session["cart_notice"] = f"You now have {MAX_QUANTITY} of {product.name}, the most one cart can hold."
    response = redirect("/")
    if cart_key is not None:
        # Set on every add, so that the cookie lasts as long after the visitor's last change as a session does.
        set_cart_cookie(response, cart_key, current_app.extensions["settings"])
    return response


async def _forget_cart_fragment(member_id: int | None, cart_key: str | None) -> None:
    # Other apps' headers show this cart; drop their cached copy so the next page shows the change.
    if member_id is not None or cart_key is not None:
        await invalidate(current_app.extensions["redis"], "cart", "cart-mini", member_id, cart_key)


@bp.post("/remove")
async def remove():
    form = await request.form
    product_id = _whole_number(form.get("product_id"))
    member_id = current_member_id()
    cart_key = None if member_id is not None else current_cart_key()
    removed = product_id is not None and await remove_from_cart(get_session(), cart_key or "", product_id, member_id)
    if not removed:
        abort(400, "That product is not in your cart.")
    await _forget_cart_fragment(member_id, cart_key)
    return redirect("/")

"""The signed-out visitor's cart key, in a cookie that every app can read.

The cart app sets the cookie when a visitor first adds a product, and deletes it
when the visitor signs in and the cart moves to the member. The other apps read
it only to ask the cart app, over the signed internal request, for that
visitor's ``cart-mini`` fragment. The cookie goes to every app because it is
scoped to ``Settings.shared_cookie_domain``, or, when that is None, because all
apps share one host and cookies ignore ports.

The key is a bearer secret for the visitor's cart, like a session id, so the
cookie is HttpOnly, SameSite=Lax and Secure on https, and the blog's page cache
neither serves nor stores pages for a request that carries it.
"""

from __future__ import annotations

from quart import Response, request

from .config import Settings
from .internal_auth import CART_KEY_PATTERN
from .sessions import SESSION_LIFETIME_SECONDS

COOKIE_NAME = "rose_ash_cart"


def current_cart_key() -> str | None:
    """Return the cart key of the current request's cookie, or None when it is missing or malformed."""
    value = request.cookies.get(COOKIE_NAME, "")
    return value if CART_KEY_PATTERN.fullmatch(value) else None


def set_cart_cookie(response: Response, cart_key: str, settings: Settings) -> None:
    response.set_cookie(
        COOKIE_NAME,
        cart_key,
        max_age=SESSION_LIFETIME_SECONDS,
        path="/",
        domain=settings.shared_cookie_domain,
        httponly=True,
        secure=settings.app("cart").is_https,
        samesite="Lax",
    )


def delete_cart_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        COOKIE_NAME, path="/", domain=settings.shared_cookie_domain, httponly=True,
        secure=settings.app("cart").is_https, samesite="Lax",
    )

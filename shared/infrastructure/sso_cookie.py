"""The sign-in state cookie: a value that changes whenever the browser signs in or out at federation.

The five client apps bounce an anonymous browser through federation once,
with ``prompt=none``, to find out whether it is signed in there (see
``shared.infrastructure.oauth``). Without more, a browser that signs in at
federation after that bounce would stay signed out on those apps until the
member clicked "Sign in" on each. So federation sets this cookie to a new
random value at every sign-in and deletes it at sign-out. A client app
remembers the value it saw when it last bounced, and bounces again when the
value differs. The cookie is scoped like the cart cookie, so every app reads
it. It carries nothing about who is signed in, and the blog's page cache never
serves a request that carries it, because that browser may be signed in.
"""

from __future__ import annotations

import secrets

from quart import Response, request

from .config import Settings

COOKIE_NAME = "rose_ash_sso"
# A federation session lasts at most this long without activity.
MAX_AGE_SECONDS = 14 * 24 * 3600


def current_sso_state() -> str:
    """Return the request's sign-in state value, or "" when the browser has none."""
    value = request.cookies.get(COOKIE_NAME, "")
    return value if 0 < len(value) <= 64 and value.isascii() else ""


def set_sso_cookie(response: Response, settings: Settings) -> None:
    response.set_cookie(
        COOKIE_NAME,
        secrets.token_urlsafe(16),
        max_age=MAX_AGE_SECONDS,
        path="/",
        domain=settings.shared_cookie_domain,
        httponly=True,
        secure=settings.app("federation").is_https,
        samesite="Lax",
    )


def delete_sso_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        COOKIE_NAME, path="/", domain=settings.shared_cookie_domain, httponly=True,
        secure=settings.app("federation").is_https, samesite="Lax",
    )

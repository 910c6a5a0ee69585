"""The credential one Rose Ash app shows another on ``/internal/`` requests.

The caller sends ``X-Internal-Auth: t=<unix time>,m=<member id or ->,s=<hex>``
where ``s`` is an HMAC-SHA256, keyed with the shared ``internal_secret``, over
the method, the path with its query string, the member id and the time. The
member id rides inside the signature, so an app can trust whose fragment it
is rendering. A credential is valid for ``WINDOW_SECONDS`` either side of now.

For a signed-out visitor with a cart, the caller adds ``c=<cart key>`` before
``s``, and the signature then covers the cart key as well. A header without
``c`` is signed exactly as before, so apps that never send one keep working.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass

HEADER = "X-Internal-Auth"
WINDOW_SECONDS = 30
# The characters of secrets.token_urlsafe, so that a cart key never contains the header's "," or "=".
CART_KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclass(frozen=True)
class InternalCaller:
    member_id: int | None
    # The signed-out visitor's cart key, for fragments that show the visitor's cart.
    cart_key: str | None = None


class InternalAuthError(Exception):
    """The credential is missing, malformed, stale or wrong; the message names the reason."""


def _digest(secret: str, method: str, target: str, member: str, timestamp: str, cart_key: str | None = None) -> str:
    parts = [method.upper(), target, member, timestamp]
    if cart_key is not None:
        parts.append(cart_key)
    message = "\n".join(parts).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(
    secret: str, method: str, target: str, member_id: int | None, now: float | None = None,
    cart_key: str | None = None,
) -> str:
    """Return the header value for a request to ``target`` (path plus query string).

    Raises ValueError when ``cart_key`` does not match CART_KEY_PATTERN.
    """
    timestamp = str(int(time.time() if now is None else now))
    member = "-" if member_id is None else str(member_id)
    signature = _digest(secret, method, target, member, timestamp, cart_key)
    if cart_key is None:
        return f"t={timestamp},m={member},s={signature}"
    if not CART_KEY_PATTERN.fullmatch(cart_key):
        raise ValueError("invalid cart key: expected 16 to 64 letters, digits, '-' or '_'")
    return f"t={timestamp},m={member},c={cart_key},s={signature}"


def verify(secret: str, header: str | None, method: str, target: str, now: float | None = None) -> InternalCaller:
    """Check a credential and return who it speaks for, or raise InternalAuthError."""
    if not header:
        raise InternalAuthError(f"missing {HEADER} header")
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp, member, signature = fields["t"], fields["m"], fields["s"]
        sent_at = int(timestamp)
    except (KeyError, ValueError):
        raise InternalAuthError(f"malformed {HEADER} header") from None
    cart_key = fields.get("c")
    if cart_key is not None and not CART_KEY_PATTERN.fullmatch(cart_key):
        raise InternalAuthError("malformed cart key")
    current = time.time() if now is None else now
    if abs(current - sent_at) > WINDOW_SECONDS:
        raise InternalAuthError(f"stale credential: sent at {sent_at}, now {int(current)}")
    if not hmac.compare_digest(signature, _digest(secret, method, target, member, timestamp, cart_key)):
        raise InternalAuthError("wrong signature")
    if member == "-":
        return InternalCaller(member_id=None, cart_key=cart_key)
    if not member.isdigit():
        raise InternalAuthError("malformed member id")
    return InternalCaller(member_id=int(member), cart_key=cart_key)

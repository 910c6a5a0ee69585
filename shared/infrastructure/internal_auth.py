"""The credential one Rose Ash app shows another on ``/internal/`` requests.

The caller sends ``X-Internal-Auth: t=<unix time>,m=<member id or ->,s=<hex>``
where ``s`` is an HMAC-SHA256, keyed with the shared ``internal_secret``, over
the method, the path with its query string, the member id and the time. The
member id rides inside the signature, so an app can trust whose fragment it
is rendering. A credential is valid for ``WINDOW_SECONDS`` either side of now.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

HEADER = "X-Internal-Auth"
WINDOW_SECONDS = 30


@dataclass(frozen=True)
class InternalCaller:
    member_id: int | None


class InternalAuthError(Exception):
    """The credential is missing, malformed, stale or wrong; the message names the reason."""


def _digest(secret: str, method: str, target: str, member: str, timestamp: str) -> str:
    message = "\n".join((method.upper(), target, member, timestamp)).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, method: str, target: str, member_id: int | None, now: float | None = None) -> str:
    """Return the header value for a request to ``target`` (path plus query string)."""
    timestamp = str(int(time.time() if now is None else now))
    member = "-" if member_id is None else str(member_id)
    return f"t={timestamp},m={member},s={_digest(secret, method, target, member, timestamp)}"


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
    current = time.time() if now is None else now
    if abs(current - sent_at) > WINDOW_SECONDS:
        raise InternalAuthError(f"stale credential: sent at {sent_at}, now {int(current)}")
    if not hmac.compare_digest(signature, _digest(secret, method, target, member, timestamp)):
        raise InternalAuthError("wrong signature")
    if member == "-":
        return InternalCaller(member_id=None)
    if not member.isdigit():
        raise InternalAuthError("malformed member id")
    return InternalCaller(member_id=int(member))

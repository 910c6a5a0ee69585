"""Known-device cookies: which members have signed in from this browser before.

At each successful sign-in federation sets a cookie, signed with the app's
secret key, that contains a random device id and the ids of the members who
signed in from the browser. A sign-in attempt for one of those members
counts its failures against the device instead of the account, so failures
typed elsewhere cannot lock the member out of this browser
(``federation.services.signin_limits``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE_NAME = "federation_known_device"
COOKIE_MAX_AGE_SECONDS = 365 * 24 * 3600
# A shared computer keeps the newest members; older ones fall back to the account limit.
MAX_MEMBERS = 10
_SALT = "known-device"


@dataclass(frozen=True)
class KnownDevice:
    device_id: str
    member_ids: tuple[int, ...]


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def read(secret_key: str, cookie: str | None) -> KnownDevice | None:
    """Return the device a cookie describes, or None when it is missing, forged, expired or malformed."""
    if not cookie or len(cookie) > 1000:
        return None
    try:
        data = _serializer(secret_key).loads(cookie, max_age=COOKIE_MAX_AGE_SECONDS)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    device_id, member_ids = data.get("device"), data.get("members")
    if not isinstance(device_id, str) or not isinstance(member_ids, list):
        return None
    if not all(isinstance(member_id, int) for member_id in member_ids):
        return None
    return KnownDevice(device_id, tuple(member_ids))


def remember(secret_key: str, known: KnownDevice | None, member_id: int) -> str:
    """Return the cookie value for this browser with ``member_id`` added as its newest member."""
    device_id = known.device_id if known else secrets.token_urlsafe(16)
    others = [other for other in (known.member_ids if known else ()) if other != member_id]
    member_ids = (others + [member_id])[-MAX_MEMBERS:]
    return _serializer(secret_key).dumps({"device": device_id, "members": member_ids})

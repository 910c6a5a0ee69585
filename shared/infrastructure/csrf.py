"""CSRF protection for every form.

Each session gets one random token; every state-changing request must send
it back, as the ``csrf_token`` form field or the ``X-CSRF-Token`` header.
Views that authenticate otherwise (signed server-to-server requests, the
internal fragment endpoints) opt out with ``@csrf_exempt``.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Callable, TypeVar

from markupsafe import Markup, escape
from quart import current_app, g, request, session
from werkzeug.exceptions import BadRequest

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SESSION_KEY = "_csrf"
FIELD_NAME = "csrf_token"

F = TypeVar("F", bound=Callable)


class CSRFError(BadRequest):
    description = (
        "This form has expired or was not sent from this site, so nothing was saved. "
        "Go back, reload the page and submit the form again."
    )


def csrf_exempt(view: F) -> F:
    view._csrf_exempt = True  # type: ignore[attr-defined]
    return view


def csrf_token() -> str:
    # A page that carries a token belongs to one session, so it must never be cached.
    g.csrf_used = True
    token = session.get(SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        session[SESSION_KEY] = token
    return token


def csrf_field() -> Markup:
    return Markup('<input type="hidden" name="%s" value="%s">') % (FIELD_NAME, escape(csrf_token()))


async def check_csrf() -> None:
    if request.method in SAFE_METHODS or request.path.startswith("/internal/"):
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "_csrf_exempt", False):
        return
    expected = session.get(SESSION_KEY)
    sent = request.headers.get("X-CSRF-Token")
    if sent is None:
        sent = (await request.form).get(FIELD_NAME)
    if not expected or not sent or not hmac.compare_digest(str(expected), str(sent)):
        raise CSRFError()

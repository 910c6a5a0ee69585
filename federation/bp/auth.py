"""Members signing up, in and out at federation, and changing their password.

Signing in here starts the federation session that the OAuth server relies
on. Signing out ends it, and back-channel logout ends every app session
started from it.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from quart import Blueprint, current_app, redirect, render_template, request, session

from federation.oauth.identity import send_backchannel_logouts, subject_of
from federation.oauth.keys import KeyStore
from federation.services import authenticate
from federation.services import signin_limits
from federation.services.accounts import change_password, sign_up
from shared.infrastructure.db import get_session
from shared.models import Member

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


def safe_next(target: str | None) -> str:
    """Return where to go after signing in: a path here or a page of one of our own apps, never elsewhere."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    own = {urlsplit(urls.public_url)[:2] for urls in current_app.extensions["settings"].apps.values()}
    return target if (parts.scheme, parts.netloc) in own else "/"


def key_store() -> KeyStore:
    store = current_app.extensions.get("oidc_keys")
    if store is None:
        store = KeyStore(current_app.extensions["sessionmaker"])
        current_app.extensions["oidc_keys"] = store
    return store


def signed_in_member_id() -> int | None:
    member_id = session.get("member_id")
    return member_id if isinstance(member_id, int) else None


def start_member_session(member: Member) -> None:
    """Sign ``member`` in: a new session id, and a new ``sid`` for the id_tokens of this session."""
    session.regenerate()
    session["member_id"] = member.id
    session["member_username"] = member.username
    session["member_name"] = member.display_name
    session["oidc_sid"] = secrets.token_urlsafe(16)
    session["auth_time"] = time.time()


async def end_member_session() -> dict[str, bool]:
    """Sign out here and post logout tokens to every client app; returns which apps confirmed."""
    username = session.get("member_username")
    sid = session.get("oidc_sid")
    session.clear()
    if not username:
        return {}
    settings = current_app.extensions["settings"]
    results = await send_backchannel_logouts(
        get_session(), key_store(), settings, subject_of(settings, username), sid,
        transport=current_app.extensions.get("oauth_http_transport"),
    )
    log.info("signed out %s; back-channel logout confirmed by %s", username, sorted(k for k, ok in results.items() if ok))
    return results


def _login_page(**context: Any):
    return render_template("federation/login.html", **{"login": "", "errors": [], **context})


@bp.get("/login")
async def login_form():
    return await _login_page(next=safe_next(request.args.get("next")))


@bp.post("/login")
async def login():
    form = await request.form
    login_name = (form.get("login") or "").strip()
    password = form.get("password") or ""
    next_url = safe_next(form.get("next"))
    errors = []
    if not login_name:
        errors.append("Enter your email address or username.")
    if not password:
        errors.append("Enter your password.")
    if errors:
        return await _login_page(login=login_name, next=next_url, errors=errors), 400

    redis = current_app.extensions["redis"]
    address = request.remote_addr or "unknown"
    if await signin_limits.is_blocked(redis, login_name, address):
        return await _login_page(login=login_name, next=next_url, errors=[signin_limits.BLOCKED_MESSAGE]), 429
    member = await authenticate(get_session(), login_name, password)
    if member is None:
        await signin_limits.record_failure(redis, login_name, address)
        message = "That email address or username and password do not match a member. Check both and try again."
        return await _login_page(login=login_name, next=next_url, errors=[message]), 400
    await signin_limits.record_success(redis, login_name, address)
    start_member_session(member)
    return redirect(next_url)


@bp.get("/logout")
async def logout_form():
    return await render_template("federation/logout_confirm.html", fields=[])


@bp.post("/logout")
async def logout():
    await end_member_session()
    return redirect("/")


@bp.get("/signup")
async def signup_form():
    return await render_template(
        "federation/signup.html", form={}, next=safe_next(request.args.get("next")), errors=[]
    )


@bp.post("/signup")
async def signup():
    form = await request.form
    next_url = safe_next(form.get("next"))
    result = await sign_up(
        get_session(), form.get("username") or "", form.get("email") or "", form.get("display_name") or "",
        form.get("password") or "", form.get("password_confirmation") or "",
    )
    if result.member is None:
        kept_fields = {name: form.get(name, "") for name in ("username", "email", "display_name")}
        return await render_template("federation/signup.html", form=kept_fields, next=next_url, errors=result.errors), 400
    start_member_session(result.member)
    return redirect(next_url)


@bp.get("/password")
async def password_form():
    if signed_in_member_id() is None:
        return redirect("/login?" + urlencode({"next": "/password"}))
    return await render_template("federation/password.html", errors=[], changed=False)


@bp.post("/password")
async def password_change():
    member_id = signed_in_member_id()
    if member_id is None:
        return redirect("/login?" + urlencode({"next": "/password"}))
    form = await request.form
    errors = await change_password(
        get_session(), member_id, form.get("current_password") or "", form.get("new_password") or "",
        form.get("new_password_confirmation") or "",
    )
    if errors:
        return await render_template("federation/password.html", errors=errors, changed=False), 400
    session.regenerate()
    return await render_template("federation/password.html", errors=[], changed=True)

"""Members signing up, in and out at federation, and changing their password.

Signing in here starts the federation session that the OAuth server relies
on. Signing out ends it, and back-channel logout ends every app session
started from it. Changing the password, or the "sign out of all other
devices" button, ends every other session of the member on every app and
revokes the tokens issued from those sessions.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from quart import Blueprint, Response, current_app, g, redirect, render_template, request, session

from federation.oauth.grants import revoke_member_tokens
from federation.oauth.identity import send_backchannel_logouts, subject_of
from federation.oauth.keys import KeyStore
from federation.services import authenticate, find_member, known_devices
from federation.services import signin_limits
from federation.services.accounts import change_password, sign_up
from shared.infrastructure.db import get_session
from shared.infrastructure.sessions import EndedSessions, end_member_sessions
from shared.infrastructure.sso_cookie import delete_sso_cookie, set_sso_cookie
from shared.models import Member

bp = Blueprint("auth", __name__)


@bp.after_app_request
async def announce_sign_in_state(response: Response) -> Response:
    """Renew the sign-in state cookie after a sign-in and delete it after a sign-out, for the client apps."""
    change = g.get("sso_change")
    if change == "signed in" and response.status_code < 400:
        set_sso_cookie(response, current_app.extensions["settings"])
    elif change == "signed out":
        delete_sso_cookie(response, current_app.extensions["settings"])
    return response
log = logging.getLogger(__name__)

# A one-time notice for the next federation page that renders base.html.
PAGE_NOTICE_KEY = "page_notice"


@bp.app_context_processor
def page_notice() -> dict[str, Any]:
    """Return the stored one-time notice for base.html, and remove it from the session."""
    return {"page_notice": session.pop(PAGE_NOTICE_KEY) if PAGE_NOTICE_KEY in session else None}


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
    g.sso_change = "signed in"


async def end_member_session() -> dict[str, bool]:
    """Sign out here and post logout tokens to every client app; returns which apps confirmed."""
    username = session.get("member_username")
    sid = session.get("oidc_sid")
    session.clear()
    g.sso_change = "signed out"
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
    signed_in_as = session.get("member_username")
    defaults = {"login": signed_in_as or "", "signed_in_as": signed_in_as, "errors": []}
    return render_template("federation/login.html", **{**defaults, **context})


def _known_device() -> known_devices.KnownDevice | None:
    return known_devices.read(current_app.secret_key, request.cookies.get(known_devices.COOKIE_NAME))


async def _known_device_id(known: known_devices.KnownDevice | None, login_name: str) -> str | None:
    """Return the device id when this browser has signed in as the member named ``login_name`` before."""
    if known is None:
        return None
    member = await find_member(get_session(), login_name)
    return known.device_id if member is not None and member.id in known.member_ids else None


def _remember_device(response: Response, known: known_devices.KnownDevice | None, member: Member) -> Response:
    response.set_cookie(
        known_devices.COOKIE_NAME,
        known_devices.remember(current_app.secret_key, known, member.id),
        max_age=known_devices.COOKIE_MAX_AGE_SECONDS,
        path="/",
        httponly=True,
        secure=current_app.extensions["settings"].app("federation").is_https,
        samesite="Lax",
    )
    return response


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
    known = _known_device()
    device_id = await _known_device_id(known, login_name)
    if await signin_limits.is_blocked(redis, login_name, address, device_id):
        return await _login_page(login=login_name, next=next_url, errors=[signin_limits.BLOCKED_MESSAGE]), 429
    member = await authenticate(get_session(), login_name, password)
    if member is None:
        await signin_limits.record_failure(redis, login_name, address, device_id)
        message = "That email address or username and password do not match a member. Check both and try again."
        return await _login_page(login=login_name, next=next_url, errors=[message]), 400
    await signin_limits.record_success(redis, login_name, address, device_id)
    start_member_session(member)
    return _remember_device(redirect(next_url), known, member)


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
    # NOTE: a member sent on to another app or to /oauth/ gets no welcome, because only federation pages show it.
    if not next_url.startswith(("http://", "https://", "/oauth/")):
        session[PAGE_NOTICE_KEY] = (
            f"Welcome to Rose Ash, {result.member.display_name}. "
            f"Your account @{result.member.username} is ready, and you are signed in."
        )
    return _remember_device(redirect(next_url), _known_device(), result.member)


def _password_page(errors: list[str] | None = None, notice: str | None = None):
    return render_template("federation/password.html", errors=errors or [], notice=notice)


def _count(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number == 1 else plural}"


def _signed_out_notice(ended: EndedSessions, revoked_sign_ins: int) -> str:
    if not ended.sessions and not revoked_sign_ins:
        return "You were not signed in anywhere else."
    sentences = []
    if ended.sessions:
        sentences.append(
            f"You were signed out of {_count(ended.sessions, 'other session', 'other sessions')}, "
            f"in {_count(ended.sign_ins, 'other browser or device', 'other browsers or devices')}."
        )
    if revoked_sign_ins:
        sentences.append(
            f"{_count(revoked_sign_ins, 'application sign-in', 'application sign-ins')} from elsewhere "
            "lost access, so those applications will ask you to sign in again."
        )
    return " ".join(sentences)


async def sign_out_other_sessions(member_id: int) -> str:
    """End the member's sessions and tokens outside this browser's federation session; returns the notice."""
    keep_sid = session.get("oidc_sid")
    # NOTE: third-party clients keep their own sessions, which end only when they next use a revoked token.
    ended = await end_member_sessions(current_app.extensions["redis"], member_id, keep_sid)
    revoked = await revoke_member_tokens(get_session(), member_id, keep_sid)
    log.info(
        "member %d signed out elsewhere: %d sessions from %d sign-ins ended, %d token families revoked",
        member_id, ended.sessions, ended.sign_ins, revoked,
    )
    # A new id for this session too, in case its old id was seen elsewhere.
    session.regenerate()
    return _signed_out_notice(ended, revoked)


@bp.get("/password")
async def password_form():
    if signed_in_member_id() is None:
        return redirect("/login?" + urlencode({"next": "/password"}))
    return await _password_page()


@bp.post("/password")
async def password_change():
    member_id = signed_in_member_id()
    if member_id is None:
        return redirect("/login?" + urlencode({"next": "/password"}))
    redis = current_app.extensions["redis"]
    if await signin_limits.password_change_blocked(redis, member_id):
        return await _password_page([signin_limits.PASSWORD_CHANGE_BLOCKED_MESSAGE]), 429
    form = await request.form
    result = await change_password(
        get_session(), member_id, form.get("current_password") or "", form.get("new_password") or "",
        form.get("new_password_confirmation") or "",
    )
    if result.wrong_current:
        await signin_limits.record_wrong_current_password(redis, member_id)
    if result.errors:
        return await _password_page(result.errors), 400
    await signin_limits.clear_wrong_current_passwords(redis, member_id)
    notice = await sign_out_other_sessions(member_id)
    return await _password_page(notice=f"Your password has been changed. {notice}")


@bp.post("/sign-out-others")
async def sign_out_others():
    member_id = signed_in_member_id()
    if member_id is None:
        return redirect("/login?" + urlencode({"next": "/password"}))
    return await _password_page(notice=await sign_out_other_sessions(member_id))

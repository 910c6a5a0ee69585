"""The public member directory, profiles, and the sign-in form."""

from __future__ import annotations

from urllib.parse import urlsplit

from quart import Blueprint, abort, current_app, redirect, render_template, request, session

from federation.services import authenticate
from shared.infrastructure.db import get_session
from shared.services.registry import services

bp = Blueprint("pages", __name__)


@bp.get("/")
async def index():
    return await render_template("federation/index.html", members=await services.members.list_members(get_session()))


@bp.get("/@<username>")
async def profile(username: str):
    member = await services.members.get_member_by_username(get_session(), username)
    if member is None:
        abort(404)
    return await render_template("federation/profile.html", member=member)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path here, or a page of one of our own apps; never elsewhere."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
        return target
    own = {urlsplit(urls.public_url)[:2] for urls in current_app.extensions["settings"].apps.values()}
    return target if (parts.scheme, parts.netloc) in own else "/"


@bp.get("/login")
async def login_form():
    return await render_template(
        "federation/login.html", login="", next=safe_next(request.args.get("next")), errors=[]
    )


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
    member = None
    if not errors:
        member = await authenticate(get_session(), login_name, password)
        if member is None:
            errors.append("That email address or username and password do not match a member. Check both and try again.")
    if errors:
        return await render_template(
            "federation/login.html", login=login_name, next=next_url, errors=errors
        ), 400
    session.regenerate()
    session["member_id"] = member.id
    return redirect(next_url)


@bp.post("/logout")
async def logout():
    session.clear()
    return redirect("/")

"""The member's dashboard; anonymous visitors are sent to sign in."""

from __future__ import annotations

from urllib.parse import urlencode

from quart import Blueprint, current_app, redirect, render_template, session

from shared.infrastructure.db import get_session
from shared.services.registry import services

bp = Blueprint("pages", __name__)


@bp.get("/")
async def index():
    member_id = session.get("member_id")
    member = await services.members.get_member(get_session(), member_id) if member_id else None
    if member is None:
        settings = current_app.extensions["settings"]
        back = settings.app("account").public_url.rstrip("/") + "/"
        sign_in = settings.app("federation").public_url.rstrip("/") + "/login?" + urlencode({"next": back})
        return redirect(sign_in)
    return await render_template("account/index.html", member=member)

"""The public member directory and profiles; signing in is in ``federation.bp.auth``."""

from __future__ import annotations

from quart import Blueprint, abort, render_template

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

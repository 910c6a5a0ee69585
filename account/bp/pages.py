"""The member's dashboard; visitors who are not signed in are sent through federation's sign-in."""

from __future__ import annotations

from quart import Blueprint, abort, redirect, render_template, request, session

from shared.infrastructure.db import get_session
from shared.infrastructure.oauth import current_member, sign_in_redirect
from shared.services.registry import services

bp = Blueprint("pages", __name__)


@bp.get("/")
async def index():
    if current_member() is None:
        return sign_in_redirect("/")
    db = get_session()
    member = await services.members.get_member(db, session["member_id"])
    if member is None:
        session.clear()
        return sign_in_redirect("/")
    grants = await services.oauth_grants.list_grants(db, member.id)
    return await render_template("account/index.html", member=member, grants=grants, revoked=request.args.get("revoked"))


@bp.post("/applications/<client_id>/revoke")
async def revoke_application(client_id: str):
    if current_member() is None:
        return sign_in_redirect("/")
    if not await services.oauth_grants.revoke_grant(get_session(), session["member_id"], client_id):
        abort(404, "You have not allowed that application, so there was nothing to revoke.")
    return redirect("/?revoked=1")

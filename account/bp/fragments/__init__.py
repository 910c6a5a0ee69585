"""The account's fragments for other apps: ``account-menu``, who is signed in, or a sign-in link."""

from __future__ import annotations

from quart import render_template

from shared.infrastructure.db import get_session
from shared.infrastructure.fragments import FragmentContext, fragments_blueprint
from shared.services.registry import services


async def account_menu(context: FragmentContext) -> str:
    member = None
    if context.member_id is not None:
        member = await services.members.get_member(get_session(), context.member_id)
    caller = context.params.get("app", "account")
    return await render_template("account/fragments/account_menu.html", member=member, caller=caller)


bp = fragments_blueprint({"account-menu": account_menu})

"""The blog's fragments for other apps: ``nav``, the managed navigation menu."""

from __future__ import annotations

from quart import render_template
from sqlalchemy import select

from shared.infrastructure.db import get_session
from shared.infrastructure.fragments import FragmentContext, fragments_blueprint
from shared.models import NavigationItem


async def nav(context: FragmentContext) -> str:
    items = await get_session().scalars(select(NavigationItem).order_by(NavigationItem.sort_order, NavigationItem.id))
    return await render_template("blog/fragments/nav.html", items=list(items))


bp = fragments_blueprint({"nav": nav})

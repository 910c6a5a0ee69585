"""The blog's fragments for other apps: ``nav``, the managed navigation menu."""

from __future__ import annotations

from dataclasses import dataclass

from quart import current_app, render_template
from sqlalchemy import select

from shared.infrastructure.db import get_session
from shared.infrastructure.fragments import FragmentContext, fragments_blueprint
from shared.models import NavigationItem


@dataclass(frozen=True)
class MenuLink:
    label: str
    url: str


def menu_link(item: NavigationItem, blog_url: str) -> MenuLink:
    """Return the link for a menu item, with an absolute URL.

    The menu is shown on all six apps, so a link to the blog's front page
    labelled "Home" is shown as "Blog home": on the cart, "Home" would read
    as the cart's own home page.
    """
    url = item.url if item.url.startswith("http") else blog_url + item.url
    label = item.label
    if label.strip().lower() == "home" and url.rstrip("/") == blog_url:
        label = "Blog home"
    return MenuLink(label, url)


async def nav(context: FragmentContext) -> str:
    # The fragment is the same for every app and visitor, so it is cached once for all of them.
    items = await get_session().scalars(select(NavigationItem).order_by(NavigationItem.sort_order, NavigationItem.id))
    blog_url = current_app.extensions["settings"].app("blog").public_url.rstrip("/")
    return await render_template("blog/fragments/nav.html", links=[menu_link(item, blog_url) for item in items])


bp = fragments_blueprint({"nav": nav})

"""A signed-in member's fediverse pages: home timeline and compose, follows, followers and notifications.

Every page needs a signed-in member and sends anyone else to sign in. A
form with bad input is rendered again with the message and status 400, so
the request's transaction is rolled back and nothing changes.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Awaitable, Callable
from urllib.parse import urlencode

from quart import Blueprint, abort, current_app, redirect, render_template, request, session

from federation.bp.auth import signed_in_member_id
from federation.services import social, timeline
from shared.infrastructure.activitypub.actors import LocalActor, member_actor
from shared.infrastructure.activitypub.fetch import FetchError
from shared.infrastructure.activitypub.remote import RemoteObjectError
from shared.infrastructure.activitypub.web import FETCHER_KEY, instance_signer, settings_of_app
from shared.infrastructure.db import get_session
from shared.infrastructure.pagination import page_number
from shared.models import Member

bp = Blueprint("social", __name__, url_prefix="/social")
log = logging.getLogger(__name__)

NOTICE_KEY = "social_notice"
# Outbound follows that the other server has not accepted: still waiting, or refused.
FOLLOW_REQUEST_STATES = ("pending", "rejected")


def signed_in_member(page: str | None = None) -> Callable:
    """Run the view with the signed-in member's actor as its first argument, or redirect to sign in.

    After signing in, the member comes back to ``page``, or to the requested
    path for a GET.
    """

    def decorate(view: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(view)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            member_id = signed_in_member_id()
            member = await get_session().get(Member, member_id) if member_id is not None else None
            actor = await member_actor(get_session(), settings_of_app(), member.username) if member is not None else None
            if actor is None:
                target = request.full_path.rstrip("?") if request.method == "GET" else page or "/social/"
                return redirect("/login?" + urlencode({"next": target}))
            return await view(actor, *args, **kwargs)

        return wrapper

    return decorate


async def _render(template: str, actor: LocalActor, section: str, errors: list[str] | None = None, **context: Any) -> str:
    return await render_template(
        f"federation/social/{template}", me=actor, section=section, errors=errors or [],
        notice=session.pop(NOTICE_KEY, None), unread=await timeline.unread_count(get_session(), actor.member_id),
        **context,
    )


def _notice_and_redirect(message: str, target: str):
    session[NOTICE_KEY] = message
    return redirect(target)


def _page_or_404(page):
    if page.beyond_last and page.number > 1:
        abort(404)
    return page


# Home timeline and compose


async def _home(actor: LocalActor, **context: Any) -> str:
    page = _page_or_404(await timeline.home_timeline(get_session(), actor, page_number(request.args)))
    context.setdefault("text", "")
    context.setdefault("visibility", "public")
    return await _render("home.html", actor, "home", page=page, max_length=social.NOTE_MAX_LENGTH, **context)


@bp.get("/")
@signed_in_member()
async def home(actor: LocalActor):
    return await _home(actor)


@bp.post("/notes")
@signed_in_member("/social/")
async def compose(actor: LocalActor):
    form = await request.form
    text = form.get("text") or ""
    visibility = form.get("visibility") or "public"
    try:
        note_uri = await social.publish_note(get_session(), settings_of_app(), actor.username, text, visibility)
    except social.InvalidNote as error:
        log.info("%s's note was rejected: %s", actor.username, error)
        return await _home(actor, errors=[str(error)], text=text, visibility=visibility), 400
    log.info("%s published note %s (%s)", actor.username, note_uri, visibility)
    audience = "your followers" if visibility == "followers" else "everyone"
    return _notice_and_redirect(f"Your note is published to {audience}.", "/social/")


# Following


async def _following_page(actor: LocalActor, **context: Any) -> str:
    db = get_session()
    context.setdefault("account", "")
    number = page_number(request.args) if request.method == "GET" else 1
    page = _page_or_404(await timeline.follows_page(db, actor, "outbound", ("accepted",), number))
    # Requests come first, on the first page only, like the follow requests on the followers page.
    requests = await timeline.follows_page(db, actor, "outbound", FOLLOW_REQUEST_STATES, 1) if number == 1 else None
    return await _render("following.html", actor, "following", requests=requests, page=page, **context)


@bp.get("/following")
@signed_in_member()
async def following(actor: LocalActor):
    return await _following_page(actor)


@bp.post("/follow")
@signed_in_member("/social/following")
async def follow(actor: LocalActor):
    account = ((await request.form).get("account") or "").strip()
    settings = settings_of_app()
    try:
        result = await social.follow_account(
            get_session(), settings, current_app.extensions[FETCHER_KEY], actor.username, account,
            fetch_auth=await instance_signer(settings),
        )
    except (RemoteObjectError, FetchError) as error:
        log.info("%s could not follow %r: %s", actor.username, account, error)
        return await _following_page(actor, errors=[social.follow_error_message(account, error)], account=account), 400
    if result.already_following:
        return _notice_and_redirect(f"You already follow {account}.", "/social/following")
    log.info("%s asked to follow %s", actor.username, result.actor_uri)
    message = f"You asked to follow {account}. The request is listed under your follow requests until their server accepts it."
    return _notice_and_redirect(message, "/social/following")


@bp.post("/unfollow")
@signed_in_member("/social/following")
async def unfollow(actor: LocalActor):
    followed = (await request.form).get("actor") or ""
    account = (await timeline.accounts(get_session(), [followed])).get(followed)
    try:
        await social.unfollow_remote(get_session(), settings_of_app(), actor.username, followed)
    except social.NoSuchFollow as error:
        log.info("unfollow by %s failed: %s", actor.username, error)
        message = "You do not follow that account (any more), so there was nothing to stop."
        return await _following_page(actor, errors=[message]), 400
    return _notice_and_redirect(f"You no longer follow {account.handle if account else followed}.", "/social/following")


# Followers and follow requests


async def _followers_page(actor: LocalActor, **context: Any) -> str:
    db = get_session()
    number = page_number(request.args) if request.method == "GET" else 1
    page = _page_or_404(await timeline.follows_page(db, actor, "inbound", ("accepted",), number))
    # Requests come first, on the first page only.
    requests = await timeline.follows(db, actor, "inbound", ("pending",)) if number == 1 else []
    return await _render("followers.html", actor, "followers", requests=requests, page=page, **context)


@bp.get("/followers")
@signed_in_member()
async def followers(actor: LocalActor):
    return await _followers_page(actor)


async def _answer_request(actor: LocalActor, accept: bool):
    follower = (await request.form).get("actor") or ""
    account = (await timeline.accounts(get_session(), [follower])).get(follower)
    answer = social.approve_follow_request if accept else social.reject_follow_request
    try:
        await answer(get_session(), settings_of_app(), actor.username, follower)
    except social.NoSuchFollow as error:
        log.info("responding to a follow request for %s failed: %s", actor.username, error)
        message = "That follow request is no longer pending: it was approved or rejected already, or withdrawn."
        return await _followers_page(actor, errors=[message]), 400
    log.info("%s %s the follow request of %s", actor.username, "approved" if accept else "rejected", follower)
    outcome = "now follows you" if accept else "was refused"
    return _notice_and_redirect(f"{account.handle if account else follower} {outcome}.", "/social/followers")


@bp.post("/requests/approve")
@signed_in_member("/social/followers")
async def approve(actor: LocalActor):
    return await _answer_request(actor, accept=True)


@bp.post("/requests/reject")
@signed_in_member("/social/followers")
async def reject(actor: LocalActor):
    return await _answer_request(actor, accept=False)


@bp.post("/settings")
@signed_in_member("/social/followers")
async def change_settings(actor: LocalActor):
    form = await request.form
    choice = form.get("manually_approves_followers", "off")
    if choice not in ("on", "off"):
        log.info("%s sent an invalid manual approval choice %r", actor.username, choice[:20])
        return await _followers_page(actor, errors=["Choose whether to approve followers manually: on or off."]), 400
    enabled = choice == "on"
    accepted = await social.set_manual_approval(get_session(), settings_of_app(), actor.username, enabled)
    if enabled:
        message = "You now approve each new follower yourself."
    else:
        message = "New followers are now accepted automatically."
        if accepted:
            message += f" {accepted} pending request{'s were' if accepted != 1 else ' was'} accepted."
    return _notice_and_redirect(message, "/social/followers")


# Notifications


@bp.get("/notifications")
@signed_in_member()
async def notifications(actor: LocalActor):
    page = _page_or_404(await timeline.notifications_page(get_session(), actor.member_id, page_number(request.args)))
    # The page's notifications are marked read by now, so the count shown beside the link is what remains.
    return await _render("notifications.html", actor, "notifications", page=page)

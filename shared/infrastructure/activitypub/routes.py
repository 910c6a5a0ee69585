"""The ActivityPub endpoints every app serves: discovery and its own ``Service`` actor.

Each app is the actor ``<public_url>/actor`` (handle ``<app>@<host>``) with
an inbox, outbox, followers and following under that path, and a shared
inbox at ``<public_url>/inbox``. WebFinger and host-meta are served on every
app, and the federation app also resolves its members through WebFinger.
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Quart, Response, abort, current_app, render_template, request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.infrastructure.config import Settings
from shared.infrastructure.csrf import csrf_exempt
from shared.infrastructure.db import get_session
from shared.models import APActivity, APFollow

from .actors import LocalActor, actor_document, app_actor, member_actor, public_key_pem
from .discovery import ResourceError, host_meta_xml, parse_resource, same_url, webfinger_document
from .outbox import outbox_collection, outbox_page, public_outbox
from .vocab import AS_CONTEXT, PUBLIC_ALIASES, as_list
from .web import (
    SIGNER_KEY, activity_response, error_response, handle_inbox_post, install_fetcher, instance_signer, jrd_response,
    settings_of_app, wants_activity_json,
)

bp = Blueprint("activitypub", __name__)
# Blueprints whose views read or create the app actors.
ACTIVITYPUB_BLUEPRINTS = frozenset({"activitypub", "federation_activitypub", "blog_activitypub"})


def _app_name() -> str:
    return current_app.extensions["app_name"]


async def _own_actor() -> LocalActor:
    return await app_actor(get_session(), settings_of_app(), _app_name())


async def actor_response(actor: LocalActor, template: str = "activitypub/actor.html", **context: Any) -> Response:
    """Return the actor as JSON to ActivityPub clients and as a page to browsers, with ``Vary: Accept`` on both."""
    if wants_activity_json():
        return activity_response(actor_document(actor, await public_key_pem(get_session(), actor)))
    response = await current_app.make_response(await render_template(template, actor=actor, **context))
    response.vary.add("Accept")
    return response


async def find_webfinger_actor(session: AsyncSession, settings: Settings, app_name: str, resource: str) -> LocalActor | None:
    """Find the local actor a WebFinger resource names on this app; raises ResourceError for a malformed one."""
    parsed = parse_resource(resource)
    own = await app_actor(session, settings, app_name)
    if parsed.url is not None:
        if same_url(parsed.url, own.uri) or same_url(parsed.url, own.profile_url):
            return own
        if app_name == "federation":
            prefix = f"{settings.app('federation').public_url}/"
            url = parsed.url
            if url.lower().startswith(prefix.lower()):
                path = url[len(prefix):].rstrip("/")
                username = None
                if path.startswith("users/"):
                    username = path.removeprefix("users/")
                elif path.startswith("@"):
                    username = path.removeprefix("@")
                if username and "/" not in username:
                    return await member_actor(session, settings, username)
        return None
    if parsed.host != own.host.lower():
        return None
    if parsed.user == own.username:
        return own
    if app_name == "federation":
        return await member_actor(session, settings, parsed.user or "")
    return None


@bp.get("/.well-known/webfinger")
async def webfinger():
    try:
        actor = await find_webfinger_actor(get_session(), settings_of_app(), _app_name(), request.args.get("resource"))
    except ResourceError as error:
        return error_response(400, str(error))
    if actor is None:
        return error_response(404, f"no account here matches {request.args.get('resource')!r}")
    return jrd_response(webfinger_document(actor))


@bp.get("/.well-known/host-meta")
async def host_meta():
    xml = host_meta_xml(settings_of_app().app(_app_name()).public_url)
    return Response(xml, content_type="application/xrd+xml; charset=utf-8")


@bp.get("/actor")
async def actor():
    return await actor_response(await _own_actor())


@bp.post("/actor/inbox")
@csrf_exempt
async def actor_inbox():
    own = await _own_actor()
    return await handle_inbox_post(own.uri, own.id)


@bp.post("/inbox")
@csrf_exempt
async def shared_inbox():
    return await handle_inbox_post(f"{settings_of_app().app(_app_name()).public_url}/inbox", None)


async def outbox_response(actor: LocalActor) -> Response:
    outbox = await public_outbox(settings_of_app().activity_log_dir, actor.log_name)
    if request.args.get("page") or request.args.get("before"):
        before = request.args.get("before", type=int)
        return activity_response(outbox_page(actor, outbox, before))
    return activity_response(outbox_collection(actor, outbox.total))


async def follow_collection(actor: LocalActor, direction: str, collection_id: str) -> Response:
    """Return a followers or following collection with its count only, so the list itself stays private."""
    total = await get_session().scalar(
        select(func.count()).select_from(APFollow).where(
            APFollow.local_actor_id == actor.id, APFollow.direction == direction, APFollow.state == "accepted"
        )
    )
    return activity_response({"@context": AS_CONTEXT, "id": collection_id, "type": "OrderedCollection", "totalItems": total or 0})


async def activity_by_uri(uri: str) -> Response:
    row = await get_session().scalar(
        select(APActivity).where(APActivity.uri == uri, APActivity.direction == "outbound", APActivity.recipient_uri == "")
    )
    public = row is not None and any(a in PUBLIC_ALIASES for key in ("to", "cc") for a in as_list(row.payload.get(key)))
    if not public:
        abort(404)
    return activity_response(row.payload)


@bp.get("/actor/outbox")
async def actor_outbox():
    return await outbox_response(await _own_actor())


@bp.get("/actor/followers")
async def actor_followers():
    own = await _own_actor()
    return await follow_collection(own, "inbound", own.followers)


@bp.get("/actor/following")
async def actor_following():
    own = await _own_actor()
    return await follow_collection(own, "outbound", own.following)


@bp.get("/actor/activities/<activity_id>")
async def actor_activity(activity_id: str):
    own = await _own_actor()
    return await activity_by_uri(f"{own.uri}/activities/{activity_id}")


def install_activitypub(app: Quart, settings: Settings) -> None:
    """Register discovery, the app's actor and its inboxes on ``app``."""
    install_fetcher(app, settings)
    app.register_blueprint(bp)

    @app.before_request
    async def create_app_actors() -> None:
        # The app actors and their keypair are created once, committed on their
        # own, before an ActivityPub view's transaction could take the same lock.
        # Other views never wait for the key generation.
        if SIGNER_KEY not in app.extensions and request.blueprint in ACTIVITYPUB_BLUEPRINTS:
            await instance_signer(settings)

"""Local actors: their URIs, keys and ActivityPub documents.

Members are ``Person`` actors on the federation app at
``<federation public_url>/users/<username>``. Each of the six apps is a
``Service`` actor at ``<app public_url>/actor``, and all six present the same
public key: one RSA keypair, stored once per app actor in ``ap_keys``, so the
platform has one identity on the wire. Members get their own 2048-bit RSA
keypair the first time anything needs it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.infrastructure.config import APP_NAMES, Settings
from shared.models import APActor, APKey, Member

from .vocab import AS_CONTEXT, SECURITY_CONTEXT

RSA_KEY_BITS = 2048
# pg_advisory_xact_lock(class, object) keys: the class is "apky" read as a number;
# the object is the actor id, or 0 for the app actors' shared key.
KEY_LOCK_CLASS = 0x61706B79
APP_KEY_LOCK_OBJECT = 0
APP_ACTOR_TYPE = "Service"
APP_SUMMARIES = {
    "blog": "Posts and pages from the Rose Ash cooperative's blog.",
    "market": "Markets, producers and products of the Rose Ash cooperative.",
    "cart": "The Rose Ash cooperative's cart and checkout.",
    "events": "The Rose Ash cooperative's calendar of events.",
    "federation": "The Rose Ash cooperative's members and their fediverse presence.",
    "account": "Members' accounts at the Rose Ash cooperative.",
}


@dataclass(frozen=True)
class LocalActor:
    """A local actor as the wire sees it: every URI derived from the configured public URLs."""

    id: int
    username: str
    actor_type: str
    app_name: str | None
    member_id: int | None
    name: str
    summary: str
    uri: str
    profile_url: str
    shared_inbox: str
    icon_url: str
    manually_approves_followers: bool
    host: str

    @property
    def key_id(self) -> str:
        return f"{self.uri}#main-key"

    @property
    def inbox(self) -> str:
        return f"{self.uri}/inbox"

    @property
    def outbox(self) -> str:
        return f"{self.uri}/outbox"

    @property
    def followers(self) -> str:
        return f"{self.uri}/followers"

    @property
    def following(self) -> str:
        return f"{self.uri}/following"

    @property
    def handle(self) -> str:
        return f"{self.username}@{self.host}"

    @property
    def log_name(self) -> str:
        """The actor id of this actor's on-disk activity log."""
        return self.username


def app_actor_uri(settings: Settings, app_name: str) -> str:
    return f"{settings.app(app_name).public_url}/actor"


def member_actor_uri(settings: Settings, username: str) -> str:
    return f"{settings.app('federation').public_url}/users/{username}"


def _icon_url(settings: Settings, app_name: str) -> str:
    return f"{settings.app(app_name).public_url}/static/actor-icon.png"


def to_local_actor(settings: Settings, row: APActor) -> LocalActor:
    if row.app_name is not None:
        urls = settings.app(row.app_name)
        uri = app_actor_uri(settings, row.app_name)
        profile, shared_inbox, host, icon = urls.public_url + "/", urls.public_url + "/inbox", urls.host, row.app_name
    else:
        urls = settings.app("federation")
        uri = member_actor_uri(settings, row.preferred_username)
        profile, shared_inbox, host, icon = f"{urls.public_url}/@{row.preferred_username}", urls.public_url + "/inbox", urls.host, "federation"
    return LocalActor(
        id=row.id, username=row.preferred_username, actor_type=row.actor_type, app_name=row.app_name,
        member_id=row.member_id, name=row.display_name, summary=row.summary, uri=uri, profile_url=profile,
        shared_inbox=shared_inbox, icon_url=_icon_url(settings, icon),
        manually_approves_followers=row.manually_approves_followers, host=host,
    )


def generate_keypair() -> tuple[str, str]:
    """Return a new RSA keypair as (public SPKI PEM, private PKCS#8 PEM)."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
    return public_pem, private_pem


@functools.lru_cache(maxsize=256)
def parse_private_key(pem: str):
    return serialization.load_pem_private_key(pem.encode("ascii"), password=None)


async def ensure_app_actors(session: AsyncSession, settings: Settings) -> dict[str, APActor]:
    """Create the six app actors and their shared keypair if they are missing; return them by app name."""
    rows = {row.app_name: row for row in await session.scalars(select(APActor).where(APActor.app_name.is_not(None)))}
    have_keys = set(
        await session.scalars(select(APKey.actor_id).where(APKey.actor_id.in_([row.id for row in rows.values()])))
    )
    if len(rows) == len(APP_NAMES) and have_keys == {row.id for row in rows.values()}:
        return rows

    await session.execute(
        text("SELECT pg_advisory_xact_lock(:class, :object)"), {"class": KEY_LOCK_CLASS, "object": APP_KEY_LOCK_OBJECT}
    )
    for app_name in APP_NAMES:
        await session.execute(
            insert(APActor)
            .values(
                preferred_username=app_name, actor_type=APP_ACTOR_TYPE, app_name=app_name,
                display_name=f"Rose Ash {settings.app(app_name).title}", summary=APP_SUMMARIES[app_name],
            )
            .on_conflict_do_nothing()
        )
    rows = {row.app_name: row for row in await session.scalars(select(APActor).where(APActor.app_name.is_not(None)))}
    existing = await session.scalar(
        select(APKey).where(APKey.actor_id.in_([row.id for row in rows.values()]), APKey.revoked_at.is_(None)).limit(1)
    )
    public_pem, private_pem = (existing.public_key_pem, existing.private_key_pem) if existing else generate_keypair()
    for app_name, row in rows.items():
        if await session.scalar(select(APKey.id).where(APKey.actor_id == row.id).limit(1)) is None:
            session.add(APKey(
                actor_id=row.id, key_id=app_actor_uri(settings, app_name) + "#main-key",
                public_key_pem=public_pem, private_key_pem=private_pem,
            ))
    await session.flush()
    return rows


async def ensure_member_key(session: AsyncSession, settings: Settings, actor: APActor) -> APKey:
    key = await _current_key(session, actor.id)
    if key is not None:
        return key
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:class, :object)"), {"class": KEY_LOCK_CLASS, "object": actor.id}
    )
    key = await _current_key(session, actor.id)
    if key is None:
        public_pem, private_pem = generate_keypair()
        key = APKey(
            actor_id=actor.id, key_id=member_actor_uri(settings, actor.preferred_username) + "#main-key",
            public_key_pem=public_pem, private_key_pem=private_pem,
        )
        session.add(key)
        await session.flush()
    return key


async def _current_key(session: AsyncSession, actor_id: int) -> APKey | None:
    return await session.scalar(
        select(APKey).where(APKey.actor_id == actor_id, APKey.revoked_at.is_(None)).order_by(APKey.id.desc()).limit(1)
    )


async def app_actor(session: AsyncSession, settings: Settings, app_name: str) -> LocalActor:
    rows = await ensure_app_actors(session, settings)
    return to_local_actor(settings, rows[app_name])


async def member_actor(session: AsyncSession, settings: Settings, username: str) -> LocalActor | None:
    """Return a member's actor, creating its row and keypair the first time; None for an unknown member."""
    member = await session.scalar(select(Member).where(Member.username == username.lower()))
    if member is None:
        return None
    row = await session.scalar(select(APActor).where(APActor.member_id == member.id))
    if row is None:
        await session.execute(
            insert(APActor)
            .values(preferred_username=member.username, actor_type="Person", member_id=member.id,
                    display_name=member.display_name, summary=member.bio)
            .on_conflict_do_nothing()
        )
        row = await session.scalar(select(APActor).where(APActor.member_id == member.id))
        if row is None:
            return None
    await ensure_member_key(session, settings, row)
    return to_local_actor(settings, row)


async def local_actor_by_id(session: AsyncSession, settings: Settings, actor_id: int) -> LocalActor | None:
    row = await session.get(APActor, actor_id)
    return to_local_actor(settings, row) if row is not None else None


async def local_actor_by_uri(session: AsyncSession, settings: Settings, uri: str) -> LocalActor | None:
    """Find the local actor whose URI is ``uri`` (or a sub-path of it such as its inbox)."""
    for app_name in APP_NAMES:
        base = app_actor_uri(settings, app_name)
        if uri == base or uri.startswith(base + "/") or uri.startswith(base + "#"):
            return await app_actor(session, settings, app_name)
    prefix = f"{settings.app('federation').public_url}/users/"
    if uri.startswith(prefix):
        username = uri[len(prefix):].split("/", 1)[0].split("#", 1)[0]
        return await member_actor(session, settings, username)
    return None


async def signing_key(session: AsyncSession, settings: Settings, actor: LocalActor) -> tuple[str, Any]:
    """Return (keyId, private key) to sign as ``actor``."""
    if actor.app_name is not None:
        await ensure_app_actors(session, settings)
        key = await _current_key(session, actor.id)
    else:
        row = await session.get(APActor, actor.id)
        key = await ensure_member_key(session, settings, row)
    assert key is not None and key.private_key_pem is not None, f"actor {actor.uri} has no private key"
    return actor.key_id, parse_private_key(key.private_key_pem)


async def public_key_pem(session: AsyncSession, actor: LocalActor) -> str:
    key = await _current_key(session, actor.id)
    assert key is not None, f"actor {actor.uri} has no key"
    return key.public_key_pem


def actor_document(actor: LocalActor, public_pem: str) -> dict[str, Any]:
    return {
        "@context": [AS_CONTEXT, SECURITY_CONTEXT, {"manuallyApprovesFollowers": "as:manuallyApprovesFollowers"}],
        "id": actor.uri,
        "type": actor.actor_type,
        "preferredUsername": actor.username,
        "name": actor.name,
        "summary": actor.summary,
        "url": actor.profile_url,
        "icon": {"type": "Image", "mediaType": "image/png", "url": actor.icon_url},
        "inbox": actor.inbox,
        "outbox": actor.outbox,
        "followers": actor.followers,
        "following": actor.following,
        "endpoints": {"sharedInbox": actor.shared_inbox},
        "manuallyApprovesFollowers": actor.manually_approves_followers,
        "publicKey": {"id": actor.key_id, "owner": actor.uri, "publicKeyPem": public_pem},
    }

"""Remote actors and keys: fetched over signed GETs, cached in the database.

A keyId names either a key inside an actor document (``…#main-key``) or a
key object with an ``owner``; either way the key is trusted only when the
owner's actor document lists it. An actor may list several keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urldefrag, urlsplit

import httpx
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import APRemoteActor, APRemoteKey

from .fetch import FetchError, RemoteFetcher
from .vocab import ACTIVITY_JSON, ACTOR_TYPES, JRD_JSON, as_list, id_of, is_activity_content_type, types_of

ACCEPT_ACTIVITY = f'{ACTIVITY_JSON}, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


class RemoteObjectError(Exception):
    """A remote document could not be fetched or is not what was expected.

    ``status`` is the HTTP status of the server's response when it returned
    one that is not 200, and None otherwise.
    """

    def __init__(self, uri: str, reason: str, status: int | None = None) -> None:
        self.uri = uri
        self.reason = reason
        self.status = status
        super().__init__(f"could not use {uri}: {reason}")


@dataclass(frozen=True)
class RemoteKey:
    key_id: str
    actor_uri: str
    public_key_pem: str


async def fetch_object(fetcher: RemoteFetcher, uri: str, auth: httpx.Auth | None) -> dict[str, Any]:
    """GET an ActivityStreams document; its ``id`` must be on the host it was fetched from."""
    try:
        response = await fetcher.request("GET", uri, headers={"Accept": ACCEPT_ACTIVITY}, auth=auth)
    except FetchError as error:
        raise RemoteObjectError(uri, error.reason) from error
    if response.status_code != 200:
        raise RemoteObjectError(uri, f"the server returned status {response.status_code}", response.status_code)
    if not is_activity_content_type(response.headers.get("content-type")):
        raise RemoteObjectError(uri, f"the content type {response.headers.get('content-type')!r} is not ActivityStreams")
    try:
        document = json.loads(response.content)
    except ValueError as error:
        raise RemoteObjectError(uri, f"the body is not JSON ({error})") from None
    if not isinstance(document, dict) or not isinstance(document.get("id"), str):
        raise RemoteObjectError(uri, "the document has no id")
    if urlsplit(document["id"]).netloc.lower() != urlsplit(uri).netloc.lower():
        raise RemoteObjectError(uri, f"the document's id {document['id']} is on another host")
    return document


def keys_in(actor: dict[str, Any]) -> list[RemoteKey]:
    """Return the public keys an actor document lists as its own."""
    found = []
    for entry in as_list(actor.get("publicKey")):
        if not isinstance(entry, dict):
            continue
        key_id, pem = entry.get("id"), entry.get("publicKeyPem")
        owner = id_of(entry.get("owner")) or actor["id"]
        if isinstance(key_id, str) and isinstance(pem, str) and owner == actor["id"]:
            found.append(RemoteKey(key_id, actor["id"], pem))
    return found


async def store_actor(session: AsyncSession, actor: dict[str, Any]) -> APRemoteActor:
    """Insert or refresh a remote actor and replace its keys."""
    endpoints = actor.get("endpoints") if isinstance(actor.get("endpoints"), dict) else {}
    values = {
        "uri": actor["id"],
        "actor_type": next(iter(sorted(types_of(actor) & ACTOR_TYPES)), "Person"),
        "preferred_username": actor.get("preferredUsername") if isinstance(actor.get("preferredUsername"), str) else None,
        "inbox": id_of(actor.get("inbox")),
        "shared_inbox": id_of(endpoints.get("sharedInbox")),
        "payload": actor,
        "fetched_at": datetime.now(timezone.utc),
    }
    await session.execute(
        insert(APRemoteActor).values(**values).on_conflict_do_update(index_elements=["uri"], set_=values)
    )
    await session.execute(delete(APRemoteKey).where(APRemoteKey.actor_uri == actor["id"]))
    for key in keys_in(actor):
        await session.execute(
            insert(APRemoteKey)
            .values(key_id=key.key_id, actor_uri=key.actor_uri, public_key_pem=key.public_key_pem)
            .on_conflict_do_update(
                index_elements=["key_id"],
                set_={"actor_uri": key.actor_uri, "public_key_pem": key.public_key_pem, "fetched_at": datetime.now(timezone.utc)},
            )
        )
    return await session.scalar(select(APRemoteActor).where(APRemoteActor.uri == actor["id"]))


async def fetch_actor(
    session: AsyncSession, fetcher: RemoteFetcher, uri: str, auth: httpx.Auth | None
) -> APRemoteActor:
    document = await fetch_object(fetcher, uri, auth)
    if not types_of(document) & ACTOR_TYPES:
        raise RemoteObjectError(uri, f"the document is a {sorted(types_of(document))}, not an actor")
    if document["id"] != urldefrag(uri)[0]:
        raise RemoteObjectError(uri, f"the actor's id is {document['id']}")
    return await store_actor(session, document)


async def remote_actor(
    session: AsyncSession, fetcher: RemoteFetcher, uri: str, auth: httpx.Auth | None, refresh: bool = False
) -> APRemoteActor:
    """Return a remote actor from the cache, fetching it when unknown or when ``refresh`` is set."""
    if not refresh:
        cached = await session.scalar(select(APRemoteActor).where(APRemoteActor.uri == uri))
        if cached is not None:
            return cached
    return await fetch_actor(session, fetcher, uri, auth)


async def cached_key(session: AsyncSession, key_id: str) -> RemoteKey | None:
    row = await session.scalar(select(APRemoteKey).where(APRemoteKey.key_id == key_id))
    return RemoteKey(row.key_id, row.actor_uri, row.public_key_pem) if row else None


async def fetch_key(
    session: AsyncSession, fetcher: RemoteFetcher, key_id: str, auth: httpx.Auth | None
) -> RemoteKey | None:
    """Fetch the document a keyId names, then its owner, and return the key if the owner lists it."""
    document = await fetch_object(fetcher, key_id, auth)
    if types_of(document) & ACTOR_TYPES:
        actor_uri = document["id"]
        if urldefrag(key_id)[0] != actor_uri:
            raise RemoteObjectError(key_id, f"the key's document is the actor {actor_uri}")
        await store_actor(session, document)
    else:
        owner = id_of(document.get("owner"))
        if owner is None:
            raise RemoteObjectError(key_id, "the key has no owner")
        await fetch_actor(session, fetcher, owner, auth)
    return await cached_key(session, key_id)


async def webfinger_actor_uri(fetcher: RemoteFetcher, handle: str) -> str:
    """Resolve ``user@host`` (with or without ``acct:`` or a leading ``@``) to an actor URI by WebFinger."""
    account = handle.strip().removeprefix("acct:").lstrip("@")
    user, _, host = account.rpartition("@")
    if not user or not host:
        raise RemoteObjectError(handle, "a handle looks like user@host")
    scheme = "http" if fetcher.allow_private and _is_local_host(host) else "https"
    url = f"{scheme}://{host}/.well-known/webfinger?resource={quote('acct:' + account, safe='@:')}"
    try:
        response = await fetcher.request("GET", url, headers={"Accept": f"{JRD_JSON}, application/json"})
    except FetchError as error:
        raise RemoteObjectError(handle, error.reason) from error
    if response.status_code != 200:
        raise RemoteObjectError(handle, f"WebFinger returned status {response.status_code}", response.status_code)
    try:
        links = json.loads(response.content).get("links", [])
    except (ValueError, AttributeError):
        raise RemoteObjectError(handle, "the WebFinger response is not a JSON object") from None
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("rel") == "self" and is_activity_content_type(link.get("type")):
            if isinstance(link.get("href"), str):
                return link["href"]
    raise RemoteObjectError(handle, "the WebFinger response has no self link of type application/activity+json")


def _is_local_host(host: str) -> bool:
    name = host.rsplit(":", 1)[0].strip("[]").lower()
    return name in ("localhost", "127.0.0.1", "::1")

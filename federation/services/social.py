"""Members on the fediverse: following remote accounts and publishing notes."""

from __future__ import annotations

import html
import uuid
from datetime import datetime, timezone

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.infrastructure.activitypub.actors import LocalActor, app_actor, member_actor, signing_key
from shared.infrastructure.activitypub.emit import emit_activity, new_activity_uri
from shared.infrastructure.activitypub.fetch import RemoteFetcher
from shared.infrastructure.activitypub.remote import remote_actor, webfinger_actor_uri
from shared.infrastructure.activitypub.signatures import HTTPSignatureAuth
from shared.infrastructure.activitypub.vocab import PUBLIC
from shared.infrastructure.config import Settings
from shared.models import APFollow, APObject


class UnknownMember(LookupError):
    def __init__(self, username: str) -> None:
        super().__init__(f"no member is called {username!r}")


async def _member(session: AsyncSession, settings: Settings, username: str) -> LocalActor:
    actor = await member_actor(session, settings, username)
    if actor is None:
        raise UnknownMember(username)
    return actor


async def follow_remote(
    session: AsyncSession, settings: Settings, fetcher: RemoteFetcher, username: str, account: str
) -> str:
    """Record that a member follows a remote account and emit the Follow; returns the remote actor's URI.

    ``account`` is ``user@host`` (WebFinger) or an actor URL. Raises
    RemoteObjectError when the account cannot be found.
    """
    follower = await _member(session, settings, username)
    instance = await app_actor(session, settings, "federation")
    auth = HTTPSignatureAuth(*await signing_key(session, settings, instance))
    uri = account if account.startswith(("http://", "https://")) else await webfinger_actor_uri(fetcher, account)
    followed = await remote_actor(session, fetcher, uri, auth, refresh=True)
    follow_uri = new_activity_uri(follower)
    values = {
        "local_actor_id": follower.id, "remote_actor_uri": followed.uri, "remote_inbox": followed.inbox,
        "remote_shared_inbox": followed.shared_inbox, "direction": "outbound", "state": "pending",
        "follow_activity_uri": follow_uri,
    }
    await session.execute(
        insert(APFollow).values(**values).on_conflict_do_update(
            index_elements=["local_actor_id", "remote_actor_uri", "direction"],
            set_={key: values[key] for key in ("remote_inbox", "remote_shared_inbox", "state", "follow_activity_uri")},
        )
    )
    await emit_activity(session, follower, "Follow", followed.uri, to=[followed.uri], uri=follow_uri)
    return followed.uri


async def publish_note(session: AsyncSession, settings: Settings, username: str, text: str) -> str:
    """Publish a public note by a member to their followers; returns the note's URI."""
    author = await _member(session, settings, username)
    note_uri = f"{author.uri}/notes/{uuid.uuid4()}"
    published = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    note = {
        "id": note_uri, "type": "Note", "attributedTo": author.uri, "content": f"<p>{html.escape(text)}</p>",
        "published": published, "to": [PUBLIC], "cc": [author.followers], "url": note_uri,
    }
    session.add(APObject(
        uri=note_uri, object_type="Note", actor_id=author.id, attributed_to=author.uri, payload=note, is_local=True,
    ))
    await emit_activity(session, author, "Create", note, to=[PUBLIC], cc=[author.followers])
    return note_uri

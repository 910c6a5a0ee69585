"""Members on the fediverse: following remote accounts, approving or rejecting follow requests, publishing notes.

Every function here works in the caller's transaction and emits its
activities with ``emit_activity``, so an activity goes out only when the
change it announces is committed.
"""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.infrastructure.activitypub.actors import (
    LocalActor, actor_document, app_actor, member_actor, public_key_pem, signing_key, to_local_actor,
)
from shared.infrastructure.activitypub.discovery import ResourceError
from shared.infrastructure.activitypub.emit import emit_activity, new_activity_uri
from shared.infrastructure.activitypub.fetch import FetchError, FetchRefused, RemoteFetcher
from shared.infrastructure.activitypub.remote import RemoteObjectError, remote_actor, webfinger_actor_uri
from shared.infrastructure.activitypub.routes import find_webfinger_actor
from shared.infrastructure.activitypub.signatures import HTTPSignatureAuth
from shared.infrastructure.activitypub.vocab import PUBLIC
from shared.infrastructure.config import APP_NAMES, Settings
from shared.models import APActivity, APActor, APFollow, APObject

# Mastodon's default limit for a post, so a note from here fits on the servers most followers use.
NOTE_MAX_LENGTH = 500
VISIBILITIES = ("public", "followers")
MAX_ACCOUNT_LENGTH = 2048
# user@host, with an optional leading "@" or "acct:". The host may include a port.
HANDLE_PATTERN = re.compile(r"^(?:acct:)?@?(?P<user>[A-Za-z0-9_.~+-]+)@(?P<host>[A-Za-z0-9.-]+(?::[0-9]{1,5})?)$")


class UnknownMember(LookupError):
    def __init__(self, username: str) -> None:
        super().__init__(f"no member is called {username!r}")


class InvalidAccount(RemoteObjectError):
    """The text given as an account is not a handle or actor URL that can be followed."""


class InvalidNote(ValueError):
    """A note's text or visibility is invalid; the message explains why, in words for the member."""


class NoSuchFollow(LookupError):
    """The follow, or follow request, that an action names does not exist."""


@dataclass(frozen=True)
class AccountAddress:
    """An account as a member typed it: a WebFinger handle or an actor URL.

    ``local_app`` names the app of this instance whose host the address is
    on, and is None for an account on another server.
    """

    text: str
    host: str
    is_url: bool
    local_app: str | None = None


@dataclass(frozen=True)
class FollowResult:
    actor_uri: str
    # "pending" until the remote server accepts, or "accepted" when the member already followed the account.
    state: str
    already_following: bool


async def _member(session: AsyncSession, settings: Settings, username: str) -> LocalActor:
    actor = await member_actor(session, settings, username)
    if actor is None:
        raise UnknownMember(username)
    return actor


def parse_account(settings: Settings, text: str) -> AccountAddress:
    """Check a handle (``user@host``, ``@user@host``) or an actor URL; raises InvalidAccount.

    An actor URL must start with https://, or also with http:// when the
    configuration sets ``allow_private_fetch`` (dev and test), the same
    schemes that RemoteFetcher accepts.
    """
    account = text.strip()
    if not account:
        raise InvalidAccount(text, "Enter the account to follow, such as user@example.social.")
    if len(account) > MAX_ACCOUNT_LENGTH or any(character.isspace() for character in account):
        raise InvalidAccount(text, _invalid_account_message(settings, account))
    if account.lower().startswith("http://") and not settings.allow_private_fetch:
        raise InvalidAccount(text, "Rose Ash contacts other servers only over https. Enter the address starting with https://.")
    if account.lower().startswith(_url_prefixes(settings)):
        parts = urlsplit(account)
        try:
            parts.port
        except ValueError:
            raise InvalidAccount(text, _invalid_account_message(settings, account)) from None
        if not parts.hostname or parts.username or parts.password:
            raise InvalidAccount(text, _invalid_account_message(settings, account))
        address = AccountAddress(account, parts.netloc.lower(), is_url=True)
    else:
        match = HANDLE_PATTERN.match(account)
        if match is None:
            raise InvalidAccount(text, _invalid_account_message(settings, account))
        address = AccountAddress(f"{match['user']}@{match['host']}", match["host"].lower(), is_url=False)
    local_hosts = {settings.app(name).host.lower(): name for name in APP_NAMES}
    if address.host in local_hosts:
        return AccountAddress(address.text, address.host, address.is_url, local_app=local_hosts[address.host])
    return address


def _url_prefixes(settings: Settings) -> tuple[str, ...]:
    return ("https://", "http://") if settings.allow_private_fetch else ("https://",)


def _invalid_account_message(settings: Settings, account: str) -> str:
    schemes = " or ".join(_url_prefixes(settings))
    return (
        f"'{account[:100]}' is not a fediverse account. Enter a handle such as user@example.social "
        f"or @user@example.social, or the address of their profile, starting with {schemes}."
    )


async def _reject_local_account(session: AsyncSession, settings: Settings, address: AccountAddress) -> None:
    """Raise InvalidAccount for an address on this instance, saying whether such an account exists here."""
    resource = address.text if address.is_url else f"acct:{address.text}"
    try:
        actor = await find_webfinger_actor(session, settings, address.local_app, resource)
    except ResourceError:
        actor = None
    # NOTE: following members and apps of this instance needs local delivery, which the EventProcessor does not do.
    not_supported = "Following accounts on this server is not supported yet; only accounts on other servers can be followed."
    if actor is None:
        raise InvalidAccount(address.text, f"There is no account {address.text} on this server. {not_supported}")
    raise InvalidAccount(address.text, f"{actor.handle} is an account on this server. {not_supported}")


def follow_error_message(account: str, error: Exception) -> str:
    """Return a sentence for the member that explains why following ``account`` failed and what to do next."""
    if isinstance(error, InvalidAccount):
        return error.reason
    cause = error.__cause__ if isinstance(error, RemoteObjectError) else error
    host = urlsplit(account).netloc if "://" in account else account.rpartition("@")[2]
    if isinstance(cause, FetchRefused):
        return f"Rose Ash does not contact {host}: {cause.reason}."
    if isinstance(cause, FetchError):
        return _unreachable_message(host, cause)
    if isinstance(error, RemoteObjectError) and error.status in (404, 410):
        return f"No account {account} was found on {host}. Check the spelling and try again."
    if isinstance(error, RemoteObjectError) and error.status is not None and error.status >= 500:
        return f"{host} failed to answer (status {error.status}). Try again later."
    if isinstance(error, RemoteObjectError):
        return f"Could not follow {account}: {error.reason}."
    return f"Could not follow {account}: {error}."


def _unreachable_message(host: str, error: FetchError) -> str:
    """Explain a failed request to ``host`` in words for the member, with what to check.

    The message is chosen by the error's cause, because ``error.reason`` is
    written for the operators' logs.
    """
    cause = error.__cause__
    if isinstance(cause, OSError):
        return f"Could not find a server called {host}. Check the spelling of the server name."
    # RemoteFetcher raises its total timeout's FetchError while handling the TimeoutError, without a cause.
    if isinstance(cause, httpx.TimeoutException) or isinstance(error.__context__, TimeoutError):
        return f"The server {host} did not answer in time. Try again later."
    if isinstance(cause, httpx.ConnectError):
        return (
            f"Could not reach the server {host}: it did not accept the connection. "
            "Check the server name and port, or try again later in case the server is down."
        )
    if isinstance(cause, httpx.HTTPError):
        return f"The connection to the server {host} failed before it answered. Try again later."
    return f"The server {host} could not be used: {error.reason}. Try again later."


async def follow_account(
    session: AsyncSession,
    settings: Settings,
    fetcher: RemoteFetcher,
    username: str,
    account: str,
    *,
    fetch_auth: httpx.Auth | None = None,
) -> FollowResult:
    """Record that a member follows a remote account and emit the Follow.

    ``account`` is ``user@host`` (looked up by WebFinger) or an actor URL.
    An account the member already follows with an accepted follow is left
    as it is, and nothing is sent. Raises InvalidAccount for text that is
    not an account, and RemoteObjectError when the account cannot be found
    or fetched. ``fetch_auth`` signs the fetches; by default they are signed
    as the federation app's actor. An account on this instance raises
    InvalidAccount before any request is made.
    """
    address = parse_account(settings, account)
    if address.local_app is not None:
        await _reject_local_account(session, settings, address)
    follower = await _member(session, settings, username)
    if fetch_auth is None:
        instance = await app_actor(session, settings, "federation")
        fetch_auth = HTTPSignatureAuth(*await signing_key(session, settings, instance))
    uri = address.text if address.is_url else await webfinger_actor_uri(fetcher, address.text)
    followed = await remote_actor(session, fetcher, uri, fetch_auth, refresh=True)

    existing = await session.scalar(select(APFollow).where(
        APFollow.local_actor_id == follower.id, APFollow.remote_actor_uri == followed.uri, APFollow.direction == "outbound",
    ))
    if existing is not None and existing.state == "accepted":
        return FollowResult(followed.uri, "accepted", already_following=True)

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
    return FollowResult(followed.uri, "pending", already_following=False)


async def follow_remote(
    session: AsyncSession, settings: Settings, fetcher: RemoteFetcher, username: str, account: str
) -> str:
    """Follow a remote account as ``follow_account`` does; returns the remote actor's URI."""
    return (await follow_account(session, settings, fetcher, username, account)).actor_uri


async def unfollow_remote(session: AsyncSession, settings: Settings, username: str, followed_uri: str) -> None:
    """Stop following a remote account (or withdraw the request): emit Undo(Follow) and remove the follow.

    Raises NoSuchFollow when the member does not follow ``followed_uri``.
    """
    follower = await _member(session, settings, username)
    follow = await session.scalar(select(APFollow).where(
        APFollow.local_actor_id == follower.id, APFollow.remote_actor_uri == followed_uri, APFollow.direction == "outbound",
    ))
    if follow is None:
        raise NoSuchFollow(f"{username} does not follow {followed_uri}")
    if follow.state != "rejected":
        # The Follow is embedded whole, because servers such as Mastodon match the follow to undo by its actor and object.
        undone = {"id": follow.follow_activity_uri or new_activity_uri(follower), "type": "Follow",
                  "actor": follower.uri, "object": followed_uri}
        await emit_activity(session, follower, "Undo", undone, to=[followed_uri])
    await session.delete(follow)
    await session.flush()


async def _follow_request(session: AsyncSession, actor: LocalActor, follower_uri: str) -> APFollow:
    follow = await session.scalar(select(APFollow).where(
        APFollow.local_actor_id == actor.id, APFollow.remote_actor_uri == follower_uri, APFollow.direction == "inbound",
        APFollow.state == "pending",
    ))
    if follow is None:
        raise NoSuchFollow(f"{follower_uri} has no pending follow request for {actor.username}")
    return follow


async def _received_follow(session: AsyncSession, actor: LocalActor, follow: APFollow) -> dict[str, Any]:
    """Return the Follow activity as the follower sent it, to quote in the Accept or Reject."""
    if follow.follow_activity_uri:
        received = await session.scalar(
            select(APActivity).where(APActivity.uri == follow.follow_activity_uri, APActivity.direction == "inbound").limit(1)
        )
        if received is not None:
            return {key: value for key, value in received.payload.items() if key != "@context"}
    return {"id": follow.follow_activity_uri, "type": "Follow", "actor": follow.remote_actor_uri, "object": actor.uri}


async def _accept(session: AsyncSession, actor: LocalActor, follow: APFollow) -> None:
    follow.state = "accepted"
    await emit_activity(session, actor, "Accept", await _received_follow(session, actor, follow), to=[follow.remote_actor_uri])


async def approve_follow_request(session: AsyncSession, settings: Settings, username: str, follower_uri: str) -> None:
    """Accept a pending follow request and emit the Accept; raises NoSuchFollow when there is none."""
    actor = await _member(session, settings, username)
    await _accept(session, actor, await _follow_request(session, actor, follower_uri))
    await session.flush()


async def reject_follow_request(session: AsyncSession, settings: Settings, username: str, follower_uri: str) -> None:
    """Refuse a pending follow request: emit the Reject and remove the request; raises NoSuchFollow when there is none."""
    actor = await _member(session, settings, username)
    follow = await _follow_request(session, actor, follower_uri)
    await emit_activity(session, actor, "Reject", await _received_follow(session, actor, follow), to=[follower_uri])
    await session.delete(follow)
    await session.flush()


async def set_manual_approval(session: AsyncSession, settings: Settings, username: str, enabled: bool) -> int:
    """Turn "approve followers manually" on or off; returns how many pending requests were accepted.

    Turning it off accepts every pending request, because an actor that
    approves followers automatically would have accepted them. A change
    emits Update(Person), so remote servers show the new setting.
    """
    actor = await _member(session, settings, username)
    row = await session.get(APActor, actor.id)
    if row.manually_approves_followers == enabled:
        return 0
    row.manually_approves_followers = enabled
    await session.flush()
    updated = to_local_actor(settings, row)
    accepted = 0
    if not enabled:
        pending = await session.scalars(select(APFollow).where(
            APFollow.local_actor_id == actor.id, APFollow.direction == "inbound", APFollow.state == "pending",
        ))
        for follow in list(pending):
            await _accept(session, updated, follow)
            accepted += 1
    document = {key: value for key, value in actor_document(updated, await public_key_pem(session, updated)).items()
                if key != "@context"}
    await emit_activity(session, updated, "Update", document, to=[PUBLIC], cc=[updated.followers])
    return accepted


def check_note(text: str, visibility: str) -> str:
    """Return the note's text with line endings normalised; raises InvalidNote for empty or too long text."""
    if visibility not in VISIBILITIES:
        raise InvalidNote(f"Choose who can see the note: {' or '.join(VISIBILITIES)} (got '{visibility[:20]}').")
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not normalised:
        raise InvalidNote("Write something before publishing: the note is empty.")
    if len(normalised) > NOTE_MAX_LENGTH:
        raise InvalidNote(
            f"The note is {len(normalised)} characters long; the maximum is {NOTE_MAX_LENGTH}. Shorten it and try again."
        )
    return normalised


def note_html(text: str) -> str:
    """Render plain text as HTML: a paragraph per blank-line-separated block, <br> for single line breaks."""
    blocks = [block.strip("\n") for block in re.split(r"\n\s*\n", text) if block.strip()]
    return "".join("<p>" + "<br>".join(html.escape(line) for line in block.split("\n")) + "</p>" for block in blocks)


async def publish_note(
    session: AsyncSession, settings: Settings, username: str, text: str, visibility: str = "public"
) -> str:
    """Publish a note by a member and emit Create(Note); returns the note's URI.

    A ``public`` note is addressed to everyone, with the member's followers
    in cc. A ``followers`` note is addressed to the followers collection
    only. Raises InvalidNote for an empty or too long text.
    """
    text = check_note(text, visibility)
    author = await _member(session, settings, username)
    note_uri = f"{author.uri}/notes/{uuid.uuid4()}"
    published = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    if visibility == "public":
        to, cc = [PUBLIC], [author.followers]
    else:
        to, cc = [author.followers], []
    note = {
        "id": note_uri, "type": "Note", "attributedTo": author.uri, "content": note_html(text),
        "source": {"content": text, "mediaType": "text/plain"},
        "published": published, "to": to, "cc": cc, "url": note_uri,
    }
    session.add(APObject(
        uri=note_uri, object_type="Note", actor_id=author.id, attributed_to=author.uri, payload=note, is_local=True,
    ))
    await emit_activity(session, author, "Create", note, to=to, cc=cc)
    return note_uri

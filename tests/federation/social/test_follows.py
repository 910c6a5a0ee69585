"""Following remote accounts from the web pages, and approving or rejecting follow requests."""

from __future__ import annotations

import dataclasses
import json
import re
import socket

import pytest

from federation.services import social
from shared.infrastructure.activitypub.fetch import FetchError
from shared.infrastructure.activitypub.remote import RemoteObjectError
from shared.infrastructure.activitypub.web import FETCHER_KEY
from shared.infrastructure.activitypub.signatures import inspect_request, load_public_key, verify_with_key
from shared.infrastructure.devstack import free_port
from tests.federation.activitypub.conftest import post_signed
from tests.federation.social.conftest import submit
from tests.helpers import text_of

FEDERATION = "http://federation.test"
ALICE = f"{FEDERATION}/users/alice"


async def signed_by_alice(client, received) -> bool:
    """Check a delivery's signature with the key alice's actor document publishes."""
    alice = json.loads(await (await client.get("/users/alice", headers={"Accept": "application/activity+json"})).get_data())
    result = inspect_request("POST", received.path, received.headers["host"], received.headers, received.body)
    assert result.ok, result.detail
    assert result.key_id == alice["publicKey"]["id"]
    return verify_with_key(result.parsed, load_public_key(alice["publicKey"]["publicKeyPem"]))


async def outbound_follows(database):
    return await database("SELECT remote_actor_uri, state FROM ap_follows WHERE direction = 'outbound'")


async def follow_through_form(client, account: str):
    return await submit(client, "/social/following", "/social/follow", account=account)


@pytest.mark.parametrize("path", ["/social/", "/social/following", "/social/followers", "/social/notifications"])
async def test_pages_send_visitors_to_sign_in(app_client, path):
    client = await app_client("federation")
    response = await client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=" + path.replace("/", "%2F")


async def test_signed_out_post_changes_nothing(app_client, remote, database):
    client = await app_client("federation")
    response = await submit(client, "/login", "/social/follow", account=f"{remote.username}@{remote.host}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert await outbound_follows(database) == []
    assert remote.fetched == []


async def test_profile_links_own_fediverse_pages(member_client):
    client = await member_client("alice")
    assert 'href="/social/"' in await text_of(await client.get("/@alice"))
    assert 'href="/social/"' not in await text_of(await client.get("/@bob"))


@pytest.mark.parametrize("written", ["{user}@{host}", "@{user}@{host}", "{actor}"])
async def test_follow_form_delivers_signed_follow(member_client, remote, processor, database, written):
    client = await member_client("alice")
    account = written.format(user=remote.username, host=remote.host, actor=remote.actor_uri)

    response = await follow_through_form(client, account)
    assert response.status_code == 302
    assert response.headers["Location"] == "/social/following"
    page = await text_of(await client.get("/social/following"))
    assert "You asked to follow" in page
    assert f"@{remote.username}@{remote.host}" in page
    assert "waiting for their server to accept" in page
    assert [tuple(row) for row in await outbound_follows(database)] == [(remote.actor_uri, "pending")]

    assert remote.accepted("Follow") == []
    await processor.run_once()
    follows = remote.accepted("Follow")
    assert len(follows) == 1
    assert follows[0].activity["actor"] == ALICE
    assert follows[0].activity["object"] == remote.actor_uri
    assert await signed_by_alice(client, follows[0])


async def test_accepted_follow_shows_as_following(member_client, remote, processor, database):
    client = await member_client("alice")
    await follow_through_form(client, remote.actor_uri)
    await processor.run_once()
    follow = remote.accepted("Follow")[0].activity

    response = await post_signed(client, remote, FEDERATION, "/users/alice/inbox", remote.activity("Accept", follow))
    assert response.status_code == 202
    await processor.run_once()

    assert [tuple(row) for row in await outbound_follows(database)] == [(remote.actor_uri, "accepted")]
    page = await text_of(await client.get("/social/following"))
    assert "You follow 1 account" in page
    assert "waiting for their server" not in page
    again = await follow_through_form(client, remote.actor_uri)
    assert again.status_code == 302
    assert "You already follow" in await text_of(await client.get("/social/following"))
    await processor.run_once()
    assert len(remote.accepted("Follow")) == 1


def _closed_port_account() -> str:
    return f"nobody@127.0.0.1:{free_port()}"


@pytest.mark.parametrize(
    ("account", "message"),
    [
        ("", "Enter the account to follow"),
        ("not a handle", "is not a fediverse account"),
        ("remote@", "is not a fediverse account"),
        ("ftp://example.social/users/x", "is not a fediverse account"),
        ("{missing}", "No account nobody@"),
        ("{closed}", "Could not reach the server 127.0.0.1:"),
    ],
)
async def test_follow_error_changes_nothing(member_client, remote, processor, database, account, message):
    account = account.format(missing=f"nobody@{remote.host}", closed=_closed_port_account())
    client = await member_client("alice")

    response = await follow_through_form(client, account)
    page = await text_of(response)
    assert response.status_code == 400
    assert message in page
    assert 'class="form-errors"' in page
    assert f'value="{account}"' in page
    assert await outbound_follows(database) == []
    assert await database("SELECT id FROM ap_activities WHERE direction = 'outbound' AND activity_type = 'Follow'") == []
    await processor.run_once()
    assert remote.accepted() == []


@pytest.mark.parametrize(
    ("account", "message"),
    [
        ("bob@federation.test", "bob@federation.test is an account on this server."),
        ("@blog@blog.test", "blog@blog.test is an account on this server."),
        ("http://federation.test/users/bob", "bob@federation.test is an account on this server."),
        ("nobody@federation.test", "There is no account nobody@federation.test on this server."),
        ("nobody@blog.test", "There is no account nobody@blog.test on this server."),
        ("http://federation.test/users/nobody", "There is no account http://federation.test/users/nobody on this server."),
    ],
)
async def test_local_account_rejected_before_lookup(member_client, database, account, message):
    client = await member_client("alice")
    looked_up = []

    async def fail_lookup(host: str, port: int) -> list[str]:
        looked_up.append(host)
        raise OSError(f"this test makes no requests, but {host} was looked up")

    client.app.extensions[FETCHER_KEY].resolver = fail_lookup

    response = await follow_through_form(client, account)
    page = await text_of(response)
    assert response.status_code == 400
    assert message in page
    assert "Following accounts on this server is not supported yet" in page
    assert looked_up == []
    assert await outbound_follows(database) == []


async def test_follow_of_unknown_server_says_to_check_name(member_client, database):
    client = await member_client("alice")

    async def no_such_host(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    client.app.extensions[FETCHER_KEY].resolver = no_such_host

    response = await follow_through_form(client, "someone@nowhere.test")
    page = await text_of(response)
    assert response.status_code == 400
    assert "Could not find a server called nowhere.test. Check the spelling of the server name." in page
    assert "gaierror" not in page
    assert await outbound_follows(database) == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_unreachable_server_message_names_no_exception(member_client, host):
    client = await member_client("alice")
    port = free_port()

    response = await follow_through_form(client, f"someone@{host}:{port}")
    page = await text_of(response)
    assert response.status_code == 400
    assert f"Could not reach the server {host}:{port}" in page
    assert "Check the server name and port" in page
    assert re.search(r"\b[A-Z][A-Za-z]*(Error|Exception|Timeout)\b", page) is None


async def test_follow_form_accepts_http_only_where_allowed(member_client, remote, settings):
    client = await member_client("alice")
    response = await follow_through_form(client, "nonsense")
    assert "starting with https:// or http://" in await text_of(response)

    production_like = dataclasses.replace(settings, allow_private_fetch=False)
    with pytest.raises(social.InvalidAccount, match="only over https"):
        social.parse_account(production_like, remote.actor_uri)
    with pytest.raises(social.InvalidAccount, match=r"starting with https://\.$"):
        social.parse_account(production_like, "nonsense")
    assert social.parse_account(production_like, "https://example.social/users/x").is_url


def _timed_out_fetch() -> FetchError:
    try:
        try:
            raise TimeoutError
        except TimeoutError:
            raise FetchError("https://slow.test/.well-known/webfinger", "no complete response within 30 s (timed out)") from None
    except FetchError as error:
        return error


def test_timeout_message_says_try_later():
    error = RemoteObjectError("someone@slow.test", "no complete response")
    error.__cause__ = _timed_out_fetch()
    message = social.follow_error_message("someone@slow.test", error)
    assert message == "The server slow.test did not answer in time. Try again later."


async def test_unfollow_sends_undo_and_removes_follow(member_client, remote, processor, database):
    client = await member_client("alice")
    await follow_through_form(client, f"{remote.username}@{remote.host}")
    await processor.run_once()
    follow = remote.accepted("Follow")[0].activity
    await post_signed(client, remote, FEDERATION, "/users/alice/inbox", remote.activity("Accept", follow["id"]))
    await processor.run_once()

    response = await submit(client, "/social/following", "/social/unfollow", actor=remote.actor_uri)
    assert response.status_code == 302
    assert f"You no longer follow {remote.username}@{remote.host}" in await text_of(await client.get("/social/following"))
    assert await outbound_follows(database) == []

    await processor.run_once()
    undos = remote.accepted("Undo")
    assert len(undos) == 1
    undone = undos[0].activity["object"]
    assert undone["type"] == "Follow"
    assert undone["id"] == follow["id"]
    assert undone["actor"] == ALICE
    assert undone["object"] == remote.actor_uri
    assert await signed_by_alice(client, undos[0])


async def test_unfollow_of_unknown_account_is_400(member_client, database):
    client = await member_client("alice")
    response = await submit(client, "/social/following", "/social/unfollow", actor="http://127.0.0.1:9/users/nobody")
    assert response.status_code == 400
    assert "You do not follow that account" in await text_of(response)
    assert await database("SELECT id FROM ap_activities WHERE direction = 'outbound'") == []


async def _lock_alice(client, database):
    response = await submit(client, "/social/followers", "/social/settings", manually_approves_followers="on")
    assert response.status_code == 302
    rows = await database("SELECT manually_approves_followers FROM ap_actors WHERE preferred_username = 'alice'")
    assert [row[0] for row in rows] == [True]


async def _remote_asks_to_follow(client, remote, processor, database):
    follow = remote.activity("Follow", ALICE)
    response = await post_signed(client, remote, FEDERATION, "/users/alice/inbox", follow)
    assert response.status_code == 202
    await processor.run_once()
    await processor.run_once()
    rows = await database("SELECT remote_actor_uri, state FROM ap_follows WHERE direction = 'inbound'")
    assert [tuple(row) for row in rows] == [(remote.actor_uri, "pending")]
    return follow


async def test_approval_setting_is_published(member_client, database):
    client = await member_client("alice")
    await _lock_alice(client, database)
    actor = json.loads(await (await client.get("/users/alice", headers={"Accept": "application/activity+json"})).get_data())
    assert actor["manuallyApprovesFollowers"] is True
    updates = await database("SELECT payload FROM ap_activities WHERE direction = 'outbound' AND activity_type = 'Update'")
    assert len(updates) == 1
    assert json.loads(updates[0]["payload"])["object"]["manuallyApprovesFollowers"] is True
    page = await text_of(await client.get("/social/followers"))
    assert 'name="manually_approves_followers" value="on" checked' in page


async def test_approve_pending_follower_sends_accept(member_client, remote, processor, database):
    client = await member_client("alice")
    await _lock_alice(client, database)
    follow = await _remote_asks_to_follow(client, remote, processor, database)
    assert remote.accepted("Accept") == []
    page = await text_of(await client.get("/social/followers"))
    assert "Follow requests (1)" in page
    assert f'name="actor" value="{remote.actor_uri}"' in page
    kinds = await database("SELECT kind FROM notifications")
    assert [row["kind"] for row in kinds] == ["follow_request"]

    response = await submit(client, "/social/followers", "/social/requests/approve", actor=remote.actor_uri)
    assert response.status_code == 302
    rows = await database("SELECT state FROM ap_follows WHERE direction = 'inbound'")
    assert [row["state"] for row in rows] == ["accepted"]

    await processor.run_once()
    accepts = remote.accepted("Accept")
    assert len(accepts) == 1
    assert accepts[0].activity["actor"] == ALICE
    assert accepts[0].activity["object"]["id"] == follow["id"]
    assert accepts[0].activity["object"]["actor"] == remote.actor_uri
    assert await signed_by_alice(client, accepts[0])
    page = await text_of(await client.get("/social/followers"))
    assert "1 follower" in page
    assert "Follow requests (0)" in page


async def test_reject_pending_follower_sends_reject(member_client, remote, processor, database):
    client = await member_client("alice")
    await _lock_alice(client, database)
    follow = await _remote_asks_to_follow(client, remote, processor, database)

    response = await submit(client, "/social/followers", "/social/requests/reject", actor=remote.actor_uri)
    assert response.status_code == 302
    assert await database("SELECT id FROM ap_follows") == []

    await processor.run_once()
    rejects = remote.accepted("Reject")
    assert len(rejects) == 1
    assert rejects[0].activity["object"]["id"] == follow["id"]
    assert remote.accepted("Accept") == []
    again = await submit(client, "/social/followers", "/social/requests/approve", actor=remote.actor_uri)
    assert again.status_code == 400
    assert "no longer pending" in await text_of(again)


async def test_turning_approval_off_accepts_waiting_requests(member_client, remote, processor, database):
    client = await member_client("alice")
    await _lock_alice(client, database)
    follow = await _remote_asks_to_follow(client, remote, processor, database)

    response = await submit(client, "/social/followers", "/social/settings")
    assert response.status_code == 302
    assert "1 pending request was accepted" in await text_of(await client.get("/social/followers"))
    rows = await database("SELECT state FROM ap_follows WHERE direction = 'inbound'")
    assert [row["state"] for row in rows] == ["accepted"]
    await processor.run_once()
    accepts = remote.accepted("Accept")
    assert [accept.activity["object"]["id"] for accept in accepts] == [follow["id"]]


async def _add_follows(database, direction: str, count: int) -> None:
    await database(
        """
        INSERT INTO ap_follows (local_actor_id, remote_actor_uri, direction, state, follow_activity_uri)
        SELECT actor.id, 'https://far.test/users/user' || n, $1, 'accepted', 'https://far.test/follows/' || n
        FROM ap_actors actor JOIN members member ON member.id = actor.member_id, generate_series(1, $2) AS n
        WHERE member.username = 'alice'
        """,
        direction,
        count,
    )


@pytest.mark.parametrize(("path", "direction", "heading"), [
    ("/social/following", "outbound", "You follow 55 accounts"),
    ("/social/followers", "inbound", "55 followers"),
])
async def test_follow_lists_paged(member_client, database, path, direction, heading):
    await _add_follows(database, direction, 55)
    client = await member_client("alice")

    first = await text_of(await client.get(path))
    second = await text_of(await client.get(f"{path}?page=2"))
    beyond = await client.get(f"{path}?page=3")

    assert heading in first
    assert "Page 1 of 2" in first
    assert _listed_users(first) == set(range(6, 56))
    assert "Page 2 of 2" in second
    assert _listed_users(second) == set(range(1, 6))
    assert beyond.status_code == 404


def _listed_users(page: str) -> set[int]:
    return {int(number) for number in re.findall(r"far\.test/users/user(\d+)", page)}


async def test_pending_follow_listed_as_request(member_client, remote, database):
    client = await member_client("alice")
    await follow_through_form(client, remote.actor_uri)
    await _add_follows(database, "outbound", 2)

    page = await text_of(await client.get("/social/following"))
    requests_part, following_part = page.split('<section class="following">')
    assert "You follow 2 accounts" in following_part
    assert "Your follow requests (1)" in requests_part
    assert f'value="{remote.actor_uri}"' in requests_part
    assert "waiting for their server to accept" in requests_part
    assert remote.actor_uri not in following_part
    assert _listed_users(following_part) == {1, 2}


async def test_only_pending_follow_counts_none(member_client, remote):
    client = await member_client("alice")
    await follow_through_form(client, remote.actor_uri)
    page = await text_of(await client.get("/social/following"))
    assert "You follow 0 accounts" in page
    assert "You follow 1 account" not in page
    assert "Your follow requests (1)" in page

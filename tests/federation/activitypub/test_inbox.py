"""Inboxes over the test client: verification, idempotency, Follow, Accept and Undo."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from shared.infrastructure.activitypub.signatures import inspect_request, load_public_key, verify_with_key
from tests.federation.activitypub.conftest import post_signed

BLOG = "http://blog.test"
FEDERATION = "http://federation.test"


async def inbound_rows(database):
    return await database("SELECT uri, recipient_uri, state FROM ap_activities WHERE direction = 'inbound'")


async def follows(database, direction="inbound"):
    return await database(
        "SELECT a.preferred_username, f.remote_actor_uri, f.state FROM ap_follows f "
        "JOIN ap_actors a ON a.id = f.local_actor_id WHERE f.direction = $1 ORDER BY 1", direction,
    )


async def verify_delivery(client, received) -> bool:
    """Check a delivery's signature the way a remote server would, with the key our actor publishes."""
    actor = json.loads(await (await client.get("/actor", headers={"Accept": "application/activity+json"})).get_data())
    result = inspect_request("POST", received.path, received.headers["host"], received.headers, received.body)
    assert result.ok, result.detail
    assert result.key_id == actor["publicKey"]["id"]
    return verify_with_key(result.parsed, load_public_key(actor["publicKey"]["publicKeyPem"]))


async def test_follow_of_blog_gets_signed_accept(app_client, remote, processor, database):
    client = await app_client("blog")
    follow = remote.activity("Follow", f"{BLOG}/actor")
    response = await post_signed(client, remote, BLOG, "/actor/inbox", follow)
    assert response.status_code == 202

    await processor.run_once()
    await processor.run_once()

    assert [tuple(row) for row in await follows(database)] == [("blog", remote.actor_uri, "accepted")]
    accepts = remote.accepted("Accept")
    assert len(accepts) == 1
    assert accepts[0].path == "/inbox"
    assert accepts[0].activity["object"]["id"] == follow["id"]
    assert await verify_delivery(client, accepts[0])


async def test_follow_of_member_through_shared_inbox(app_client, remote, processor, database):
    client = await app_client("federation")
    follow = remote.activity("Follow", f"{FEDERATION}/users/alice")
    response = await post_signed(client, remote, FEDERATION, "/inbox", follow)
    assert response.status_code == 202

    await processor.run_once()
    await processor.run_once()

    assert [tuple(row) for row in await follows(database)] == [("alice", remote.actor_uri, "accepted")]
    accept = remote.accepted("Accept")[0]
    assert accept.activity["actor"] == f"{FEDERATION}/users/alice"
    alice = json.loads(await (await client.get("/users/alice", headers={"Accept": "application/activity+json"})).get_data())
    result = inspect_request("POST", accept.path, accept.headers["host"], accept.headers, accept.body)
    assert result.key_id == alice["publicKey"]["id"]
    assert verify_with_key(result.parsed, load_public_key(alice["publicKey"]["publicKeyPem"]))
    notifications = await database("SELECT kind, actor_uri FROM notifications")
    assert [tuple(row) for row in notifications] == [("follow", remote.actor_uri)]


async def test_duplicate_delivery_has_no_second_effect(app_client, remote, processor, database):
    client = await app_client("federation")
    follow = remote.activity("Follow", f"{FEDERATION}/users/alice")
    first = await post_signed(client, remote, FEDERATION, "/users/alice/inbox", follow)
    second = await post_signed(client, remote, FEDERATION, "/users/alice/inbox", follow)
    assert (first.status_code, second.status_code) == (202, 202)

    await processor.run_once()
    await processor.run_once()

    assert len(await inbound_rows(database)) == 1
    assert len(await database("SELECT id FROM notifications")) == 1
    assert len(remote.accepted("Accept")) == 1


@pytest.mark.parametrize("shape", ["embedded with id", "embedded without id", "referenced"])
async def test_undo_follow_removes_the_follow(app_client, remote, processor, database, shape):
    client = await app_client("blog")
    follow = remote.activity("Follow", f"{BLOG}/actor")
    await post_signed(client, remote, BLOG, "/actor/inbox", follow)
    await processor.run_once()
    assert len(await follows(database)) == 1

    inner = {"embedded with id": follow, "referenced": follow["id"]}.get(
        shape, {key: value for key, value in follow.items() if key != "id"}
    )
    undo = remote.activity("Undo", inner)
    assert (await post_signed(client, remote, BLOG, "/actor/inbox", undo)).status_code == 202
    await processor.run_once()

    assert await follows(database) == []


async def test_undo_signed_by_someone_else_keeps_the_follow(app_client, remote, other_remote, processor, database):
    client = await app_client("blog")
    follow = remote.activity("Follow", f"{BLOG}/actor")
    await post_signed(client, remote, BLOG, "/actor/inbox", follow)
    await processor.run_once()

    undo = other_remote.activity("Undo", follow)
    assert (await post_signed(client, other_remote, BLOG, "/actor/inbox", undo)).status_code == 202
    await processor.run_once()

    assert len(await follows(database)) == 1


def _stale_date() -> dict:
    return {"now": datetime.now(timezone.utc) - timedelta(hours=13)}


@pytest.mark.parametrize("case", ["bad signature", "wrong digest", "stale date", "key of another actor", "unknown key"])
async def test_rejected_signature_is_401_and_stores_nothing(app_client, remote, other_remote, database, case):
    client = await app_client("blog")
    follow = remote.activity("Follow", f"{BLOG}/actor")
    body = json.dumps(follow).encode()
    headers = remote.signed("POST", BLOG + "/actor/inbox", body, **(_stale_date() if case == "stale date" else {}))
    if case == "bad signature":
        headers["Signature"] = headers["Signature"].replace('signature="', 'signature="AAAA', 1)
    elif case == "wrong digest":
        body = body.replace(b"Follow", b"Fallow")
    elif case == "key of another actor":
        headers = remote.signed("POST", BLOG + "/actor/inbox", body, key_id=other_remote.key_id)
    elif case == "unknown key":
        headers = remote.signed("POST", BLOG + "/actor/inbox", body, key_id=f"{remote.base_url}/keys/missing")
    headers["Content-Type"] = "application/activity+json"

    response = await client.post("/actor/inbox", data=body, headers=headers)

    assert response.status_code == 401, await response.get_data(as_text=True)
    assert "error" in json.loads(await response.get_data())
    assert await inbound_rows(database) == []
    assert await database("SELECT key_id FROM ap_remote_keys") == []


async def test_actor_who_is_not_the_signer_is_401(app_client, remote, other_remote, database):
    client = await app_client("blog")
    follow = remote.activity("Follow", f"{BLOG}/actor")
    response = await post_signed(client, other_remote, BLOG, "/actor/inbox", follow)
    assert response.status_code == 401
    assert "is not the signer" in json.loads(await response.get_data())["error"]
    assert await inbound_rows(database) == []


async def test_missing_signature_is_401(app_client, remote, database):
    client = await app_client("blog")
    response = await client.post("/actor/inbox", json=remote.activity("Follow", f"{BLOG}/actor"))
    assert response.status_code == 401
    assert await inbound_rows(database) == []


async def test_malformed_signature_is_400(app_client, remote, database):
    client = await app_client("blog")
    body = json.dumps(remote.activity("Follow", f"{BLOG}/actor")).encode()
    headers = remote.signed("POST", BLOG + "/actor/inbox", body)
    headers["Signature"] = 'keyId="x",signature'
    response = await client.post("/actor/inbox", data=body, headers=headers)
    assert response.status_code == 400


async def test_blocked_domain_is_403(app_client, remote, database):
    await database("INSERT INTO ap_domain_blocks (domain) VALUES ('127.0.0.1')")
    client = await app_client("blog")
    response = await post_signed(client, remote, BLOG, "/actor/inbox", remote.activity("Follow", f"{BLOG}/actor"))
    assert response.status_code == 403
    assert await inbound_rows(database) == []


async def test_delete_of_unknown_actor_is_202_without_fetching(app_client, remote, database):
    client = await app_client("federation")
    delete = remote.activity("Delete", remote.actor_uri, to=["https://www.w3.org/ns/activitystreams#Public"])
    response = await post_signed(client, remote, FEDERATION, "/inbox", delete)
    assert response.status_code == 202
    assert remote.fetched == []
    assert await inbound_rows(database) == []


async def test_delete_of_known_actor_removes_its_follows(app_client, remote, processor, database):
    client = await app_client("federation")
    await post_signed(client, remote, FEDERATION, "/inbox", remote.activity("Follow", f"{FEDERATION}/users/alice"))
    await processor.run_once()
    assert len(await follows(database)) == 1

    delete = remote.activity("Delete", remote.actor_uri)
    assert (await post_signed(client, remote, FEDERATION, "/inbox", delete)).status_code == 202
    await processor.run_once()

    assert await follows(database) == []
    assert await database("SELECT uri FROM ap_remote_actors") == []


async def test_query_string_in_signed_target_is_honoured(app_client, remote, database):
    client = await app_client("blog")
    body = json.dumps(remote.activity("Follow", f"{BLOG}/actor")).encode()
    headers = remote.signed("POST", BLOG + "/actor/inbox?via=test", body)
    headers["Content-Type"] = "application/activity+json"
    response = await client.post("/actor/inbox?via=test", data=body, headers=headers)
    assert response.status_code == 202

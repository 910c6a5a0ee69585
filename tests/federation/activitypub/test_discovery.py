"""WebFinger, host-meta, NodeInfo and the actor documents, with content negotiation."""

from __future__ import annotations

import json

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.infrastructure.activitypub.signatures import load_public_key

APPS = ("blog", "market", "cart", "events", "federation", "account")
AP = {"Accept": "application/activity+json"}


async def _json(response):
    return json.loads(await response.get_data())


@pytest.mark.parametrize(
    "resource",
    [
        "acct:alice@federation.test",
        "alice@federation.test",
        "@alice@federation.test",
        "acct:ALICE@Federation.TEST",
        "http://federation.test/users/alice",
        "http://federation.test/@alice",
        "acct%3Aalice%40federation.test",
    ],
)
async def test_webfinger_finds_member_in_every_spelling(app_client, resource):
    client = await app_client("federation")
    response = await client.get("/.well-known/webfinger", query_string={"resource": resource})
    assert response.status_code == 200, resource
    assert response.content_type == "application/jrd+json"
    document = await _json(response)
    assert document["subject"] == "acct:alice@federation.test"
    self_link = next(link for link in document["links"] if link["rel"] == "self")
    assert self_link == {"rel": "self", "type": "application/activity+json", "href": "http://federation.test/users/alice"}


@pytest.mark.parametrize("app", APPS)
async def test_webfinger_finds_each_app_actor(app_client, app):
    client = await app_client(app)
    for resource in (f"acct:{app}@{app}.test", f"http://{app}.test/actor", f"http://{app}.test/"):
        response = await client.get("/.well-known/webfinger", query_string={"resource": resource})
        assert response.status_code == 200, resource
        assert (await _json(response))["links"][0]["href"] == f"http://{app}.test/actor"


@pytest.mark.parametrize(
    ("app", "resource", "status"),
    [
        ("federation", "", 400),
        ("federation", "alice", 400),
        ("federation", "acct:@federation.test", 400),
        ("federation", "acct:nobody@federation.test", 404),
        ("federation", "acct:alice@elsewhere.example", 404),
        ("federation", "http://federation.test/market", 404),
        ("blog", "acct:alice@blog.test", 404),
    ],
)
async def test_webfinger_rejects_bad_and_unknown_resources(app_client, app, resource, status):
    client = await app_client(app)
    response = await client.get("/.well-known/webfinger", query_string={"resource": resource})
    assert response.status_code == status


async def test_host_meta_points_at_webfinger(app_client):
    client = await app_client("events")
    response = await client.get("/.well-known/host-meta")
    assert response.status_code == 200
    assert 'template="http://events.test/.well-known/webfinger?resource={uri}"' in await response.get_data(as_text=True)


async def test_nodeinfo_is_valid_against_the_schema(app_client, fixtures_dir):
    client = await app_client("federation")
    links = await _json(await client.get("/.well-known/nodeinfo"))
    assert links["links"] == [{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": "http://federation.test/nodeinfo/2.1"}]
    response = await client.get("/nodeinfo/2.1")
    assert response.status_code == 200
    assert "profile=" in response.headers["Content-Type"]
    document = await _json(response)
    schema = json.loads((fixtures_dir / "nodeinfo" / "nodeinfo-2.1-schema.json").read_text())
    jsonschema.validate(document, schema)
    assert document["usage"]["users"]["total"] == 3


async def test_app_actors_share_one_public_key(app_client):
    keys = set()
    for app in APPS:
        client = await app_client(app)
        response = await client.get("/actor", headers=AP)
        assert response.status_code == 200
        assert response.content_type == "application/activity+json"
        document = await _json(response)
        assert document["id"] == f"http://{app}.test/actor"
        assert document["type"] == "Service"
        for key in ("name", "summary", "icon", "inbox", "outbox", "followers", "following", "endpoints", "publicKey"):
            assert document.get(key), (app, key)
        assert document["endpoints"]["sharedInbox"] == f"http://{app}.test/inbox"
        assert document["publicKey"]["id"] == f"http://{app}.test/actor#main-key"
        keys.add(document["publicKey"]["publicKeyPem"])
    assert len(keys) == 1


async def test_members_have_their_own_2048_bit_keys(app_client):
    client = await app_client("federation")
    alice = await _json(await client.get("/users/alice", headers=AP))
    bob = await _json(await client.get("/users/bob", headers=AP))
    app = await _json(await client.get("/actor", headers=AP))
    assert alice["type"] == "Person"
    assert alice["endpoints"]["sharedInbox"] == "http://federation.test/inbox"
    pems = {alice["publicKey"]["publicKeyPem"], bob["publicKey"]["publicKeyPem"], app["publicKey"]["publicKeyPem"]}
    assert len(pems) == 3
    key = load_public_key(alice["publicKey"]["publicKeyPem"])
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size == 2048
    again = await _json(await client.get("/users/alice", headers=AP))
    assert again["publicKey"] == alice["publicKey"]


@pytest.mark.parametrize(
    "accept",
    [
        "application/activity+json",
        'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
        "application/ld+json;profile=https://www.w3.org/ns/activitystreams",
        'application/ld+json ;  profile = "https://www.w3.org/ns/activitystreams" , text/html;q=0.1',
    ],
)
async def test_activitypub_clients_get_json(app_client, accept):
    client = await app_client("federation")
    for path in ("/users/alice", "/@alice"):
        response = await client.get(path, headers={"Accept": accept})
        assert response.status_code == 200, (path, accept)
        assert response.content_type == "application/activity+json"
        assert "Accept" in response.headers["Vary"]


async def test_browser_gets_html_profile(app_client):
    client = await app_client("federation")
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    for path in ("/users/alice", "/@alice"):
        response = await client.get(path, headers={"Accept": browser})
        assert response.status_code == 200
        assert response.mimetype == "text/html"
        assert "Alice Ash" in await response.get_data(as_text=True)
        assert "Accept" in response.headers["Vary"]


async def test_blog_actor_page_and_json_are_cached_apart(app_client):
    client = await app_client("blog")
    page = await client.get("/actor", headers={"Accept": "text/html"})
    assert page.mimetype == "text/html"
    for accept in ("application/activity+json", 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'):
        document = await client.get("/actor", headers={"Accept": accept})
        assert document.content_type == "application/activity+json", accept


async def test_unknown_member_actor_is_404(app_client):
    client = await app_client("federation")
    assert (await client.get("/users/nobody", headers=AP)).status_code == 404

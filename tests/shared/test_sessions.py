"""Server-side sessions: the per-member index, and sessions ended while a request runs."""

from __future__ import annotations

import json

from quart import Response

from shared.infrastructure.sessions import ServerSession, end_member_sessions, member_index_key
from tests.federation.oauth.support import fetch_value
from tests.helpers import csrf_from, text_of


async def _signed_in_federation(app_client):
    client = await app_client("federation")
    token = csrf_from(await text_of(await client.get("/login")))
    response = await client.post("/login", form={"csrf_token": token, "login": "alice", "password": "rose-ash-dev"})
    assert response.status_code == 302
    return client


async def _alice_id(settings) -> int:
    return await fetch_value(settings, "SELECT id FROM members WHERE username = 'alice'")


async def _only_indexed_session(redis, member_id: int) -> tuple[str, str]:
    index = await redis.hgetall(member_index_key(member_id))
    assert len(index) == 1, index
    (field, sid), = index.items()
    return field.decode(), sid.decode()


async def test_sign_in_indexes_the_session(app_client, settings):
    client = await _signed_in_federation(app_client)
    redis = client.app.extensions["redis"]
    alice = await _alice_id(settings)
    field, federation_sid = await _only_indexed_session(redis, alice)
    data = json.loads(await redis.get(f"session:{field}"))
    assert field.startswith("federation:")
    assert data["member_id"] == alice
    assert federation_sid == data["oidc_sid"]


async def test_end_member_sessions_keeps_one_sid(app_client, settings):
    client = await _signed_in_federation(app_client)
    redis = client.app.extensions["redis"]
    alice = await _alice_id(settings)
    _, federation_sid = await _only_indexed_session(redis, alice)
    kept = await end_member_sessions(redis, alice, keep_sid=federation_sid)
    assert (kept.sessions, kept.sign_ins) == (0, 0)
    ended = await end_member_sessions(redis, alice)
    assert (ended.sessions, ended.sign_ins) == (1, 1)
    assert await redis.hlen(member_index_key(alice)) == 0


async def test_ended_session_is_not_written_back(app_client, settings):
    client = await _signed_in_federation(app_client)
    app, redis = client.app, client.app.extensions["redis"]
    alice = await _alice_id(settings)
    field, _ = await _only_indexed_session(redis, alice)
    # A request of that session read it, then the member signed out everywhere before the request saved it.
    session = ServerSession(json.loads(await redis.get(f"session:{field}")), field.split(":", 1)[1])
    await end_member_sessions(redis, alice)
    session["visited"] = True
    response = Response("")
    await app.session_interface.save_session(app, session, response)
    assert await redis.get(f"session:{field}") is None
    assert await redis.hlen(member_index_key(alice)) == 0
    assert response.headers["Set-Cookie"].startswith("federation_session=;")

"""Members following remote accounts, Accept and Reject of those follows, and likes of members' notes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from federation.services.social import follow_remote, publish_note
from shared.infrastructure.activitypub.fetch import RemoteFetcher
from shared.infrastructure.activitypub.vocab import prefers_activity_json
from shared.infrastructure.cli import cli
from shared.infrastructure.db import make_engine, make_sessionmaker
from tests.federation.activitypub.conftest import post_signed

FEDERATION = "http://federation.test"


async def _in_session(settings, work):
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()


async def _alice_follows(settings, remote, processor, account: str):
    fetcher = RemoteFetcher(True)
    try:
        await _in_session(settings, lambda session: follow_remote(session, settings, fetcher, "alice", account))
    finally:
        await fetcher.aclose()
    await processor.run_once()
    follows = remote.accepted("Follow")
    assert len(follows) == 1
    return follows[0].activity


@pytest.mark.parametrize(("answer", "state"), [("Accept", "accepted"), ("Reject", "rejected")])
async def test_remote_answer_sets_follow_state(app_client, settings, remote, processor, database, answer, state):
    follow = await _alice_follows(settings, remote, processor, remote.actor_uri)
    assert follow["object"] == remote.actor_uri
    assert follow["actor"] == f"{FEDERATION}/users/alice"

    client = await app_client("federation")
    response = await post_signed(client, remote, FEDERATION, "/users/alice/inbox", remote.activity(answer, follow["id"]))
    assert response.status_code == 202
    await processor.run_once()

    rows = await database("SELECT state FROM ap_follows WHERE direction = 'outbound'")
    assert [row["state"] for row in rows] == [state]


async def test_follow_by_handle_uses_webfinger(settings, remote, processor, database):
    follow = await _alice_follows(settings, remote, processor, f"{remote.username}@{remote.host}")
    assert follow["object"] == remote.actor_uri
    assert any(path.startswith("/.well-known/webfinger") for path in remote.fetched)
    rows = await database("SELECT remote_actor_uri, state FROM ap_follows WHERE direction = 'outbound'")
    assert [tuple(row) for row in rows] == [(remote.actor_uri, "pending")]


async def test_like_of_members_note_notifies_them(app_client, settings, remote, processor, database):
    note_uri = await _in_session(settings, lambda session: publish_note(session, settings, "alice", "Roses are up."))
    client = await app_client("federation")
    note = await client.get(note_uri.removeprefix(FEDERATION), headers={"Accept": "application/activity+json"})
    assert note.status_code == 200

    response = await post_signed(client, remote, FEDERATION, "/inbox", remote.activity("Like", note_uri))
    assert response.status_code == 202
    await processor.run_once()

    rows = await database("SELECT kind, object_uri FROM notifications")
    assert [tuple(row) for row in rows] == [("like", note_uri)]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
        ("*/*", False),
        ("", False),
        ("application/activity+json;q=0", False),
        ("application/ld+json", False),
        ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"', True),
        ("application/activity+json, application/ld+json", True),
        ("text/html;q=0.5, application/activity+json", True),
    ],
)
def test_accept_header_negotiation(accept, expected):
    assert prefers_activity_json(accept) is expected


def test_cli_has_event_processor_and_activitypub_commands():
    output = CliRunner().invoke(cli, ["--help"]).output
    assert "event-processor" in output
    assert "activitypub" in output

"""Every real payload from other servers is parsed and handled without error, and without the network."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from shared.infrastructure.activitypub.fetch import RemoteFetcher
from shared.infrastructure.activitypub.processor import EventProcessor
from shared.infrastructure.activitypub.remote import keys_in, store_actor
from shared.infrastructure.activitypub.signatures import load_public_key
from shared.infrastructure.activitypub.vocab import ACTOR_TYPES, OBJECT_TYPES, id_of, ids_of, is_activity_content_type, types_of
from shared.infrastructure.db import make_engine, make_sessionmaker

FIXTURE_FOLDERS = ("fediverse-other", "mastodon")


def _payloads(fixtures_dir: Path) -> list[tuple[str, dict]]:
    found = []
    for path in sorted((fixtures_dir / "fediverse-other").glob("*.json")):
        found.append((path.name, json.loads(path.read_text())))
    for path in sorted((fixtures_dir / "mastodon").glob("activitypub-actor*.txt")):
        head, _, body = path.read_text().replace("\r\n", "\n").partition("\n\n")
        found.append((path.name, json.loads(body)))
    return found


async def _reject_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"handling a fixture tried to resolve {host}")


def _refuse_connection(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"handling a fixture tried to reach {request.url}")


@pytest.fixture
async def offline_processor(settings, tmp_path):
    engine = make_engine(settings.database_url)
    fetcher = RemoteFetcher(False, resolver=_reject_dns, transport=httpx.MockTransport(_refuse_connection))
    processor = EventProcessor(settings, make_sessionmaker(engine), fetcher, log_directory=tmp_path)
    yield processor
    await processor.close()
    await fetcher.aclose()
    await engine.dispose()


def test_fixture_set_is_complete(fixtures_dir):
    names = [name for name, _ in _payloads(fixtures_dir)]
    for server in ("mastodon", "pleroma", "lemmy", "peertube", "mobilizon", "wordpress", "friendica", "nodebb"):
        assert any(name.startswith(server) for name in names), server


def test_actor_without_inbox_is_plain_json(fixtures_dir):
    raw = (fixtures_dir / "mastodon" / "activitypub-actor-noinbox.txt").read_text()
    content_type = next(line for line in raw.splitlines() if line.lower().startswith("content-type:"))
    assert not is_activity_content_type(content_type.split(":", 1)[1])


async def test_every_actor_fixture_is_stored_with_loadable_keys(fixtures_dir, settings):
    actors = [(name, payload) for name, payload in _payloads(fixtures_dir) if types_of(payload) & ACTOR_TYPES]
    assert len(actors) >= 9
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            for name, payload in actors:
                stored = await store_actor(session, payload)
                assert stored.uri == payload["id"], name
                keys = keys_in(payload)
                assert keys, name
                for key in keys:
                    load_public_key(key.public_key_pem)
    finally:
        await engine.dispose()


def _as_inbound(payload: dict) -> dict:
    """Objects arrive wrapped in a Create from their author; activities arrive as they are."""
    if types_of(payload) & OBJECT_TYPES:
        return {"id": payload["id"] + "#create", "type": "Create", "actor": ids_of(payload.get("attributedTo"))[0], "object": payload}
    return payload


async def test_every_activity_and_object_fixture_is_handled(fixtures_dir, offline_processor, database):
    handled = [(name, _as_inbound(payload)) for name, payload in _payloads(fixtures_dir) if not types_of(payload) & ACTOR_TYPES]
    assert len(handled) == 11
    for name, activity in handled:
        await database(
            "INSERT INTO ap_activities (uri, recipient_uri, remote_actor_uri, direction, activity_type, object_uri, payload) "
            "VALUES ($1, 'http://federation.test/inbox', $2, 'inbound', $3, $4, $5::jsonb)",
            activity["id"], id_of(activity["actor"]), sorted(types_of(activity))[0], id_of(activity.get("object")),
            json.dumps(activity),
        )

    await offline_processor.run_once()

    rows = await database("SELECT uri, state, last_error FROM ap_activities WHERE direction = 'inbound'")
    assert [(row["uri"], row["last_error"]) for row in rows if row["state"] != "done"] == []
    stored = {row["uri"] for row in await database("SELECT uri FROM ap_objects")}
    expected = {id_of(activity["object"]) for _, activity in handled if activity["type"] == "Create"}
    assert expected <= stored
    assert len(expected) == 7

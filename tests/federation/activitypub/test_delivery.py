"""Emitting and delivering: publishing posts, fan-out, retries, dead deliveries and the outbox log."""

from __future__ import annotations

import dataclasses
import json


from blog.services.publishing import delete_post, edit_post, publish_post
from federation.activitylog import ActivityLog
from shared.infrastructure.activitypub.outbox import ActivityLogWriter
from shared.infrastructure.activitypub.signatures import inspect_request
from shared.infrastructure.db import make_engine, make_sessionmaker
from shared.models import Post
from tests.federation.activitypub.conftest import post_signed

BLOG = "http://blog.test"


async def _follow_blog(app_client, remote, processor):
    client = await app_client("blog")
    response = await post_signed(client, remote, BLOG, "/actor/inbox", remote.activity("Follow", f"{BLOG}/actor"))
    assert response.status_code == 202
    await processor.run_once()
    await processor.run_once()
    return client


async def _in_session(settings, work):
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()


async def _draft(session) -> Post:
    post = Post(slug="fresh-post", title="A fresh post", html="<p>Hello, fediverse.</p>", excerpt="Hello.")
    session.add(post)
    await session.flush()
    return post


async def test_publishing_a_post_delivers_create_article(app_client, settings, remote, processor):
    await _follow_blog(app_client, remote, processor)

    async def publish(session):
        await publish_post(session, settings, await _draft(session))

    await _in_session(settings, publish)
    await processor.run_once()

    creates = remote.accepted("Create")
    assert len(creates) == 1
    article = creates[0].activity["object"]
    assert article["type"] == "Article"
    assert article["name"] == "A fresh post"
    assert article["attributedTo"] == f"{BLOG}/actor"
    assert article["url"] == f"{BLOG}/fresh-post/"
    assert creates[0].activity["actor"] == f"{BLOG}/actor"


async def test_editing_and_deleting_emit_update_and_tombstone(app_client, settings, remote, processor):
    await _follow_blog(app_client, remote, processor)

    async def publish(session):
        post = await _draft(session)
        await publish_post(session, settings, post)
        return post.id

    post_id = await _in_session(settings, publish)

    async def edit(session):
        await edit_post(session, settings, await session.get(Post, post_id), title="A better title")

    async def remove(session):
        await delete_post(session, settings, await session.get(Post, post_id))

    await _in_session(settings, edit)
    await _in_session(settings, remove)
    await processor.run_once()

    kinds = [item.activity["type"] for item in remote.accepted()]
    assert kinds.count("Create") == 1
    assert remote.accepted("Update")[0].activity["object"]["name"] == "A better title"
    tombstone = remote.accepted("Delete")[0].activity["object"]
    assert tombstone == {**tombstone, "id": f"{BLOG}/posts/{post_id}", "type": "Tombstone"}
    client = await app_client("blog")
    deleted = await client.get(f"/posts/{post_id}", headers={"Accept": "application/activity+json"})
    assert deleted.status_code == 410


async def test_publishing_without_followers_delivers_nothing(settings, processor, database):
    async def publish(session):
        await publish_post(session, settings, await _draft(session))

    await _in_session(settings, publish)
    await processor.run_once()
    assert await database("SELECT id FROM ap_deliveries") == []
    assert [row["state"] for row in await database("SELECT state FROM ap_activities")] == ["done"]


async def test_one_delivery_per_shared_inbox(settings, processor, database, remote):
    async def publish(session):
        await publish_post(session, settings, await _draft(session))

    await _in_session(settings, publish)
    blog_id = (await database("SELECT id FROM ap_actors WHERE app_name = 'blog'"))[0]["id"]
    for name in ("one", "two", "three"):
        await database(
            "INSERT INTO ap_follows (local_actor_id, remote_actor_uri, remote_inbox, remote_shared_inbox, direction, state) "
            "VALUES ($1, $2, $3, $4, 'inbound', 'accepted')",
            blog_id, f"{remote.base_url}/users/{name}", f"{remote.base_url}/users/{name}/inbox", remote.shared_inbox,
        )
    await processor.run_once()
    assert [row["inbox_url"] for row in await database("SELECT inbox_url FROM ap_deliveries")] == [remote.shared_inbox]
    assert len(remote.accepted("Create")) == 1


async def test_failing_inbox_is_retried_then_dead(app_client, settings, remote, processor, database):
    await _follow_blog(app_client, remote, processor)
    remote.inbox_status = 503

    async def publish(session):
        await publish_post(session, settings, await _draft(session))

    await _in_session(settings, publish)
    for _ in range(4):
        await processor.run_once()

    rows = await database(
        "SELECT d.state, d.attempts, d.last_status FROM ap_deliveries d JOIN ap_activities a ON a.id = d.activity_id "
        "WHERE a.activity_type = 'Create'"
    )
    assert [tuple(row) for row in rows] == [("dead", 3, 503)]
    attempts = [item for item in remote.received if item.activity["type"] == "Create"]
    assert len(attempts) == 3
    assert len({item.body for item in attempts}) == 1
    for item in attempts:
        assert inspect_request("POST", item.path, item.headers["host"], item.headers, item.body).ok


async def test_gone_inbox_is_dead_at_once(app_client, settings, remote, processor, database):
    await _follow_blog(app_client, remote, processor)
    remote.inbox_status = 410

    async def publish(session):
        await publish_post(session, settings, await _draft(session))

    await _in_session(settings, publish)
    await processor.run_once()
    rows = await database("SELECT d.state, d.attempts FROM ap_deliveries d WHERE d.last_status = 410")
    assert [tuple(row) for row in rows] == [("dead", 1)]


async def test_inbox_that_recovers_gets_the_delivery(app_client, settings, remote, processor, database):
    await _follow_blog(app_client, remote, processor)
    remote.inbox_status = 503

    async def publish(session):
        await publish_post(session, settings, await _draft(session))

    await _in_session(settings, publish)
    await processor.run_once()
    assert remote.accepted("Create") == []

    remote.inbox_status = 202
    await processor.run_once()
    assert len(remote.accepted("Create")) == 1
    states = await database("SELECT state, attempts FROM ap_deliveries WHERE last_status = 202 AND attempts = 2")
    assert [tuple(row) for row in states] == [("done", 2)]


async def test_outbox_reads_log_held_by_processor(app_client, settings, processor, tmp_path):
    async def publish(session):
        await publish_post(session, settings, await _draft(session))

    await _in_session(settings, publish)
    await processor.run_once()

    client = await app_client("blog", dataclasses.replace(settings, activity_log_dir=tmp_path / "activitylog"))
    collection = json.loads(await (await client.get("/actor/outbox", headers={"Accept": "application/activity+json"})).get_data())
    assert collection["type"] == "OrderedCollection"
    assert collection["totalItems"] == 1
    page = json.loads(await (await client.get(collection["first"].removeprefix(BLOG))).get_data())
    assert [item["type"] for item in page["orderedItems"]] == ["Create"]
    assert page["orderedItems"][0]["object"]["name"] == "A fresh post"


async def test_log_append_is_not_repeated_after_reopening(tmp_path):
    writer = ActivityLogWriter(tmp_path)
    entry = json.dumps({"id": "http://blog.test/actor/activities/1", "type": "Create"}).encode()
    assert await writer.append_once("blog", "http://blog.test/actor/activities/1", entry) == 1
    assert await writer.append_once("blog", "http://blog.test/actor/activities/1", entry) == 1
    await writer.close()

    reopened = ActivityLogWriter(tmp_path)
    assert await reopened.append_once("blog", "http://blog.test/actor/activities/1", entry) == 1
    await reopened.close()
    with ActivityLog.open("blog", tmp_path) as log:
        assert log.tip == 1


async def test_emitting_is_part_of_the_callers_transaction(settings, database):
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            async with session.begin():
                await publish_post(session, settings, await _draft(session))
                await session.rollback()
    finally:
        await engine.dispose()
    assert await database("SELECT id FROM ap_activities") == []
    assert await database("SELECT id FROM posts WHERE slug = 'fresh-post'") == []

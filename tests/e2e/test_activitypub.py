"""ActivityPub over real HTTP: apps and the EventProcessor as processes, a fake remote, two instances."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest

from blog.services.publishing import publish_post
from federation.services.social import publish_note
from shared.infrastructure.activitypub.signatures import inspect_request, load_public_key, verify_with_key
from shared.infrastructure.db import make_engine, make_sessionmaker
from shared.infrastructure.devstack import free_port
from shared.models import Post
from tests.conftest import asyncpg_dsn, recreate_database
from tests.federation.activitypub.support import FakeRemote
from tests.helpers import settings_for

APPS = ("blog", "market", "cart", "events", "federation", "account")
AP = {"Accept": "application/activity+json"}


async def wait_for(condition: Callable, description: str, timeout: float = 45.0):
    """Poll ``condition`` (sync or async) until it returns something truthy, or fail naming ``description``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {description}")
        await asyncio.sleep(0.1)


@dataclass
class Instance:
    """One Rose Ash installation: some apps and an EventProcessor as processes, over one database."""

    database_url: str
    redis_url: str
    directory: Path
    ports: dict[str, int] = field(default_factory=lambda: {name: free_port() for name in APPS})
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def url(self, app: str) -> str:
        return f"http://127.0.0.1:{self.ports[app]}"

    def overrides(self) -> dict[str, str]:
        values = {"ACTIVITY_LOG_DIR": str(self.directory / "activitylog")}
        for name in APPS:
            values[f"{name.upper()}_PUBLIC_URL"] = values[f"{name.upper()}_INTERNAL_URL"] = self.url(name)
        return values

    @property
    def settings(self):
        return settings_for(self.database_url, self.redis_url, **self.overrides())

    def _spawn(self, name: str, arguments: list[str]) -> None:
        environ = {**os.environ, "ROSE_ASH_ENV": "test", "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
                   **self.overrides()}
        with open(self.directory / f"{name}.log", "ab") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "shared.infrastructure.cli", *arguments],
                env=environ, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )

    async def start_app(self, name: str) -> None:
        self._spawn(name, ["serve", name, "--port", str(self.ports[name])])

        async def healthy() -> bool:
            if self.processes[name].poll() is not None:
                pytest.fail(f"{name} exited: {(self.directory / f'{name}.log').read_text()}")
            try:
                async with httpx.AsyncClient(timeout=2) as client:
                    return (await client.get(self.url(name) + "/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        await wait_for(healthy, f"{name} to become healthy")

    def start_processor(self) -> None:
        self._spawn("event-processor", [
            "event-processor", "--poll-interval", "0.1", "--retry-base", "0.2", "--max-attempts", "30", "--concurrency", "1",
        ])

    def kill_processor(self) -> None:
        process = self.processes.pop("event-processor")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=20)

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    async def query(self, sql: str, *args):
        connection = await asyncpg.connect(asyncpg_dsn(self.database_url))
        try:
            return await connection.fetch(sql, *args)
        finally:
            await connection.close()

    async def in_session(self, work):
        engine = make_engine(self.database_url)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()


@pytest.fixture
async def instance(demo_database_url, clean_redis, tmp_path) -> AsyncIterator[Instance]:
    running = Instance(demo_database_url, clean_redis, tmp_path)
    try:
        await running.start_app("blog")
        await running.start_app("federation")
        running.start_processor()
        yield running
    finally:
        running.stop()


@pytest.fixture
def remote():
    with FakeRemote() as server:
        yield server


async def send_signed(remote: FakeRemote, url: str, activity: dict) -> httpx.Response:
    body = json.dumps(activity).encode()
    headers = {**remote.signed("POST", url, body), "Content-Type": "application/activity+json"}
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(url, content=body, headers=headers)


async def verified_by_published_key(delivery) -> bool:
    result = inspect_request("POST", delivery.path, delivery.headers["host"], delivery.headers, delivery.body)
    assert result.ok, result.detail
    async with httpx.AsyncClient(timeout=10) as client:
        actor = (await client.get(result.key_id.split("#", 1)[0], headers=AP)).json()
    assert actor["publicKey"]["id"] == result.key_id
    return verify_with_key(result.parsed, load_public_key(actor["publicKey"]["publicKeyPem"]))


async def publish_new_post(instance: Instance, slug: str) -> int:
    async def publish(session):
        post = Post(slug=slug, title=f"Post {slug}", html=f"<p>{slug}</p>")
        session.add(post)
        await session.flush()
        await publish_post(session, instance.settings, post)
        return post.id

    return await instance.in_session(publish)


async def follow_and_wait(instance: Instance, remote: FakeRemote, target: str, inbox: str, count: int) -> dict:
    follow = remote.activity("Follow", target, suffix=str(count))
    response = await send_signed(remote, inbox, follow)
    assert response.status_code == 202, response.text
    await wait_for(lambda: len(remote.accepted("Accept")) >= count, f"Accept number {count}")
    return follow


async def test_remote_follower_receives_accept_and_post(instance, remote):
    blog_actor = instance.url("blog") + "/actor"
    alice = instance.url("federation") + "/users/alice"
    follow_blog = await follow_and_wait(instance, remote, blog_actor, blog_actor + "/inbox", 1)
    follow_alice = await follow_and_wait(instance, remote, alice, alice + "/inbox", 2)

    accepts = remote.accepted("Accept")
    assert {item.activity["actor"] for item in accepts} == {blog_actor, alice}
    for accept in accepts:
        assert await verified_by_published_key(accept)

    await publish_new_post(instance, "over-http")
    create = (await wait_for(lambda: remote.accepted("Create"), "Create(Article) at the remote"))[0]
    assert create.activity["object"]["type"] == "Article"
    assert create.activity["object"]["url"] == instance.url("blog") + "/over-http/"
    assert await verified_by_published_key(create)

    again = await send_signed(remote, alice + "/inbox", follow_alice)
    assert again.status_code == 202
    rows = await instance.query("SELECT id FROM ap_activities WHERE uri = $1", follow_alice["id"])
    assert len(rows) == 1

    undo = remote.activity("Undo", follow_blog)
    assert (await send_signed(remote, blog_actor + "/inbox", undo)).status_code == 202

    async def blog_follow_gone() -> bool:
        rows = await instance.query(
            "SELECT f.id FROM ap_follows f JOIN ap_actors a ON a.id = f.local_actor_id WHERE a.app_name = 'blog'"
        )
        return rows == []

    await wait_for(blog_follow_gone, "the Undo to remove the blog's follow")
    assert len(remote.accepted("Accept")) == 2
    notifications = await instance.query("SELECT kind FROM notifications")
    assert [row["kind"] for row in notifications] == ["follow"]


async def test_outbox_over_http_lists_the_published_post(instance, remote):
    await publish_new_post(instance, "in-the-outbox")

    async def outbox_page():
        async with httpx.AsyncClient(timeout=10) as client:
            page = (await client.get(instance.url("blog") + "/actor/outbox?page=true", headers=AP)).json()
        return page if page["orderedItems"] else None

    page = await wait_for(outbox_page, "the post in the outbox")
    assert page["orderedItems"][0]["object"]["url"] == instance.url("blog") + "/in-the-outbox/"


async def test_remote_that_is_down_gets_the_delivery_later(instance, remote):
    blog_actor = instance.url("blog") + "/actor"
    await follow_and_wait(instance, remote, blog_actor, blog_actor + "/inbox", 1)
    remote.inbox_status = 503
    await publish_new_post(instance, "while-down")

    async def retried() -> bool:
        rows = await instance.query("SELECT attempts FROM ap_deliveries WHERE state = 'pending' AND attempts >= 2")
        return bool(rows)

    await wait_for(retried, "two failed attempts")
    assert remote.accepted("Create") == []
    remote.inbox_status = 202
    await wait_for(lambda: remote.accepted("Create"), "the delivery after the remote came back")
    assert len(remote.accepted("Create")) == 1


async def test_killed_processor_loses_nothing_and_delivers_once(instance, remote):
    blog_actor = instance.url("blog") + "/actor"
    await follow_and_wait(instance, remote, blog_actor, blog_actor + "/inbox", 1)
    remote.hold_creates_after = 2
    remote.hold.clear()
    for number in range(5):
        await publish_new_post(instance, f"batch-{number}")

    await wait_for(lambda: remote.waiting.is_set(), "a delivery in flight")
    assert len(remote.accepted("Create")) == 2
    instance.kill_processor()
    remote.hold.set()
    remote.hold_creates_after = None

    instance.start_processor()
    await wait_for(lambda: len(remote.accepted("Create")) >= 5, "all five posts delivered")

    async def all_done() -> bool:
        rows = await instance.query("SELECT d.state FROM ap_deliveries d JOIN ap_activities a ON a.id = d.activity_id WHERE a.activity_type = 'Create'")
        return len(rows) == 5 and all(row["state"] == "done" for row in rows)

    await wait_for(all_done, "every delivery marked done")
    delivered = [item.activity["id"] for item in remote.accepted("Create")]
    assert len(delivered) == 5
    assert len(set(delivered)) == 5
    first_two = delivered[:2]
    posts = [item.activity["id"] for item in remote.received if item.activity.get("type") == "Create"]
    for activity_id in first_two:
        assert posts.count(activity_id) == 1


@pytest.fixture
async def second_database(postgres_server_url, template_databases) -> AsyncIterator[str]:
    from tests.conftest import admin_execute

    name = f"rose_ash_test_{os.getpid()}_second"
    url = await recreate_database(postgres_server_url, name, template_databases["demo"])
    yield url
    await admin_execute(postgres_server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def test_two_instances_follow_each_other_and_exchange_notes(instance, second_database, clean_redis, tmp_path):
    (tmp_path / "second").mkdir()
    other = Instance(second_database, clean_redis, tmp_path / "second")
    try:
        await other.start_app("federation")
        other.start_processor()

        for follower, followed in ((instance, other), (other, instance)):
            handle = f"alice@127.0.0.1:{followed.ports['federation']}"
            environ = {**os.environ, "ROSE_ASH_ENV": "test", "DATABASE_URL": follower.database_url,
                       "REDIS_URL": follower.redis_url, **follower.overrides()}
            result = subprocess.run(
                [sys.executable, "-m", "shared.infrastructure.cli", "activitypub", "follow", "alice", handle],
                env=environ, capture_output=True, text=True, timeout=60,
            )
            assert result.returncode == 0, result.stdout + result.stderr

            async def accepted(follower=follower) -> bool:
                rows = await follower.query("SELECT state FROM ap_follows WHERE direction = 'outbound'")
                return [row["state"] for row in rows] == ["accepted"]

            await wait_for(accepted, f"{handle} to accept the follow")

        for author, reader, text in ((instance, other, "Hello from the first"), (other, instance, "Hello from the second")):
            note_uri = await author.in_session(lambda session, author=author, text=text: publish_note(session, author.settings, "alice", text))

            async def arrived(reader=reader, note_uri=note_uri):
                rows = await reader.query("SELECT payload FROM ap_objects WHERE uri = $1", note_uri)
                return rows

            rows = await wait_for(arrived, f"the note {note_uri} to arrive")
            assert text in json.loads(rows[0]["payload"])["content"]
    finally:
        other.stop()

"""Benchmark the ActivityPub inbox and the EventProcessor's deliveries.

1. Signed inbox POSTs accepted per second by the federation app (signature
   verification, the actor check and the idempotent insert included), beside
   a bare Quart endpoint that only reads the same body and returns 202.
2. Deliveries per second from the EventProcessor (claim, sign at send time,
   POST, record) to a local fake inbox, beside unsigned POSTs of the same
   bodies from one httpx client with the same concurrency and no database.

Everything runs on 127.0.0.1: an embedded PostgreSQL and Redis in a
temporary folder, the app and both inboxes under Hypercorn as child processes.

    .venv/bin/python bench/inbox.py            # 2,000 requests per measurement
    .venv/bin/python bench/inbox.py --quick    # 300, for a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def serve_bare_inbox(port: int) -> None:
    """Run a Quart app whose POST /inbox reads the body and returns 202 (the baseline server)."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config
    from quart import Quart, request

    app = Quart("bare")

    @app.post("/inbox")
    async def inbox():
        await request.get_data()
        return "", 202

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    asyncio.run(serve(app, config))


async def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            try:
                await client.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


async def _post_all(url: str, requests: list[tuple[bytes, dict]], concurrency: int) -> tuple[float, int]:
    """POST every (body, headers) pair with ``concurrency`` in flight; return (seconds, 2xx responses)."""
    queue = list(reversed(requests))
    accepted = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal accepted
        while queue:
            body, headers = queue.pop()
            response = await client.post(url, content=body, headers=headers)
            accepted += 200 <= response.status_code < 300

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return time.perf_counter() - started, accepted


def _spawn(arguments: list[str], environ: dict, log: Path) -> subprocess.Popen:
    with open(log, "ab") as output:
        return subprocess.Popen([sys.executable, *arguments], env=environ, stdout=output, stderr=subprocess.STDOUT, cwd=REPO)


async def measure_inbox(federation_url: str, bare_url: str, count: int, concurrency: int) -> tuple[float, float]:
    from tests.federation.activitypub.support import FakeRemote

    with FakeRemote() as remote:
        target = federation_url + "/users/alice/inbox"
        requests = []
        for number in range(count + 1):
            activity = remote.activity("Like", f"{federation_url}/users/alice/notes/{number}", suffix=str(number))
            body = json.dumps(activity).encode()
            requests.append((body, {**remote.signed("POST", target, body), "Content-Type": "application/activity+json"}))
        # The first request fetches and caches the remote key; it is not timed.
        await _post_all(target, requests[:1], 1)
        ours, accepted = await _post_all(target, requests[1:], concurrency)
        if accepted != count:
            raise RuntimeError(f"the inbox accepted {accepted} of {count} signed POSTs")
        bare, _ = await _post_all(bare_url + "/inbox", requests[1:], concurrency)
    return count / ours, count / bare


async def measure_deliveries(settings, inbox_url: str, count: int, concurrency: int, log_dir: Path) -> tuple[float, float]:
    from sqlalchemy import func, select

    from shared.infrastructure.activitypub.actors import app_actor
    from shared.infrastructure.activitypub.fetch import RemoteFetcher
    from shared.infrastructure.activitypub.processor import EventProcessor
    from shared.infrastructure.db import make_engine, make_sessionmaker
    from shared.models import APActivity, APDelivery

    engine = make_engine(settings.database_url, pool_size=concurrency + 2)
    sessionmaker = make_sessionmaker(engine)
    bodies = []
    async with sessionmaker() as session, session.begin():
        actor = await app_actor(session, settings, "blog")
        for number in range(count):
            payload = {"id": f"{actor.uri}/activities/bench-{number}", "type": "Create", "actor": actor.uri,
                       "object": {"type": "Note", "content": "x" * 500}}
            activity = APActivity(uri=payload["id"], actor_id=actor.id, direction="outbound", activity_type="Create",
                                  payload=payload, state="done")
            session.add(activity)
            await session.flush()
            body = json.dumps(payload).encode()
            bodies.append(body)
            session.add(APDelivery(activity_id=activity.id, inbox_url=inbox_url, body=body))

    fetcher = RemoteFetcher(True)
    processor = EventProcessor(settings, sessionmaker, fetcher, log_directory=log_dir, concurrency=concurrency,
                               batch_size=count)
    try:
        started = time.perf_counter()
        while await processor.deliver_due():
            pass
        ours = time.perf_counter() - started
        async with sessionmaker() as session:
            done = await session.scalar(select(func.count()).select_from(APDelivery).where(APDelivery.state == "done"))
        if done != count:
            raise RuntimeError(f"{done} of {count} deliveries succeeded")
    finally:
        await processor.close()
        await fetcher.aclose()
        await engine.dispose()
    headers = {"Content-Type": "application/activity+json"}
    bare, _ = await _post_all(inbox_url, [(body, headers) for body in bodies], concurrency)
    return count / ours, count / bare


async def main_async(count: int, concurrency: int, directory: Path) -> list[tuple[str, float, float]]:
    from shared.infrastructure import migrations
    from shared.infrastructure.db import make_engine, make_sessionmaker
    from shared.infrastructure.devstack import EmbeddedPostgres, EmbeddedRedis, free_port
    from shared.services.demo import seed_demo
    from tests.helpers import settings_for

    postgres = EmbeddedPostgres(directory / "postgres", free_port(), "postgres")
    redis_server = EmbeddedRedis(directory / "redis", free_port(), persist=False)
    postgres.start()
    redis_server.start()
    children = []
    try:
        federation_port, bare_port, sink_port = free_port(), free_port(), free_port()
        federation_url = f"http://127.0.0.1:{federation_port}"
        environ = {**os.environ, "ROSE_ASH_ENV": "test", "DATABASE_URL": postgres.url, "REDIS_URL": redis_server.url,
                   "FEDERATION_PUBLIC_URL": federation_url, "ACTIVITY_LOG_DIR": str(directory / "activitylog")}
        settings = settings_for(postgres.url, redis_server.url, FEDERATION_PUBLIC_URL=federation_url)
        await asyncio.to_thread(migrations.upgrade, postgres.url)
        engine = make_engine(postgres.url)
        async with make_sessionmaker(engine)() as session, session.begin():
            await seed_demo(session, settings)
        await engine.dispose()

        children.append(_spawn(["-m", "shared.infrastructure.cli", "serve", "federation", "--port", str(federation_port)],
                               environ, directory / "federation.log"))
        children.append(_spawn([__file__, "--serve-bare", str(bare_port)], environ, directory / "bare.log"))
        children.append(_spawn([__file__, "--serve-bare", str(sink_port)], environ, directory / "sink.log"))
        for url in (federation_url + "/healthz", f"http://127.0.0.1:{bare_port}/", f"http://127.0.0.1:{sink_port}/"):
            await _wait_up(url)

        inbox_ours, inbox_bare = await measure_inbox(federation_url, f"http://127.0.0.1:{bare_port}", count, concurrency)
        deliver_ours, deliver_bare = await measure_deliveries(
            settings, f"http://127.0.0.1:{sink_port}/inbox", count, concurrency, directory / "bench-activitylog"
        )
        return [
            ("signed inbox POSTs accepted / s (vs bare Quart endpoint)", inbox_ours, inbox_bare),
            ("EventProcessor deliveries / s (vs unsigned httpx POSTs)", deliver_ours, deliver_bare),
        ]
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=20)
        redis_server.stop()
        postgres.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="300 requests per measurement instead of 2,000")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight at once (default 16)")
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve_bare:
        serve_bare_inbox(arguments.serve_bare)
        return

    count = 300 if arguments.quick else 2000
    directory = Path(tempfile.mkdtemp(prefix="rose-ash-bench-inbox-"))
    directory.chmod(0o755)
    try:
        rows = asyncio.run(main_async(count, arguments.concurrency, directory))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(f"{count} requests per measurement, concurrency {arguments.concurrency}, "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs")
    print(f"{'measurement':<60} {'ours':>10} {'baseline':>10} {'ratio':>7}")
    for name, ours, baseline in rows:
        print(f"{name:<60} {ours:>10.0f} {baseline:>10.0f} {ours / baseline:>7.2f}")


if __name__ == "__main__":
    main()

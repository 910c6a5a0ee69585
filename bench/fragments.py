"""Blog home page throughput with and without the fragment and page caches.

One run starts its own PostgreSQL and Redis (embedded, in a temporary folder),
loads the demo data, starts the six apps, and measures the blog home page:

  page cache     warm fragment cache and warm page cache (anonymous visitors)
  fragments      warm fragment cache, page cache switched off
  cold           every fragment fetched from its app for every page
  bare route     a bare Quart route returning the same HTML from memory, served
                 by Hypercorn the same way (the framework's ceiling)

It prints requests per second, p50 and p99 latency, and the ratios the targets
are stated in. The load comes from wrk (Debian's package) when it is installed,
otherwise from this process with httpx, which saturates long before the
servers do and so squeezes every ratio towards 1. Either way the load runs on
the same machine as the servers; the ratios compare like with like.

    apt-get install wrk   # once
    .venv/bin/python bench/fragments.py [--seconds 5] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared.infrastructure import migrations  # noqa: E402
from shared.infrastructure.config import load_settings  # noqa: E402
from shared.infrastructure.db import make_engine, make_sessionmaker  # noqa: E402
from shared.infrastructure.devstack import AppProcesses, EmbeddedPostgres, EmbeddedRedis, free_port  # noqa: E402
from shared.services.demo import seed_demo  # noqa: E402

BARE_APP = """
import sys
from pathlib import Path
from quart import Quart, Response
from hypercorn.asyncio import serve
from hypercorn.config import Config
import asyncio

html = Path(sys.argv[1]).read_bytes()
app = Quart("bare")

@app.get("/")
async def page():
    return Response(html, content_type="text/html; charset=utf-8")

config = Config()
config.bind = [f"127.0.0.1:{sys.argv[2]}"]
config.accesslog = None
asyncio.run(serve(app, config))
"""


async def load(url: str, seconds: float, concurrency: int, warmup: float = 1.0) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        start = time.perf_counter()
        measure_from = start + warmup
        stop = measure_from + seconds

        async def worker() -> None:
            nonlocal errors
            while True:
                sent = time.perf_counter()
                if sent >= stop:
                    return
                response = await client.get(url)
                done = time.perf_counter()
                if response.status_code != 200:
                    errors += 1
                if sent >= measure_from:
                    latencies.append(done - sent)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    latencies.sort()
    return {
        "rps": len(latencies) / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": errors,
    }


WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * WRK_UNITS[unit]


def load_with_wrk(url: str, seconds: float, concurrency: int) -> dict[str, float]:
    """Run wrk against ``url`` after a one-second warm-up and read its summary."""
    subprocess.run(["wrk", "-t2", f"-c{concurrency}", "-d1s", url], check=True, capture_output=True)
    output = subprocess.run(
        ["wrk", "-t2", f"-c{concurrency}", f"-d{seconds:.0f}s", "--latency", url],
        check=True, capture_output=True, text=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": _milliseconds(re.search(r"\s50%\s+(\S+)", output).group(1)),
        "p99_ms": _milliseconds(re.search(r"\s99%\s+(\S+)", output).group(1)),
        "errors": float(errors.group(1)) if errors else 0.0,
    }


def measure(url: str, seconds: float, concurrency: int) -> dict[str, float]:
    if shutil.which("wrk"):
        return load_with_wrk(url, seconds, concurrency)
    return asyncio.run(load(url, seconds, concurrency))


def wait_for(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not respond within 30 s")


async def prepare_database(server_url: str, redis_url: str) -> str:
    import asyncpg

    dsn = server_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    await connection.execute("CREATE DATABASE rose_ash_bench")
    await connection.close()
    url = server_url.rsplit("/", 1)[0] + "/rose_ash_bench"
    await asyncio.to_thread(migrations.upgrade, url)
    settings = load_settings("test", environ={"DATABASE_URL": url, "REDIS_URL": redis_url})
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as session, session.begin():
        await seed_demo(session, settings)
    await engine.dispose()
    return url


def scenario(name: str, database_url: str, redis_url: str, log_dir: Path, seconds: float, concurrency: int,
             **environ: str) -> tuple[dict[str, float], str]:
    apps = AppProcesses(database_url, redis_url, log_dir / name, extra_environ=environ)
    apps.log_dir.mkdir(parents=True)
    print(f"  {name}: starting the six apps ...", flush=True)
    apps.start()
    try:
        url = apps.urls["blog"] + "/"
        html = httpx.get(url, timeout=10).text
        print(f"  {name}: measuring {seconds:.0f} s at {concurrency} concurrent requests ...", flush=True)
        return measure(url, seconds, concurrency), html
    finally:
        apps.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time per scenario")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight at once")
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="rose-ash-bench-"))
    work.chmod(0o755)
    postgres = EmbeddedPostgres(work / "postgres", free_port(), "postgres")
    redis_server = EmbeddedRedis(work / "redis", free_port(), persist=False)
    print(f"Starting PostgreSQL and Redis in {work} ...", flush=True)
    postgres.start()
    redis_server.start()
    try:
        database_url = asyncio.run(prepare_database(postgres.url, redis_server.url))
        results = {}
        results["page cache"], html = scenario("page-cache", database_url, redis_server.url, work, options.seconds,
                                               options.concurrency)
        results["fragments"], _ = scenario("fragments", database_url, redis_server.url, work, options.seconds,
                                           options.concurrency, PAGE_CACHE_SECONDS="0")
        results["cold"], _ = scenario("cold", database_url, redis_server.url, work, options.seconds,
                                      options.concurrency, PAGE_CACHE_SECONDS="0", FRAGMENT_TTL_SECONDS="0")
        page = work / "home.html"
        page.write_text(html)
        port = free_port()
        bare = subprocess.Popen([sys.executable, "-c", BARE_APP, str(page), str(port)], stdin=subprocess.DEVNULL)
        try:
            wait_for(f"http://127.0.0.1:{port}/")
            print("  bare route: measuring ...", flush=True)
            results["bare route"] = measure(f"http://127.0.0.1:{port}/", options.seconds, options.concurrency)
        finally:
            bare.terminate()
            bare.wait()
    finally:
        redis_server.stop()
        postgres.stop()

    ceiling = results["bare route"]["rps"]
    print()
    generator = "wrk" if shutil.which("wrk") else "httpx (install wrk for truer figures)"
    print(f"Blog home page, {options.concurrency} concurrent connections, {options.seconds:.0f} s each, load from {generator}")
    print(f"{'scenario':<12} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'of bare':>8}")
    for name, figures in results.items():
        print(f"{name:<12} {figures['rps']:>8.0f} {figures['p50_ms']:>8.1f} {figures['p99_ms']:>8.1f} "
              f"{figures['errors']:>7.0f} {figures['rps'] / ceiling:>8.0%}")
    print()
    checks = [
        ("page-cached home >= 70 % of the bare route", results["page cache"]["rps"] / ceiling, 0.70),
        ("warm fragments, no page cache >= 30 % of the bare route", results["fragments"]["rps"] / ceiling, 0.30),
    ]
    for label, ratio, target in checks:
        print(f"{'met ' if ratio >= target else 'MISSED'}  {label}: {ratio:.0%}")
    # Cold and warm differ only in the fragment cache: neither uses the page cache.
    cold_ratio = results["cold"]["p99_ms"] / results["fragments"]["p99_ms"]
    print(f"{'met ' if cold_ratio < 4 else 'MISSED'}  cold p99 < 4x the warm-fragment p99: {cold_ratio:.1f}x")


if __name__ == "__main__":
    main()

"""Benchmark the federation activity log against raw file writes and SQLite.

Appends 1 KiB entries under each fsync policy and compares the rate with
plain ``os.write`` of the same bytes (with and without fsync) and with
SQLite in WAL mode. Then compares reopening a log of 1,000,000 entries with
a plain sequential read of its segment files. Prints a table of our figure,
the baseline, the ratio and whether each target is met.

    .venv/bin/python bench/activitylog.py            # full run, a few minutes
    .venv/bin/python bench/activitylog.py --quick    # smaller counts, under a minute

Files go to a temporary directory (``--dir`` picks another, for example on
the disk to measure) and are removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from federation.activitylog import ActivityLog, AsyncActivityLog  # noqa: E402
from federation.activitylog.scan import READ_CHUNK_SIZE, inspect_log  # noqa: E402

ENTRY = os.urandom(1024)
ACTOR = "bench"
RAW_BATCH = 64
# The read baseline reads like the log's recovery scan: in chunks of this
# size, with the same POSIX_FADV_SEQUENTIAL and POSIX_FADV_WILLNEED hints, so
# that the comparison measures the scan's own work and not a difference in
# how the disk is read.
READ_BUFFER_SIZE = READ_CHUNK_SIZE


@dataclass(frozen=True)
class Counts:
    """Entries written per measurement."""

    synced: int  # one fsync per entry
    grouped: int  # per appender, under group commit
    unsynced: int
    reopen: int
    repeat: int


FULL = Counts(synced=3000, grouped=400, unsynced=300_000, reopen=1_000_000, repeat=5)
QUICK = Counts(synced=300, grouped=60, unsynced=30_000, reopen=100_000, repeat=1)


class Workspace:
    """Hands out a fresh, empty directory per run, and deletes the previous run's directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._runs = 0
        self._current: Path | None = None

    def fresh(self) -> Path:
        if self._current is not None:
            shutil.rmtree(self._current)
        self._runs += 1
        self._current = self.root / f"run-{self._runs}"
        self._current.mkdir()
        return self._current


def log_appends(workspace: Workspace, fsync: str, count: int) -> tuple[int, float]:
    with ActivityLog.open(ACTOR, workspace.fresh(), fsync=fsync) as log:
        append = log.append
        start = time.perf_counter()
        for _ in range(count):
            append(ENTRY)
        return count, time.perf_counter() - start


def log_concurrent_appends(workspace: Workspace, appenders: int, per_appender: int) -> tuple[int, float]:
    async def run() -> float:
        log = await AsyncActivityLog.open(ACTOR, workspace.fresh(), fsync="batch")

        async def appender() -> None:
            for _ in range(per_appender):
                await log.append(ENTRY)

        start = time.perf_counter()
        await asyncio.gather(*(appender() for _ in range(appenders)))
        elapsed = time.perf_counter() - start
        await log.close()
        return elapsed

    return appenders * per_appender, asyncio.run(run())


def raw_writes(workspace: Workspace, count: int, sync_every: int | None) -> tuple[int, float]:
    """Write ``count`` entries with os.write, calling fsync after every ``sync_every`` writes (never if None)."""
    path = workspace.fresh() / "raw.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        write, fsync = os.write, os.fsync
        start = time.perf_counter()
        for number in range(1, count + 1):
            write(fd, ENTRY)
            if sync_every is not None and number % sync_every == 0:
                fsync(fd)
        if sync_every is not None and count % sync_every:
            fsync(fd)
        return count, time.perf_counter() - start
    finally:
        os.close(fd)


def sqlite_inserts(workspace: Workspace, count: int, per_transaction: int) -> tuple[int, float]:
    """Insert ``count`` entries into SQLite (WAL, synchronous=FULL), ``per_transaction`` per commit."""
    connection = sqlite3.connect(workspace.fresh() / "entries.db", isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("CREATE TABLE entries (seq INTEGER PRIMARY KEY, entry BLOB NOT NULL)")
        rows = [(ENTRY,)] * per_transaction
        start = time.perf_counter()
        for _ in range(count // per_transaction):
            connection.execute("BEGIN")
            connection.executemany("INSERT INTO entries (entry) VALUES (?)", rows)
            connection.execute("COMMIT")
        return count // per_transaction * per_transaction, time.perf_counter() - start
    finally:
        connection.close()


def build_reopen_log(workspace: Workspace, count: int) -> Path:
    directory = workspace.fresh()
    with ActivityLog.open(ACTOR, directory, fsync="never") as log:
        for _ in range(count):
            log.append(ENTRY)
        paths = log.segment_paths
    # Written back, the pages are clean and posix_fadvise can drop them.
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return directory


def drop_page_cache(directory: Path) -> None:
    """Ask the kernel to forget the cached pages of every file in ``directory``."""
    for path in directory.iterdir():
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def sequential_read_seconds(directory: Path) -> float:
    buffer = bytearray(READ_BUFFER_SIZE)
    paths = sorted(directory.glob(f"{ACTOR}-*.log"), key=lambda path: int(path.stem.rsplit("-", 1)[1]))
    start = time.perf_counter()
    for path in paths:
        with open(path, "rb", buffering=0) as file:
            fd = file.fileno()
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
            offset = 0
            while count := file.readinto(buffer):
                offset += count
                os.posix_fadvise(fd, offset, READ_BUFFER_SIZE, os.POSIX_FADV_WILLNEED)
    return time.perf_counter() - start


def reopen_seconds(directory: Path, expected_tip: int) -> float:
    start = time.perf_counter()
    with ActivityLog.open(ACTOR, directory) as log:
        elapsed = time.perf_counter() - start
        if log.tip != expected_tip:
            raise RuntimeError(f"reopened log has tip {log.tip}, expected {expected_tip}")
    return elapsed


def full_check_seconds(directory: Path, expected_tip: int) -> float:
    """Time a scan that ignores the index files, as a reopen of a log without them would."""
    start = time.perf_counter()
    state = inspect_log(directory, ACTOR, use_index=False)
    elapsed = time.perf_counter() - start
    if state.tip != expected_tip:
        raise RuntimeError(f"scanned log has tip {state.tip}, expected {expected_tip}")
    return elapsed


def best_seconds(repeat: int, run: Callable[[], float], before: Callable[[], None] = lambda: None) -> float:
    results = []
    for _ in range(max(repeat, 2)):
        before()
        results.append(run())
    return min(results)


@dataclass(frozen=True)
class Row:
    ours_label: str
    ours: float
    baseline_label: str
    baseline: float
    target: float | None

    def format(self) -> str:
        ratio = self.ours / self.baseline
        target = ""
        met = ""
        if self.target is not None:
            target = f">= {self.target:g}x"
            met = "yes" if ratio >= self.target else "NO"
        return (
            f"{self.ours_label:<42} {self.ours:>12,.0f}   {self.baseline_label:<40} {self.baseline:>12,.0f}"
            f"   {ratio:>7.2f}x  {target:<8} {met}"
        )


def measure_appends(workspace: Workspace, counts: Counts) -> list[Row]:
    """Measure every append rate; rounds interleave them, so that changing load on the machine hits all alike."""
    measurements: dict[str, Callable[[], tuple[int, float]]] = {
        "always": lambda: log_appends(workspace, "always", counts.synced),
        "never": lambda: log_appends(workspace, "never", counts.unsynced),
        "raw each": lambda: raw_writes(workspace, counts.synced, sync_every=1),
        "raw batch 8": lambda: raw_writes(workspace, counts.grouped * 8, sync_every=8),
        "raw batch": lambda: raw_writes(workspace, counts.grouped * 64, sync_every=RAW_BATCH),
        "raw unsynced": lambda: raw_writes(workspace, counts.unsynced, sync_every=None),
        "sqlite each": lambda: sqlite_inserts(workspace, counts.synced, per_transaction=1),
        "sqlite batch": lambda: sqlite_inserts(workspace, counts.grouped * 64, per_transaction=RAW_BATCH),
    }
    for appenders in (1, 8, 64):
        measurements[f"batch {appenders}"] = partial(log_concurrent_appends, workspace, appenders, counts.grouped)

    rates: dict[str, list[float]] = {name: [] for name in measurements}
    for _round in range(counts.repeat):
        for name, run in measurements.items():
            items, seconds = run()
            rates[name].append(items / seconds)
    rate = {name: statistics.median(values) for name, values in rates.items()}

    raw_each = "os.write + fsync per write"
    raw_batch = f"os.write + fsync per {RAW_BATCH} writes"
    sqlite_each = "SQLite WAL FULL, 1 entry per commit"
    return [
        Row('fsync="always"', rate["always"], raw_each, rate["raw each"], None),
        Row('fsync="always"', rate["always"], sqlite_each, rate["sqlite each"], None),
        Row('fsync="batch", 1 appender', rate["batch 1"], raw_each, rate["raw each"], None),
        Row('fsync="batch", 8 appenders', rate["batch 8"], "os.write + fsync per 8 writes", rate["raw batch 8"], None),
        Row('fsync="batch", 64 appenders', rate["batch 64"], raw_batch, rate["raw batch"], 0.5),
        Row('fsync="batch", 64 appenders', rate["batch 64"], sqlite_each, rate["sqlite each"], 10),
        Row('fsync="batch", 64 appenders', rate["batch 64"], f"SQLite WAL FULL, {RAW_BATCH} entries per commit", rate["sqlite batch"], None),
        Row('fsync="never"', rate["never"], "os.write, no fsync", rate["raw unsynced"], 0.5),
    ]


def measure_reopen(workspace: Workspace, counts: Counts) -> list[Row]:
    directory = build_reopen_log(workspace, counts.reopen)
    megabytes = sum(path.stat().st_size for path in directory.glob(f"{ACTOR}-*.log")) / 1e6
    label = f"reopen, {counts.reopen:,} entries"
    rows = []
    for cache, before in (("page cache warm", lambda: None), ("page cache dropped", lambda: drop_page_cache(directory))):
        read = best_seconds(counts.repeat, lambda: sequential_read_seconds(directory), before)
        reopen = best_seconds(counts.repeat, lambda: reopen_seconds(directory, counts.reopen), before)
        rows.append(Row(f"{label}, {cache}", megabytes / reopen, "sequential read of the segments", megabytes / read, 0.3))
        if cache == "page cache warm":
            full = best_seconds(counts.repeat, lambda: full_check_seconds(directory, counts.reopen), before)
            rows.append(Row("  the same, without index files", megabytes / full, "sequential read of the segments", megabytes / read, None))
    return rows


def print_report(rows: list[Row], counts: Counts, directory: Path) -> None:
    print(
        f"Activity log benchmark: 1 KiB entries in {directory}; Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs; median of {counts.repeat} interleaved run(s) for appends, "
        f"best of {max(counts.repeat, 2)} for reads"
    )
    print("Appends are in entries/s, reopen and read in MB/s of segment files; ratio is ours / baseline.")
    print()
    header = f"{'ours':<42} {'per second':>12}   {'baseline':<40} {'per second':>12}   {'ratio':>8}  {'target':<8} met"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(row.format())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="use smaller counts and one run per measurement")
    parser.add_argument("--dir", type=Path, default=None, help="directory for the benchmark files (default: a temporary one)")
    arguments = parser.parse_args()

    counts = QUICK if arguments.quick else FULL
    root = Path(tempfile.mkdtemp(prefix="activitylog-bench-", dir=arguments.dir))
    try:
        workspace = Workspace(root)
        rows = measure_appends(workspace, counts) + measure_reopen(workspace, counts)
        print_report(rows, counts, root)
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()

"""AsyncActivityLog: one writer thread serving many appending tasks."""

from __future__ import annotations

import asyncio
import threading

import pytest

from federation.activitylog import ActivityLog, AsyncActivityLog, async_log


async def test_concurrent_appends_from_50_tasks(tmp_path):
    log = await AsyncActivityLog.open("alice", tmp_path, segment_size=8192, fsync="batch")
    syncs_at_open = log.fsync_count

    async def appender(task_number):
        seqs = []
        for number in range(20):
            seqs.append(await log.append(f"task {task_number} entry {number}".encode()))
        return seqs

    results = await asyncio.gather(*(appender(task_number) for task_number in range(50)))
    written = {}
    for task_number, seqs in enumerate(results):
        for number, seq in enumerate(seqs):
            written[seq] = f"task {task_number} entry {number}".encode()
    commit_syncs = log.fsync_count - syncs_at_open
    await log.close()

    assert sorted(written) == list(range(1, 1001))
    for seqs in results:
        assert seqs == sorted(seqs)
    assert commit_syncs < 1000 // 10
    with ActivityLog.open("alice", tmp_path) as reopened:
        assert reopened.tip == 1000
        assert len(reopened.segment_lengths) > 1
        assert dict(reopened.read()) == written


async def test_always_policy_syncs_every_entry(tmp_path):
    log = await AsyncActivityLog.open("alice", tmp_path, fsync="always")
    syncs_at_open = log.fsync_count

    seqs = await asyncio.gather(*(log.append(b"entry %d" % number) for number in range(40)))
    syncs = log.fsync_count - syncs_at_open
    await log.close()

    assert sorted(seqs) == list(range(1, 41))
    assert syncs == 40


async def test_never_policy_does_not_sync(tmp_path):
    async with await AsyncActivityLog.open("alice", tmp_path, fsync="never") as log:
        syncs_at_open = log.fsync_count
        seqs = await asyncio.gather(*(log.append(b"entry %d" % number) for number in range(40)))
        assert log.fsync_count == syncs_at_open
    assert sorted(seqs) == list(range(1, 41))


async def test_close_finishes_queued_appends(tmp_path):
    log = await AsyncActivityLog.open("alice", tmp_path, fsync="batch")
    pending = [asyncio.ensure_future(log.append(b"entry %d" % number)) for number in range(30)]
    await asyncio.sleep(0)

    await log.close()

    assert [task.result() for task in pending] == list(range(1, 31))
    with pytest.raises(ValueError, match="closed"):
        await log.append(b"too late")
    with ActivityLog.open("alice", tmp_path) as reopened:
        assert reopened.tip == 30


async def test_async_append_rejects_non_bytes(tmp_path):
    async with await AsyncActivityLog.open("alice", tmp_path) as log:
        with pytest.raises(TypeError, match="must be bytes"):
            await log.append("text")
        assert await log.append(bytearray(b"bytes-like")) == 1
        assert list(log.read()) == [(1, b"bytes-like")]


def _writer_threads(actor_id):
    return [thread for thread in threading.enumerate() if thread.name == f"activitylog-writer-{actor_id}"]


async def test_idle_writer_thread_ends(tmp_path, monkeypatch):
    monkeypatch.setattr(async_log, "WRITER_IDLE_SECONDS", 0.05)
    async with await AsyncActivityLog.open("idle", tmp_path, fsync="batch") as log:
        assert await log.append(b"first") == 1
        for _ in range(100):
            if not _writer_threads("idle"):
                break
            await asyncio.sleep(0.02)
        assert _writer_threads("idle") == []

        assert await log.append(b"after the pause") == 2
        assert len(_writer_threads("idle")) == 1
    assert _writer_threads("idle") == []
    with ActivityLog.open("idle", tmp_path) as reopened:
        assert list(reopened.read()) == [(1, b"first"), (2, b"after the pause")]


async def test_cancelled_append_still_written(tmp_path):
    async with await AsyncActivityLog.open("alice", tmp_path, fsync="batch") as log:
        cancelled = asyncio.ensure_future(log.append(b"cancelled while queued"))
        await asyncio.sleep(0)
        cancelled.cancel()
        assert await log.append(b"next") == 2
        assert cancelled.cancelled()
        assert list(log.read()) == [(1, b"cancelled while queued"), (2, b"next")]


async def test_failed_commit_raises_in_every_append(tmp_path, monkeypatch):
    log = await AsyncActivityLog.open("alice", tmp_path, fsync="batch")

    def failing_commit(payloads):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(log._log, "_commit", failing_commit)
    results = await asyncio.gather(*(log.append(b"entry %d" % number) for number in range(5)), return_exceptions=True)
    await log.close()

    assert len(results) == 5
    for result in results:
        assert isinstance(result, OSError)
        assert "No space left" in str(result)

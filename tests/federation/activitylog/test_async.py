"""AsyncActivityLog: one writer task serving many appending tasks."""

from __future__ import annotations

import asyncio

import pytest

from federation.activitylog import ActivityLog, AsyncActivityLog


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

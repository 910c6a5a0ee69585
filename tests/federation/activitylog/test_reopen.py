"""Reopening a log rebuilds it exactly from the segment files."""

from __future__ import annotations

from federation.activitylog import ActivityLog
from federation.activitylog.format import encode_segment_header
from federation.activitylog.names import segment_name

from tests.federation.activitylog.support import entry


def _fill(directory, entries, segment_size):
    with ActivityLog.open("alice", directory, segment_size=segment_size) as log:
        for payload in entries:
            log.append(payload)
        return log.tip, log.segment_lengths, log.segment_paths


def test_reopen_rebuilds_history(tmp_path):
    entries = [b"", b"\x00" * 7, bytes(range(256)), *(entry(number) for number in range(40))]
    _fill(tmp_path, entries, segment_size=400)

    with ActivityLog.open("alice", tmp_path, segment_size=400) as log:
        assert log.tip == len(entries)
        assert list(log.read()) == list(enumerate(entries, start=1))
        assert log.append(b"one more") == len(entries) + 1

    with ActivityLog.open("alice", tmp_path) as log:
        assert list(log.read(len(entries))) == [(len(entries), entries[-1]), (len(entries) + 1, b"one more")]


def test_reopen_rebuilds_segment_shape(tmp_path):
    entries = [entry(number) * (1 + number % 5) for number in range(70)]
    tip, lengths, paths = _fill(tmp_path, entries, segment_size=500)

    with ActivityLog.open("alice", tmp_path, segment_size=500) as log:
        assert log.tip == tip
        assert log.segment_lengths == lengths
        assert log.segment_paths == paths
    assert len(lengths) > 5


def test_reopen_reads_from_every_position(tmp_path):
    # More than one index interval per segment, so reads start between indexed records.
    entries = [entry(number) for number in range(300)]
    _fill(tmp_path, entries, segment_size=6000)

    with ActivityLog.open("alice", tmp_path) as log:
        for start in range(1, 302, 7):
            assert list(log.read(start, start + 3)) == [(seq, entries[seq - 1]) for seq in range(start, min(start + 3, 301))]


def test_reopen_orders_segments_numerically_past_999999(tmp_path):
    # A log whose oldest segment is 999998, as after old segments were removed.
    (tmp_path / segment_name("alice", 999998)).write_bytes(encode_segment_header("alice", 999998, 1))
    entries = [b"one", b"two", b"three", b"four"]

    with ActivityLog.open("alice", tmp_path, segment_size=1) as log:
        for payload in entries:
            log.append(payload)

    with ActivityLog.open("alice", tmp_path, segment_size=1) as log:
        names = [path.name for path in log.segment_paths]
        assert names == ["alice-999998.log", "alice-999999.log", "alice-1000000.log", "alice-1000001.log"]
        assert names != sorted(names)
        assert log.segment_lengths == [1, 1, 1, 1]
        assert list(log.read()) == list(enumerate(entries, start=1))
        log.append(b"five")
        assert log.segment_paths[-1].name == "alice-1000002.log"


def test_reopen_ignores_other_actors_files(tmp_path):
    mine = [entry(number) for number in range(12)]
    with (
        ActivityLog.open("alice", tmp_path, segment_size=150) as alice,
        ActivityLog.open("alice-2", tmp_path, segment_size=150) as alice_2,
        ActivityLog.open("bob", tmp_path, segment_size=150) as bob,
    ):
        for number, payload in enumerate(mine):
            alice.append(payload)
            alice_2.append(b"alice-2 " + payload)
            bob.append(b"bob " + payload)
            bob.append(b"bob again %d" % number)
        lengths = alice.segment_lengths

    for name in ("alice-000001.log.corrupt", "alice-12.log", "alice-0000001.log", "alice.txt", "notes"):
        (tmp_path / name).write_bytes(b"not a segment")

    with ActivityLog.open("alice", tmp_path, segment_size=150) as log:
        assert list(log.read()) == list(enumerate(mine, start=1))
        assert log.segment_lengths == lengths
        assert all(path.name.startswith("alice-0") for path in log.segment_paths)

"""Segment rotation: when a new segment starts and what ends up in it."""

from __future__ import annotations

from federation.activitylog import ActivityLog
from federation.activitylog.format import RECORD_OVERHEAD, segment_header_size

from tests.federation.activitylog.support import entry


def test_default_options_keep_one_segment(tmp_path):
    with ActivityLog.open("alice", tmp_path) as log:
        for number in range(3):
            log.append(entry(number))

        assert log.segment_lengths == [3]
        assert [path.name for path in log.segment_paths] == ["alice-000000.log"]
        assert log.tip == 3


def test_rotation_fires_at_threshold(tmp_path):
    two_records = segment_header_size("alice") + 2 * (RECORD_OVERHEAD + 100)

    with ActivityLog.open("alice", tmp_path / "exact", segment_size=two_records) as log:
        log.append(b"a" * 100)
        log.append(b"b" * 100)
        assert log.segment_lengths == [2]
        log.append(b"c" * 100)
        assert log.segment_lengths == [2, 1]
        assert log.segment_paths[0].stat().st_size == two_records

    with ActivityLog.open("alice", tmp_path / "one-byte-more", segment_size=two_records + 1) as log:
        for payload in (b"a" * 100, b"b" * 100, b"c" * 100):
            log.append(payload)
        assert log.segment_lengths == [3]
        log.append(b"d" * 100)
        assert log.segment_lengths == [3, 1]


def test_rotated_entries_read_back_in_order(tmp_path):
    entries = [entry(number) for number in range(60)]

    with ActivityLog.open("alice", tmp_path, segment_size=300) as log:
        for payload in entries:
            log.append(payload)

        assert len(log.segment_lengths) > 5
        assert sum(log.segment_lengths) == 60
        assert list(log.read()) == list(enumerate(entries, start=1))
        assert list(log.read(17, 33)) == [(seq, entries[seq - 1]) for seq in range(17, 33)]
        assert list(log.read(60)) == [(60, entries[59])]
        assert list(log.read(61)) == []


def test_huge_entry_stays_alone_in_segment(tmp_path):
    huge = bytes(range(256)) * 40

    with ActivityLog.open("alice", tmp_path / "empty-log", segment_size=1000) as log:
        log.append(huge)
        assert log.segment_lengths == [1]
        log.append(b"next")
        assert log.segment_lengths == [1, 1]

    with ActivityLog.open("alice", tmp_path / "full-segment", segment_size=1000) as log:
        while log.segment_paths[0].stat().st_size < 1000:
            log.append(b"s" * 50)
        filled = log.segment_lengths[0]
        log.append(huge)
        assert log.segment_lengths == [filled, 1]
        assert log.segment_paths[1].stat().st_size == segment_header_size("alice") + RECORD_OVERHEAD + len(huge)
        log.append(b"next")
        assert log.segment_lengths == [filled, 1, 1]


def test_append_after_huge_entry_keeps_order(tmp_path):
    huge = b"h" * 5000
    entries = [b"before", huge, b"after", b"later"]

    with ActivityLog.open("alice", tmp_path, segment_size=1000) as log:
        seqs = [log.append(payload) for payload in entries]
        assert seqs == [1, 2, 3, 4]
        assert list(log.read()) == list(enumerate(entries, start=1))

    with ActivityLog.open("alice", tmp_path, segment_size=1000) as log:
        assert list(log.read()) == list(enumerate(entries, start=1))
        assert list(log.read(2, 4)) == [(2, huge), (3, b"after")]


def test_tip_monotonic_across_rotations_and_reopen(tmp_path):
    tips = []
    for _round in range(3):
        with ActivityLog.open("alice", tmp_path, segment_size=200) as log:
            tips.append(log.tip)
            for number in range(25):
                seq = log.append(entry(number))
                assert seq == log.tip
                tips.append(log.tip)
            segments = len(log.segment_lengths)

    assert segments > 3
    assert tips == sorted(tips)
    distinct = list(dict.fromkeys(tips))
    assert distinct == list(range(0, 76))

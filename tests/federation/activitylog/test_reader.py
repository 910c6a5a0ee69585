"""ActivityLogReader: following a log that a writer, here or in another process, keeps appending to."""

from __future__ import annotations

import time

import pytest

from federation.activitylog import ActivityLog, ActivityLogReader, CorruptSegmentError
from federation.activitylog.format import encode_record
from federation.activitylog.repair import repair_log

from tests.federation.activitylog.support import entry, flip_byte, record_starts, start_python


def _expected(count, start=0):
    return [(number + 1, entry(number)) for number in range(start, start + count)]


def test_missing_directory_empty(tmp_path):
    with ActivityLogReader.open("alice", tmp_path / "not-yet") as reader:
        assert reader.tip == 0
        assert list(reader.read()) == []
        assert reader.segment_lengths == []


def test_invalid_actor_id_rejected(tmp_path):
    with pytest.raises(ValueError, match="invalid actor id"):
        ActivityLogReader.open("Alice/../x", tmp_path)


def test_reader_follows_rotations(tmp_path):
    with ActivityLog.open("alice", tmp_path, segment_size=300, fsync="never") as log:
        reader = ActivityLogReader.open("alice", tmp_path)
        assert reader.tip == 0

        for number in range(10):
            log.append(entry(number))
        assert reader.tip == 0
        assert reader.refresh() == 10
        assert list(reader.read()) == _expected(10)

        for number in range(10, 45):
            log.append(entry(number))
        assert reader.refresh() == 45
        assert reader.segment_lengths == log.segment_lengths
        assert len(reader.segment_lengths) > 2
        assert list(reader.read(40)) == _expected(6, start=39)
        assert list(reader.read(3, 5)) == _expected(2, start=2)


def test_partial_record_left_out(tmp_path):
    with ActivityLog.open("alice", tmp_path, fsync="never") as log:
        log.append(entry(0))
        path = log.segment_paths[0]
    record = encode_record(2, b"a record written in two parts")
    with open(path, "ab") as file:
        file.write(record[:25])
    size = path.stat().st_size

    reader = ActivityLogReader.open("alice", tmp_path)
    assert reader.tip == 1
    assert path.stat().st_size == size  # a reader never truncates

    with open(path, "ab") as file:
        file.write(record[25:])
    assert reader.refresh() == 2
    assert list(reader.read(2)) == [(2, b"a record written in two parts")]


def test_sealed_damage_on_open(tmp_path):
    with ActivityLog.open("alice", tmp_path, segment_size=200, fsync="never") as log:
        payloads = [entry(number) for number in range(12)]
        for payload in payloads:
            log.append(payload)
        first = log.segment_paths[0]
        in_first = log.segment_lengths[0]
    offset = record_starts("alice", payloads[:in_first])[1]
    flip_byte(first, offset + 4)

    with pytest.raises(CorruptSegmentError) as raised:
        ActivityLogReader.open("alice", tmp_path)
    assert (raised.value.path, raised.value.offset) == (first, offset)


def test_damage_after_open(tmp_path):
    with ActivityLog.open("alice", tmp_path, fsync="never") as log:
        for number in range(3):
            log.append(entry(number))
        path = log.segment_paths[0]
    reader = ActivityLogReader.open("alice", tmp_path)
    with open(path, "ab") as file:
        file.write(b"\xff" * 20 + encode_record(4, b"after the damage"))

    with pytest.raises(CorruptSegmentError) as raised:
        reader.refresh()
    assert raised.value.offset == path.stat().st_size - 20 - len(encode_record(4, b"after the damage"))
    assert reader.tip == 3
    assert list(reader.read()) == _expected(3)


def test_reader_after_repair(tmp_path):
    with ActivityLog.open("alice", tmp_path, segment_size=200, fsync="never") as log:
        for number in range(20):
            log.append(entry(number))
        second = log.segment_paths[1]
    reader = ActivityLogReader.open("alice", tmp_path)
    assert reader.tip == 20
    flip_byte(second, second.stat().st_size - 5)
    flip_byte(second, 40)

    _moves, report = repair_log(tmp_path, "alice")

    assert reader.refresh() == report.tip < 20
    assert list(reader.read()) == _expected(report.tip)


_CHILD_WRITER = """
import sys
from federation.activitylog import ActivityLog
from tests.federation.activitylog.support import entry
with ActivityLog.open("alice", sys.argv[1], segment_size=4096, fsync="never") as log:
    for number in range(3000):
        log.append(entry(number))
print("done", flush=True)
"""


def test_reader_follows_other_process(tmp_path):
    child = start_python(_CHILD_WRITER, str(tmp_path))
    reader = ActivityLogReader.open("alice", tmp_path)
    tips = []
    try:
        deadline = time.monotonic() + 60
        while child.poll() is None and time.monotonic() < deadline:
            tips.append(reader.refresh())
            seen = list(reader.read(max(1, tips[-1] - 50)))
            assert seen == [(seq, entry(seq - 1)) for seq, _payload in seen]
    finally:
        output, _ = child.communicate(timeout=60)
    assert output.strip() == "done"

    assert tips == sorted(tips)
    assert reader.refresh() == 3000
    assert list(reader.read()) == _expected(3000)

"""Crash recovery and damage detection on open."""

from __future__ import annotations

import logging
import shutil

import pytest

from federation.activitylog import ActivityLog, CorruptSegmentError
from federation.activitylog.format import ACTOR_ID_OFFSET, RECORD_OVERHEAD, segment_header_size

from tests.federation.activitylog.support import entry, flip_byte, record_starts, snapshot

LOGGER = "federation.activitylog"


def _write_log(directory, entries, segment_size=1 << 30):
    with ActivityLog.open("alice", directory, segment_size=segment_size, fsync="never") as log:
        for payload in entries:
            log.append(payload)
        return log.segment_paths, log.segment_lengths


def _containing_record(offset, starts):
    return max(start for start in starts if start <= offset)


def test_torn_last_record_dropped_at_every_cut(tmp_path, caplog):
    entries = [b"first", b"the second entry", b"the third and last entry"]
    (path,), _lengths = _write_log(tmp_path / "source", entries)
    data = path.read_bytes()
    last_start = record_starts("alice", entries)[-1]

    for cut in range(last_start + 1, len(data)):
        directory = tmp_path / f"cut-{cut}"
        directory.mkdir()
        (directory / path.name).write_bytes(data[:cut])
        caplog.clear()

        with caplog.at_level(logging.WARNING, logger=LOGGER), ActivityLog.open("alice", directory) as log:
            assert log.tip == 2
            assert list(log.read()) == [(1, entries[0]), (2, entries[1])]
            assert log.append(b"after the crash") == 3

        warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert str(directory / path.name) in warnings[0].getMessage()
        assert f"{cut - last_start} bytes" in warnings[0].getMessage()
        assert (directory / path.name).read_bytes()[:last_start] == data[:last_start]


def test_torn_tail_of_zeros_dropped(tmp_path, caplog):
    entries = [entry(number) for number in range(5)]
    (path,), _lengths = _write_log(tmp_path, entries)
    size = path.stat().st_size
    with open(path, "ab") as file:
        file.write(bytes(3 * (RECORD_OVERHEAD + 30)))

    with caplog.at_level(logging.WARNING, logger=LOGGER), ActivityLog.open("alice", tmp_path) as log:
        assert list(log.read()) == list(enumerate(entries, start=1))
    assert path.stat().st_size == size
    assert f"{3 * (RECORD_OVERHEAD + 30)} bytes" in caplog.text


def test_flipped_byte_in_sealed_segment_raises(tmp_path):
    entries = [entry(number) for number in range(6)]
    segment_size = record_starts("alice", entries[:3])[-1] + 1
    paths, lengths = _write_log(tmp_path, entries, segment_size)
    assert lengths[0] == 3
    assert len(lengths) > 1
    sealed = paths[0]
    original = sealed.read_bytes()
    starts = record_starts("alice", entries[:3])

    for offset in range(len(original)):
        flip_byte(sealed, offset)
        damaged = snapshot(tmp_path)

        with pytest.raises(CorruptSegmentError) as caught:
            ActivityLog.open("alice", tmp_path)

        assert caught.value.path == sealed
        if offset < starts[0]:
            assert caught.value.offset < starts[0]
        else:
            assert caught.value.offset == _containing_record(offset, starts)
        assert f"byte offset {caught.value.offset}" in str(caught.value)
        assert snapshot(tmp_path) == damaged
        sealed.write_bytes(original)


def test_flipped_byte_mid_newest_segment_raises(tmp_path):
    entries = [entry(number) for number in range(4)]
    (path,), _lengths = _write_log(tmp_path, entries)
    starts = record_starts("alice", entries)
    flip_byte(path, starts[1] + RECORD_OVERHEAD + 2)
    damaged = snapshot(tmp_path)

    with pytest.raises(CorruptSegmentError) as caught:
        ActivityLog.open("alice", tmp_path)

    assert caught.value.offset == starts[1]
    assert "payload CRC mismatch" in caught.value.reason
    assert snapshot(tmp_path) == damaged


def test_flipped_length_mid_newest_segment_raises(tmp_path):
    entries = [entry(number) for number in range(4)]
    (path,), _lengths = _write_log(tmp_path, entries)
    starts = record_starts("alice", entries)
    # The high byte of the length: the record now claims to run past the end of the file.
    flip_byte(path, starts[1] + 3)

    with pytest.raises(CorruptSegmentError) as caught:
        ActivityLog.open("alice", tmp_path)

    assert caught.value.offset == starts[1]
    assert "record header check failed" in caught.value.reason


def test_flipped_byte_in_last_record_dropped_as_torn(tmp_path, caplog):
    entries = [entry(number) for number in range(4)]
    (path,), _lengths = _write_log(tmp_path, entries)
    starts = record_starts("alice", entries)
    flip_byte(path, path.stat().st_size - 1)

    with caplog.at_level(logging.WARNING, logger=LOGGER), ActivityLog.open("alice", tmp_path) as log:
        assert log.tip == 3
    assert path.stat().st_size == starts[3]
    assert "Dropped a torn record" in caplog.text


def test_gap_in_segment_numbers_raises(tmp_path):
    entries = [entry(number) for number in range(9)]
    paths, lengths = _write_log(tmp_path, entries, segment_size=150)
    assert len(paths) >= 3
    paths[1].unlink()
    damaged = snapshot(tmp_path)

    with pytest.raises(CorruptSegmentError) as caught:
        ActivityLog.open("alice", tmp_path)

    assert caught.value.path == paths[2]
    assert caught.value.offset == 0
    assert "segment 000001 is missing" in caught.value.reason
    assert snapshot(tmp_path) == damaged


def test_segment_of_another_actor_raises(tmp_path):
    _write_log(tmp_path, [entry(number) for number in range(9)], segment_size=150)
    with ActivityLog.open("alicf", tmp_path, segment_size=150) as other:
        for number in range(9):
            other.append(entry(number))
    shutil.copyfile(tmp_path / "alicf-000001.log", tmp_path / "alice-000001.log")

    with pytest.raises(CorruptSegmentError) as caught:
        ActivityLog.open("alice", tmp_path)

    assert caught.value.path == tmp_path / "alice-000001.log"
    assert caught.value.offset == ACTOR_ID_OFFSET
    assert "'alicf'" in caught.value.reason


def test_sealed_segment_cut_short_raises(tmp_path):
    entries = [entry(number) for number in range(9)]
    paths, _lengths = _write_log(tmp_path, entries, segment_size=150)
    data = paths[0].read_bytes()
    paths[0].write_bytes(data[:-3])

    with pytest.raises(CorruptSegmentError) as caught:
        ActivityLog.open("alice", tmp_path)

    assert caught.value.path == paths[0]
    assert caught.value.offset >= segment_header_size("alice")


def test_duplicated_record_raises(tmp_path):
    entries = [entry(number) for number in range(4)]
    (path,), _lengths = _write_log(tmp_path, entries)
    data = path.read_bytes()
    last_start = record_starts("alice", entries)[-1]
    # A whole, valid record repeated at the end: its CRCs match, but a crash cannot write a sequence number twice.
    path.write_bytes(data + data[last_start:])

    with pytest.raises(CorruptSegmentError) as caught:
        ActivityLog.open("alice", tmp_path)

    assert caught.value.offset == len(data)
    assert "sequence number 4, expected 5" in caught.value.reason

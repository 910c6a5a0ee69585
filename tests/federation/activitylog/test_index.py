"""Segment index files: a reopen that trusts them only as far as the segment's bytes agree."""

from __future__ import annotations

import logging
import shutil
import struct
from dataclasses import replace
import zlib

import pytest
from crc32c import crc32c

from federation.activitylog import ActivityLog, CorruptSegmentError, log as log_module
from federation.activitylog.format import CHAIN_RESIDUE, RECORD_OVERHEAD
from federation.activitylog.index import SegmentIndex, write_index
from federation.activitylog.names import index_path
from federation.activitylog.repair import repair_log
from federation.activitylog.scan import INDEX_INTERVAL, inspect_log

from tests.federation.activitylog.support import entry, flip_byte, record_starts, snapshot

LOGGER = "federation.activitylog"


def _write_log(directory, count, segment_size=1 << 30, start=0):
    with ActivityLog.open("alice", directory, segment_size=segment_size, fsync="never") as log:
        for number in range(start, start + count):
            log.append(entry(number))
        return log.segment_paths, log.segment_lengths


def _indexed(directory):
    return [(scan.indexed_size, scan.valid_size) for scan in inspect_log(directory, "alice").segments]


def test_index_written_and_used(tmp_path):
    paths, lengths = _write_log(tmp_path, 40, segment_size=300)
    assert len(paths) > 2
    assert all(index_path(path).is_file() for path in paths)

    assert all(indexed == valid for indexed, valid in _indexed(tmp_path))
    with ActivityLog.open("alice", tmp_path) as log:
        assert log.segment_lengths == lengths
        assert list(log.read()) == [(number + 1, entry(number)) for number in range(40)]


def test_scan_without_index_agrees(tmp_path):
    _write_log(tmp_path, 200, segment_size=2000)
    with_index = inspect_log(tmp_path, "alice")
    without = inspect_log(tmp_path, "alice", use_index=False)

    assert [scan.indexed_size for scan in without.segments] == [0] * len(without.segments)
    for indexed, walked in zip(with_index.segments, without.segments, strict=True):
        assert (indexed.count, indexed.valid_size, indexed.last_offset) == (walked.count, walked.valid_size, walked.last_offset)
        assert list(indexed.index) == list(walked.index)


def test_flipped_byte_under_index(tmp_path):
    paths, _lengths = _write_log(tmp_path, 12, segment_size=200)
    sealed = paths[0]
    with ActivityLog.open("alice", tmp_path) as log:
        first_entries = [payload for _seq, payload in log.read(1, 1 + log.segment_lengths[0])]
    starts = record_starts("alice", first_entries)
    flip_byte(sealed, starts[1] + RECORD_OVERHEAD + 2)
    before = snapshot(tmp_path)

    with pytest.raises(CorruptSegmentError) as raised:
        ActivityLog.open("alice", tmp_path)

    assert raised.value.path == sealed
    assert raised.value.offset == starts[1]
    assert "payload CRC mismatch" in raised.value.reason
    assert snapshot(tmp_path) == before


def test_damaged_index_ignored(tmp_path, caplog):
    paths, lengths = _write_log(tmp_path, 30, segment_size=400)
    flip_byte(index_path(paths[0]), 30)

    with caplog.at_level(logging.INFO, logger=LOGGER):
        state = inspect_log(tmp_path, "alice")
    assert state.segments[0].indexed_size == 0
    assert state.segments[0].count == lengths[0]
    assert any("Ignoring the index" in record.getMessage() and "CRC" in record.getMessage() for record in caplog.records)

    with ActivityLog.open("alice", tmp_path) as log:
        assert log.segment_lengths == lengths
        assert log.tip == 30
    # The open wrote the sealed segment's index again.
    assert all(indexed == valid for indexed, valid in _indexed(tmp_path))


def test_stale_index_covers_a_prefix(tmp_path):
    (path,), _lengths = _write_log(tmp_path, 10)
    stale = index_path(path).read_bytes()
    _write_log(tmp_path, 5, start=10)
    index_path(path).write_bytes(stale)

    (scan,) = inspect_log(tmp_path, "alice").segments
    assert 0 < scan.indexed_size < scan.valid_size
    with ActivityLog.open("alice", tmp_path) as log:
        assert list(log.read()) == [(number + 1, entry(number)) for number in range(15)]


def test_index_past_torn_tail(tmp_path, caplog):
    (path,), _lengths = _write_log(tmp_path, 6)
    data = path.read_bytes()
    path.write_bytes(data[:-3])

    with caplog.at_level(logging.WARNING, logger=LOGGER), ActivityLog.open("alice", tmp_path) as log:
        assert list(log.read()) == [(number + 1, entry(number)) for number in range(5)]
    assert any("torn record" in record.getMessage() for record in caplog.records)


def test_other_segment_index_ignored(tmp_path):
    paths, lengths = _write_log(tmp_path, 20, segment_size=200)
    shutil.copyfile(index_path(paths[0]), index_path(paths[1]))

    state = inspect_log(tmp_path, "alice")
    assert state.segments[1].indexed_size == 0
    assert [scan.count for scan in state.segments] == lengths


def test_index_of_other_records_ignored(tmp_path):
    (path,), _lengths = _write_log(tmp_path, 8)
    # An index of a log whose seven records end inside our eighth record.
    other = tmp_path / "other"
    with ActivityLog.open("alice", other, fsync="never") as log:
        for number in range(7):
            log.append(entry(number) + b"xx")
    shutil.copyfile(index_path(other / path.name), index_path(path))

    (scan,) = inspect_log(tmp_path, "alice").segments
    assert scan.indexed_size == 0
    assert scan.count == 8


def test_index_with_wrong_count_ignored(tmp_path):
    (path,), _lengths = _write_log(tmp_path, 8)
    (scan,) = inspect_log(tmp_path, "alice").segments
    write_index(path, replace(scan_index(scan), count=7))

    (rescanned,) = inspect_log(tmp_path, "alice").segments
    assert rescanned.indexed_size == 0
    assert rescanned.count == 8


def scan_index(scan):
    return SegmentIndex(scan.number, scan.base_seq, scan.valid_size, scan.count, scan.last_offset, INDEX_INTERVAL, scan.index)


def test_index_checkpoint_after_crash(tmp_path, monkeypatch):
    monkeypatch.setattr(log_module, "INDEX_EVERY_BYTES", 500)
    crashed = tmp_path / "crashed"
    log = ActivityLog.open("alice", tmp_path / "live", fsync="never")
    try:
        for number in range(100):
            log.append(entry(number))
        # The files as a crash would leave them: the index of the last checkpoint.
        shutil.copytree(tmp_path / "live", crashed, ignore=shutil.ignore_patterns("*.lock"))
    finally:
        log.close()

    (scan,) = inspect_log(crashed, "alice").segments
    assert scan.valid_size - 500 - 64 < scan.indexed_size < scan.valid_size
    with ActivityLog.open("alice", crashed) as reopened:
        assert list(reopened.read()) == [(number + 1, entry(number)) for number in range(100)]


def test_leftover_index_temp_removed(tmp_path):
    (path,), _lengths = _write_log(tmp_path, 3)
    leftover = index_path(path).with_name(index_path(path).name + ".tmp")
    leftover.write_bytes(b"half an index")

    with ActivityLog.open("alice", tmp_path) as log:
        assert log.tip == 3
    assert not leftover.exists()


def test_repair_removes_cut_index(tmp_path):
    paths, _lengths = _write_log(tmp_path, 20, segment_size=200)
    flip_byte(paths[1], len(paths[1].read_bytes()) - 30)

    moves, report = repair_log(tmp_path, "alice")

    assert moves
    assert report.status == "OK"
    assert not index_path(paths[1]).exists()
    with ActivityLog.open("alice", tmp_path) as log:
        assert log.tip == report.tip


# Format version 1, built here from FORMAT.md's description rather than with
# the package's encoder: CRC-32 as zlib computes it everywhere.
def _version_1_segment(actor_id: str, number: int, base_seq: int, entries: list[bytes]) -> bytes:
    actor = actor_id.encode()
    fields = struct.pack("<4sHBBQQ", b"RAAL", 1, len(actor), 0, number, base_seq) + actor
    data = fields + struct.pack("<I", zlib.crc32(fields))
    for seq, payload in enumerate(entries, start=base_seq):
        record_fields = struct.pack("<IIQ", len(payload), zlib.crc32(payload), seq)
        data += struct.pack("<I", zlib.crc32(record_fields)) + record_fields + payload
    return data


def test_version_1_log_extended(tmp_path):
    old = [entry(number) for number in range(4)]
    segment = tmp_path / "alice-000000.log"
    segment.write_bytes(_version_1_segment("alice", 0, 1, old))

    with ActivityLog.open("alice", tmp_path, segment_size=10_000) as log:
        assert list(log.read()) == [(seq, payload) for seq, payload in enumerate(old, start=1)]
        assert log.append(b"appended to the old segment") == 5

    # The active segment keeps version 1 framing, so an old reader reads it too.
    assert segment.read_bytes() == _version_1_segment("alice", 0, 1, [*old, b"appended to the old segment"])

    with ActivityLog.open("alice", tmp_path, segment_size=1) as log:
        assert log.append(b"in a new segment") == 6
        new_segment = log.segment_paths[-1]
    assert struct.unpack_from("<H", new_segment.read_bytes(), 4) == (2,)
    with ActivityLog.open("alice", tmp_path) as log:
        assert [seq for seq, _payload in log.read()] == [1, 2, 3, 4, 5, 6]


def test_version_1_damage_detected(tmp_path):
    old = [entry(number) for number in range(3)]
    (tmp_path / "alice-000000.log").write_bytes(_version_1_segment("alice", 0, 1, old))
    (tmp_path / "alice-000001.log").write_bytes(_version_1_segment("alice", 1, 4, [b"later"]))
    flip_byte(tmp_path / "alice-000000.log", record_starts("alice", old)[1] + RECORD_OVERHEAD)

    with pytest.raises(CorruptSegmentError) as raised:
        ActivityLog.open("alice", tmp_path)
    assert raised.value.offset == record_starts("alice", old)[1]


def test_segment_crc_chains_to_residue(tmp_path):
    entries = [entry(number) for number in range(6)]
    with ActivityLog.open("alice", tmp_path, fsync="never") as log:
        for payload in entries:
            log.append(payload)
        (path,) = log.segment_paths
    data = path.read_bytes()

    boundaries = [*record_starts("alice", entries), len(data)]
    for boundary in boundaries:
        assert crc32c(data[:boundary]) == CHAIN_RESIDUE, boundary
    assert crc32c(data[: boundaries[2] - 1]) != CHAIN_RESIDUE

"""Segment index files: what a reopen needs to know of a segment without checking each record.

An index file ``<actor_id>-NNNNNN.idx`` sits beside a version 2 segment. It
stores how many records the segment's first ``covered_end`` bytes hold, where
every INDEX_INTERVAL-th of them starts, and where the last one starts. A
reopen that finds a matching index computes one CRC over the covered bytes,
at the speed of the hardware CRC instruction, instead of walking the records
in Python. The records after ``covered_end`` are checked as before.

The index is only a shortcut. It is written without fsync, and a reopen
ignores an index that fails any check, or that the segment's bytes do not
confirm, and then checks every record. So a stale, torn or damaged index
costs time, never an entry, and damage inside the covered bytes is still
reported at the offset of the damaged record.
"""

from __future__ import annotations

import logging
import os
import struct
import sys
from array import array
from dataclasses import dataclass
from pathlib import Path

from crc32c import crc32c

from .names import TEMP_SUFFIX, index_path

logger = logging.getLogger(__name__)

INDEX_MAGIC = b"RAAI"
INDEX_VERSION = 1
# Magic, version, reserved, offset interval, segment number, base sequence
# number, covered bytes, record count, offset of the last covered record.
_INDEX_HEADER = struct.Struct("<4sHHIQQQQQ")
_INDEX_CRC = struct.Struct("<I")


@dataclass(frozen=True)
class SegmentIndex:
    """The contents of an index file: the first ``covered_end`` bytes of a segment, in summary."""

    number: int
    base_seq: int
    covered_end: int
    count: int
    last_offset: int
    interval: int
    offsets: array


def write_index(segment_path: Path, index: SegmentIndex) -> None:
    """Write ``index`` beside its segment, replacing the previous index in one rename.

    The file is not synced: after a crash the previous index or none may be
    found, and a reopen then checks more records itself.
    """
    offsets = index.offsets
    if sys.byteorder != "little":
        offsets = array("Q", offsets)
        offsets.byteswap()
    header = _INDEX_HEADER.pack(
        INDEX_MAGIC,
        INDEX_VERSION,
        0,
        index.interval,
        index.number,
        index.base_seq,
        index.covered_end,
        index.count,
        index.last_offset,
    )
    body = header + offsets.tobytes()
    path = index_path(segment_path)
    temp_path = path.with_name(path.name + TEMP_SUFFIX)
    with open(temp_path, "wb") as file:
        file.write(body)
        file.write(_INDEX_CRC.pack(crc32c(body)))
    os.replace(temp_path, path)


def remove_index(segment_path: Path) -> None:
    index_path(segment_path).unlink(missing_ok=True)


def load_index(segment_path: Path, number: int, base_seq: int, header_size: int, file_size: int) -> SegmentIndex | None:
    """Return the index of a segment if its file is present and consistent with the segment, else None.

    Only the index file itself is checked here; whether its CRC matches the
    segment's bytes is for the caller to find out while reading them.
    """
    path = index_path(segment_path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        logger.info("Ignoring the index %s, which cannot be read: %s", path, error)
        return None

    problem = _check(data, number, base_seq, header_size, file_size)
    if isinstance(problem, str):
        logger.info("Ignoring the index %s: %s; every record of the segment is checked instead", path, problem)
        return None
    return problem


def _check(data: bytes, number: int, base_seq: int, header_size: int, file_size: int) -> SegmentIndex | str:
    """Decode an index file, or return why it does not fit the segment."""
    fixed = _INDEX_HEADER.size + _INDEX_CRC.size
    if len(data) < fixed:
        return f"the file is {len(data)} bytes long, shorter than an index header"
    (stored_crc,) = _INDEX_CRC.unpack_from(data, len(data) - _INDEX_CRC.size)
    if crc32c(memoryview(data)[: -_INDEX_CRC.size]) != stored_crc:
        return "the index file's CRC does not match"
    magic, version, _reserved, interval, index_number, index_base_seq, covered_end, count, last_offset = (
        _INDEX_HEADER.unpack_from(data)
    )
    if magic != INDEX_MAGIC or version != INDEX_VERSION:
        return f"unknown index format {magic!r} version {version}"
    if (index_number, index_base_seq) != (number, base_seq):
        return f"it describes segment {index_number} from sequence number {index_base_seq}"
    if not header_size <= covered_end <= file_size:
        return f"it covers {covered_end} bytes, but the segment has {file_size}"
    listed = data[_INDEX_HEADER.size : -_INDEX_CRC.size]
    if len(listed) % 8:
        return f"its list of record offsets is {len(listed)} bytes long, not a multiple of 8"
    offsets = array("Q")
    offsets.frombytes(listed)
    if sys.byteorder != "little":
        offsets.byteswap()
    expected_offsets = -(-count // interval) if interval > 0 else -1
    if len(offsets) != expected_offsets or (count and offsets[0] != header_size):
        return f"it lists {len(offsets)} record offsets for {count} records"
    return SegmentIndex(number, base_seq, covered_end, count, last_offset, interval, offsets)

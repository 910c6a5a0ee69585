"""Read and check segment files: the recovery scan behind open, verify and repair.

A scan walks every record of every segment and checks its header CRC, its
sequence number and its payload CRC. The first record that fails is a
*problem*. In the newest segment a problem is a torn tail when no non-zero
byte follows the failing record: that is what a crash in the middle of an
append leaves behind. Any other problem is damage, reported as a
CorruptSegmentError that names the file and the byte offset.

A version 2 segment with an index file (see index.py) is checked faster:
one CRC-32C over the bytes the index covers stands for the checks of the
records in them (see CHAIN_RESIDUE in format.py), and only the records after
those bytes are walked one by one. When that CRC or anything else about the
index does not match, the scan walks every record, so damage is reported
exactly as without an index.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from crc32c import crc32c

from .errors import CorruptSegmentError
from .format import (
    ACTOR_ID_OFFSET,
    BASE_SEQ_OFFSET,
    CHAIN_RESIDUE,
    FORMAT_VERSION,
    RECORD_OVERHEAD,
    SEGMENT_NUMBER_OFFSET,
    V1_HEADER_SIZE,
    V1_RECORD_HEADER,
    LENGTH_CHECK_MASK,
    V2_HEADER_SIZE,
    V2_RECORD_HEADER,
    FormatError,
    SegmentHeader,
    decode_segment_header,
    segment_header_size,
)
from .index import SegmentIndex, load_index
from .names import ACTOR_ID_MAX_LENGTH, list_segments

logger = logging.getLogger(__name__)

# Every INDEX_INTERVAL-th record's offset is kept in memory, so that a read
# from any sequence number skips at most INDEX_INTERVAL - 1 records.
INDEX_INTERVAL = 64
READ_CHUNK_SIZE = 4 << 20
_MAX_HEADER_SIZE = segment_header_size("x" * ACTOR_ID_MAX_LENGTH)


@dataclass(frozen=True)
class Problem:
    """The first record or header field of a segment that failed a check.

    The bytes from ``offset`` on are a torn tail if the segment is the newest
    and every byte from ``torn_if_zero_from`` to the end of the file is zero.
    ``torn_if_zero_from`` is None when no crash can explain the problem.
    """

    offset: int
    reason: str
    torn_if_zero_from: int | None


@dataclass
class SegmentScan:
    number: int
    path: Path
    base_seq: int
    file_size: int
    header_ok: bool
    version: int = FORMAT_VERSION
    count: int = 0
    valid_size: int = 0
    index: array = field(default_factory=lambda: array("Q"))
    problem: Problem | None = None
    # How many bytes from the start a matching index file vouched for.
    indexed_size: int = 0
    # Byte offset of the last valid record, or 0 when there is none.
    last_offset: int = 0


@dataclass(frozen=True)
class TornTail:
    path: Path
    offset: int
    dropped: int


@dataclass
class LogState:
    """The outcome of scanning one actor's log without changing it.

    ``segments`` are the segments scanned, oldest first; when the log is
    corrupt, the last of them contains the damage. ``unscanned`` are the
    segment files after the damage.
    """

    actor_id: str
    directory: Path
    segments: list[SegmentScan] = field(default_factory=list)
    torn: TornTail | None = None
    corruption: CorruptSegmentError | None = None
    unscanned: list[Path] = field(default_factory=list)

    @property
    def tip(self) -> int:
        """Sequence number of the last valid entry, 0 when there is none."""
        for scan in reversed(self.segments):
            if scan.header_ok:
                return scan.base_seq + scan.count - 1
        return 0

    @property
    def entry_count(self) -> int:
        return sum(scan.count for scan in self.segments)


def inspect_log(directory: Path, actor_id: str, use_index: bool = True) -> LogState:
    """Scan every segment of ``actor_id`` in ``directory`` and classify what is wrong, if anything.

    With ``use_index`` False, index files are ignored and every record is checked.
    """
    state = LogState(actor_id=actor_id, directory=directory)
    listed = list_segments(directory, actor_id)
    expected_seq: int | None = None

    for position, (number, path) in enumerate(listed):
        later = [later_path for _, later_path in listed[position + 1 :]]
        if state.segments and number != state.segments[-1].number + 1:
            missing = state.segments[-1].number + 1
            reason = f"segment {missing:06d} is missing before this one"
            state.corruption = CorruptSegmentError(path, 0, reason, actor_id)
            state.unscanned = [path, *later]
            return state

        scan = scan_segment(path, actor_id, number, expected_seq, use_index)
        state.segments.append(scan)
        if scan.problem is not None:
            _classify_problem(state, scan, newest=not later)
            if state.corruption is not None:
                state.unscanned = later
            return state
        expected_seq = scan.base_seq + scan.count

    return state


def _classify_problem(state: LogState, scan: SegmentScan, newest: bool) -> None:
    problem = scan.problem
    assert problem is not None
    if newest and is_torn_tail(scan):
        state.torn = TornTail(scan.path, problem.offset, scan.file_size - problem.offset)
    else:
        state.corruption = CorruptSegmentError(scan.path, problem.offset, problem.reason, state.actor_id)


def is_torn_tail(scan: SegmentScan) -> bool:
    """Return whether the segment's problem is what a crash in the middle of an append leaves behind."""
    problem = scan.problem
    if problem is None or problem.torn_if_zero_from is None:
        return False
    return _zero_filled(scan.path, problem.torn_if_zero_from, scan.file_size)


def _zero_filled(path: Path, start: int, end: int) -> bool:
    """Return whether every byte of ``path`` in ``[start, end)`` is zero."""
    with open(path, "rb", buffering=0) as file:
        file.seek(start)
        remaining = end - start
        while remaining > 0:
            chunk = file.read(min(remaining, READ_CHUNK_SIZE))
            if not chunk:
                break
            if chunk.count(0) != len(chunk):
                return False
            remaining -= len(chunk)
    return True


def scan_segment(
    path: Path, actor_id: str, number: int, expected_base_seq: int | None, use_index: bool = True
) -> SegmentScan:
    """Check one segment file's header and records.

    ``expected_base_seq`` is the sequence number that must follow the previous
    segment, or None for the oldest segment.
    """
    with open(path, "rb", buffering=0) as file:
        file_size = os.fstat(file.fileno()).st_size
        try:
            data = file.read(_MAX_HEADER_SIZE)
            header = decode_segment_header(data)
            _check_header_fields(header, actor_id, number, expected_base_seq)
        except FormatError as error:
            problem = Problem(error.offset, error.reason, torn_if_zero_from=None)
            return SegmentScan(number, path, 0, file_size, header_ok=False, problem=problem)

        scan = SegmentScan(
            number,
            path,
            header.base_seq,
            file_size,
            header_ok=True,
            version=header.version,
            valid_size=header.size,
        )
        _advise(file, 0, 0, "POSIX_FADV_SEQUENTIAL")
        index = None
        if use_index and header.version >= 2:
            index = load_index(path, number, header.base_seq, header.size, file_size)
        if index is not None and index.interval == INDEX_INTERVAL and _index_matches(file, scan, index):
            _scan_records(file, scan)
            if scan.problem is None:
                return scan
            # Something after the indexed bytes failed. Whether the index was
            # wrong or the segment is damaged, the walk of every record finds out.
            logger.info("Checking every record of %s, whose index could not be confirmed", path)
            scan = replace(scan, count=0, valid_size=header.size, index=array("Q"), problem=None, indexed_size=0, last_offset=0)
        _scan_records(file, scan)
        return scan


def rescan_tail(scan: SegmentScan) -> None:
    """Check the records written to a segment after the valid part that ``scan`` found, and update it."""
    scan.problem = None
    with open(scan.path, "rb", buffering=0) as file:
        scan.file_size = os.fstat(file.fileno()).st_size
        _scan_records(file, scan)


def _index_matches(file, scan: SegmentScan, index: SegmentIndex) -> bool:
    """Take the records that ``index`` covers as checked, if the segment's bytes agree with it.

    The CRC-32C of the covered bytes must be CHAIN_RESIDUE, which it is at
    every record boundary of an intact segment, and the last covered record
    must end at the index's end with the sequence number its count implies.
    """
    checksum = 0
    buffer = bytearray(READ_CHUNK_SIZE)
    offset = 0
    file.seek(0)
    with memoryview(buffer) as view:
        while offset < index.covered_end:
            count = file.readinto(view[: min(len(buffer), index.covered_end - offset)])
            if not count:
                break
            offset += count
            _advise(file, offset, len(buffer), "POSIX_FADV_WILLNEED")
            checksum = crc32c(view[:count], checksum)
    if offset != index.covered_end or checksum != CHAIN_RESIDUE or not _last_record_matches(file, scan, index):
        logger.info("The index of %s does not match the segment; checking every record instead", scan.path)
        return False
    scan.count = index.count
    scan.index = index.offsets
    scan.valid_size = scan.indexed_size = index.covered_end
    scan.last_offset = index.last_offset
    return True


def _last_record_matches(file, scan: SegmentScan, index: SegmentIndex) -> bool:
    if index.count == 0:
        return index.covered_end == scan.valid_size
    header = os.pread(file.fileno(), V2_HEADER_SIZE, index.last_offset)
    if len(header) < V2_HEADER_SIZE:
        return False
    length, seq, length_check = V2_RECORD_HEADER.unpack(header)
    return (
        length_check == length ^ LENGTH_CHECK_MASK
        and seq == scan.base_seq + index.count - 1
        and index.last_offset + RECORD_OVERHEAD + length == index.covered_end
    )


def _advise(file, offset: int, length: int, advice: str) -> None:
    """Pass an access pattern hint to the kernel, where the platform has posix_fadvise."""
    if hasattr(os, "posix_fadvise"):
        os.posix_fadvise(file.fileno(), offset, length, getattr(os, advice))


def _check_header_fields(header: SegmentHeader, actor_id: str, number: int, expected_base_seq: int | None) -> None:
    """Raise FormatError unless the header matches the actor, the file name and the previous segment."""
    base_seq = header.base_seq
    if header.actor_id != actor_id:
        raise FormatError(ACTOR_ID_OFFSET, f"the header belongs to actor {header.actor_id!r}, not {actor_id!r}")
    if header.number != number:
        raise FormatError(
            SEGMENT_NUMBER_OFFSET, f"the header has segment number {header.number}, but the file name has {number}"
        )
    if base_seq < 1 or (number == 0 and base_seq != 1):
        raise FormatError(BASE_SEQ_OFFSET, f"invalid first sequence number {base_seq} for segment {number}")
    if expected_base_seq is not None and base_seq != expected_base_seq:
        raise FormatError(
            BASE_SEQ_OFFSET,
            f"the segment starts at sequence number {base_seq}, but the previous segment ends at {expected_base_seq - 1}",
        )


def _scan_records(file, scan: SegmentScan) -> None:
    """Walk the records after the segment header and fill in ``scan``.

    The file is read in chunks. A record cut by the end of a chunk is moved to
    the front of the buffer and completed by the next read, which grows the
    buffer first if the record does not fit.
    """
    buffer = bytearray(READ_CHUNK_SIZE)
    chunk_offset = scan.valid_size  # file offset of buffer[0]
    filled = 0
    file.seek(chunk_offset)

    while True:
        fill_end = min(len(buffer), scan.file_size - chunk_offset)
        filled = _fill(file, buffer, filled, fill_end)
        if filled < fill_end:
            # The file shrank while it was being read: scan what is there.
            scan.file_size = chunk_offset + filled
        # Let the disk read the next chunk while this one is being checked.
        _advise(file, chunk_offset + filled, len(buffer), "POSIX_FADV_WILLNEED")
        parsed_to, problem = _scan_chunk(buffer, filled, chunk_offset, scan)
        if problem is not None:
            scan.problem = problem
            return
        if chunk_offset + filled >= scan.file_size:
            if parsed_to < filled:
                header_size = V1_HEADER_SIZE if scan.version == 1 else V2_HEADER_SIZE
                scan.problem = _short_header_problem(chunk_offset + parsed_to, filled - parsed_to, header_size)
            return

        pending = filled - parsed_to
        moved = bytes(buffer[parsed_to:filled])
        needed = _pending_record_size(moved, scan.version)
        if needed > len(buffer):
            buffer = bytearray(needed)
        buffer[:pending] = moved
        chunk_offset += parsed_to
        filled = pending


def _fill(file, buffer: bytearray, filled: int, end: int) -> int:
    """Read into ``buffer[filled:end]`` until it is full or the file ends; return the new fill level."""
    with memoryview(buffer) as view:
        while filled < end:
            count = file.readinto(view[filled:end])
            if not count:
                break
            filled += count
    return filled


_BAD_HEADER = "bad header"
_BAD_SEQ = "bad sequence number"
_PAST_EOF = "past end of file"
_BAD_PAYLOAD = "bad payload"
_unpack_u32 = struct.Struct("<I").unpack_from


def _scan_chunk(buffer: bytearray, filled: int, chunk_offset: int, scan: SegmentScan) -> tuple[int, Problem | None]:
    """Check the complete records in ``buffer[:filled]`` and return where checking stopped.

    Returns the buffer position after the last valid record, and the problem
    found at that position, if any.
    """
    if scan.version == 1:
        return _scan_chunk_v1(buffer, filled, chunk_offset, scan)
    count, listed, last_offset = scan.count, len(scan.index), scan.last_offset
    position = _walk_chunk_v2(buffer, filled, chunk_offset, scan)
    if position is not None:
        return position, None
    # Something failed: undo the walk and check record by record to find what.
    scan.count, scan.last_offset = count, last_offset
    del scan.index[listed:]
    return _scan_chunk_v2(buffer, filled, chunk_offset, scan)


def _walk_chunk_v2(buffer: bytearray, filled: int, chunk_offset: int, scan: SegmentScan) -> int | None:
    """Walk the complete version 2 records in ``buffer[:filled]`` by their lengths, then check them all with one CRC.

    Returns the buffer position after the last record, or None if a sequence
    number, a length or the CRC of the walked bytes is wrong. This loop runs
    once per record on every open, so it keeps its state in local variables.
    """
    unpack_header = V2_RECORD_HEADER.unpack_from
    index_append = scan.index.append
    header_size = V2_HEADER_SIZE
    count = scan.count
    next_seq = scan.base_seq + count
    position = 0
    last = -1

    while filled - position >= header_size:
        length, seq, _length_check = unpack_header(buffer, position)
        if seq != next_seq:
            return None
        end = position + RECORD_OVERHEAD + length
        if end > filled:
            if chunk_offset + end > scan.file_size:
                return None
            break
        if not count % INDEX_INTERVAL:
            index_append(chunk_offset + position)
        last = position
        count += 1
        next_seq += 1
        position = end

    # The chunk starts at a record boundary, where the CRC of the segment so
    # far is CHAIN_RESIDUE, and each intact record brings it back to that.
    with memoryview(buffer) as view:
        if crc32c(view[:position], CHAIN_RESIDUE) != CHAIN_RESIDUE:
            return None
    scan.count = count
    scan.valid_size = chunk_offset + position
    if last >= 0:
        scan.last_offset = chunk_offset + last
    return position


def _scan_chunk_v2(buffer: bytearray, filled: int, chunk_offset: int, scan: SegmentScan) -> tuple[int, Problem | None]:
    """Check the complete version 2 records in ``buffer[:filled]`` one by one, as _scan_chunk() returns."""
    unpack_header = V2_RECORD_HEADER.unpack_from
    residue = CHAIN_RESIDUE
    header_size = V2_HEADER_SIZE
    count = scan.count
    next_seq = scan.base_seq + count
    position = 0
    failure = None

    with memoryview(buffer) as view:
        while filled - position >= header_size:
            length, seq, length_check = unpack_header(view, position)
            if length_check != length ^ LENGTH_CHECK_MASK:
                failure = _BAD_HEADER
                break
            if seq != next_seq:
                failure = _BAD_SEQ
                break
            body_end = position + header_size + length
            end = body_end + 4
            if end > filled:
                if chunk_offset + end > scan.file_size:
                    failure = _PAST_EOF
                break
            if crc32c(view[position:body_end], residue) != _unpack_u32(view, body_end)[0]:
                failure = _BAD_PAYLOAD
                break
            if not count % INDEX_INTERVAL:
                scan.index.append(chunk_offset + position)
            scan.last_offset = chunk_offset + position
            count += 1
            next_seq += 1
            position = end

    scan.count = count
    scan.valid_size = chunk_offset + position
    if failure is None:
        return position, None
    length, seq, _length_check = unpack_header(bytes(buffer[position : position + header_size]))
    return position, _record_problem(failure, chunk_offset + position, header_size, length, seq, next_seq, scan.file_size)


def _scan_chunk_v1(buffer: bytearray, filled: int, chunk_offset: int, scan: SegmentScan) -> tuple[int, Problem | None]:
    """Check the complete version 1 records in ``buffer[:filled]`` one by one, as _scan_chunk() returns."""
    unpack_header = V1_RECORD_HEADER.unpack_from
    crc32 = zlib.crc32
    header_size = V1_HEADER_SIZE
    count = scan.count
    next_seq = scan.base_seq + count
    position = 0
    failure = None

    with memoryview(buffer) as view:
        while filled - position >= header_size:
            header_crc, length, payload_crc, seq = unpack_header(view, position)
            if crc32(view[position + 4 : position + header_size]) != header_crc or seq != next_seq:
                failure = _BAD_HEADER
                break
            end = position + header_size + length
            if end > filled:
                if chunk_offset + end > scan.file_size:
                    failure = _PAST_EOF
                break
            if crc32(view[position + header_size : end]) != payload_crc:
                failure = _BAD_PAYLOAD
                break
            if not count % INDEX_INTERVAL:
                scan.index.append(chunk_offset + position)
            scan.last_offset = chunk_offset + position
            count += 1
            next_seq += 1
            position = end

    scan.count = count
    scan.valid_size = chunk_offset + position
    if failure is None:
        return position, None
    header = bytes(buffer[position : position + header_size])
    header_crc, length, _payload_crc, seq = unpack_header(header)
    if failure == _BAD_HEADER and crc32(header[4:]) == header_crc:
        failure = _BAD_SEQ
    return position, _record_problem(failure, chunk_offset + position, header_size, length, seq, next_seq, scan.file_size)



def _record_problem(
    failure: str, offset: int, header_size: int, length: int, seq: int, expected_seq: int, file_size: int
) -> Problem:
    """Describe the record at ``offset`` that failed a check, and when it counts as a torn tail."""
    record_end = offset + RECORD_OVERHEAD + length
    if failure == _BAD_HEADER:
        return Problem(offset, "record header check failed (header CRC or length check)", offset + header_size)
    if failure == _BAD_SEQ:
        # A header whose CRC is right and whose sequence number is wrong was
        # never written by this log, so no crash explains it.
        return Problem(offset, f"the record has sequence number {seq}, expected {expected_seq}", None)
    if failure == _PAST_EOF:
        present = file_size - offset - header_size
        reason = f"the record's {length}-byte payload runs past the end of the file ({present} bytes present)"
        return Problem(offset, reason, file_size)
    return Problem(offset, f"payload CRC mismatch in the record of sequence number {seq}", record_end)


def _short_header_problem(offset: int, present: int, header_size: int) -> Problem:
    reason = f"the file ends {present} bytes into a {header_size}-byte record header"
    return Problem(offset, reason, torn_if_zero_from=offset + present)


def _pending_record_size(pending: bytes, version: int) -> int:
    """Return the size of the record at the start of ``pending``, or its header size if the header is incomplete."""
    header_size = V1_HEADER_SIZE if version == 1 else V2_HEADER_SIZE
    if len(pending) < header_size:
        return header_size
    length_offset = 4 if version == 1 else 0
    (length,) = _unpack_u32(pending, length_offset)
    return RECORD_OVERHEAD + length


def iter_records(
    path: Path, actor_id: str, version: int, offset: int, first_seq: int, skip: int, count: int
) -> Iterator[tuple[int, bytes]]:
    """Yield ``(seq, payload)`` for ``count`` records of a segment, checking each CRC.

    ``version`` is the segment's format version. Reading starts at the record
    at ``offset``, whose sequence number is ``first_seq``, and passes over
    ``skip`` records before the first one yielded. Raises CorruptSegmentError
    if a record no longer matches its CRC.
    """
    read_record = _read_record_v1 if version == 1 else _read_record_v2
    with open(path, "rb", buffering=256 << 10) as file:
        file.seek(offset)
        seq = first_seq
        for position in range(skip + count):
            payload, size = read_record(file, seq, position >= skip)
            if size < 0:
                raise CorruptSegmentError(path, offset, f"the record of sequence number {seq} no longer matches its CRC", actor_id)
            if payload is not None:
                yield seq, payload
            offset += size
            seq += 1


def _read_record_v2(file, seq: int, keep_payload: bool) -> tuple[bytes | None, int]:
    """Read one record at the file position and return its payload (None unless ``keep_payload``) and its size.

    The size is -1 when the record fails a check.
    """
    header = file.read(V2_HEADER_SIZE)
    if len(header) < V2_HEADER_SIZE:
        return None, -1
    length, record_seq, length_check = V2_RECORD_HEADER.unpack(header)
    if length_check != length ^ LENGTH_CHECK_MASK or record_seq != seq:
        return None, -1
    if not keep_payload:
        file.seek(length + 4, os.SEEK_CUR)
        return None, RECORD_OVERHEAD + length
    data = file.read(length + 4)
    if len(data) != length + 4:
        return None, -1
    with memoryview(data) as view:
        if crc32c(view[:length], crc32c(header, CHAIN_RESIDUE)) != _unpack_u32(view, length)[0]:
            return None, -1
    return data[:length], RECORD_OVERHEAD + length


def _read_record_v1(file, seq: int, keep_payload: bool) -> tuple[bytes | None, int]:
    header = file.read(V1_HEADER_SIZE)
    if len(header) < V1_HEADER_SIZE:
        return None, -1
    header_crc, length, payload_crc, record_seq = V1_RECORD_HEADER.unpack(header)
    if zlib.crc32(header[4:]) != header_crc or record_seq != seq:
        return None, -1
    if not keep_payload:
        file.seek(length, os.SEEK_CUR)
        return None, RECORD_OVERHEAD + length
    payload = file.read(length)
    if len(payload) != length or zlib.crc32(payload) != payload_crc:
        return None, -1
    return payload, RECORD_OVERHEAD + length


def plan_reads(segments: list, start: object, stop: int | None, tip: int) -> list[tuple]:
    """Return where to read ``segments`` for entries start <= seq < stop, one step per segment that has some.

    ``segments`` are anything with the path, version, base_seq, count and
    index of a segment: the writer's view of them or scans. ``stop`` None
    means up to ``tip``. Raises ValueError for an invalid ``start``.
    """
    if not isinstance(start, int) or start < 1:
        raise ValueError(f"invalid start {start!r}: sequence numbers start at 1")
    stop = tip + 1 if stop is None else min(stop, tip + 1)
    plan = []
    for segment in segments:
        first = max(start, segment.base_seq)
        last = min(stop, segment.base_seq + segment.count)
        if first >= last:
            continue
        position = first - segment.base_seq
        index_slot = position // INDEX_INTERVAL
        first_indexed = segment.base_seq + index_slot * INDEX_INTERVAL
        plan.append((segment.path, segment.version, segment.index[index_slot], first_indexed, first - first_indexed, last - first))
    return plan


def read_planned(actor_id: str, plan: list[tuple]) -> Iterator[tuple[int, bytes]]:
    """Yield ``(seq, entry)`` for the steps that plan_reads() returned, checking each record's CRCs."""
    for path, version, offset, first_seq, skip, count in plan:
        yield from iter_records(path, actor_id, version, offset, first_seq, skip, count)

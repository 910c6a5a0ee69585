"""Read and check segment files: the recovery scan behind open, verify and repair.

A scan walks every record of every segment and checks its header CRC, its
sequence number and its payload CRC. The first record that fails is a
*problem*. In the newest segment a problem is a torn tail when no non-zero
byte follows the failing record: that is what a crash in the middle of an
append leaves behind. Any other problem is damage, reported as a
CorruptSegmentError that names the file and the byte offset.

A segment with an index file (see index.py) is checked faster: one CRC-32C
over the bytes the index covers stands for the checks of the records in
them, and only the records after those bytes are walked one by one. When
that CRC does not match, the scan walks every record, so damage is reported
exactly as without an index.
"""

from __future__ import annotations

import logging
import os
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from crc32c import crc32c

from .errors import CorruptSegmentError
from .format import (
    ACTOR_ID_OFFSET,
    BASE_SEQ_OFFSET,
    CHECKSUMS,
    FORMAT_VERSION,
    RECORD_HEADER,
    RECORD_HEADER_SIZE,
    SEGMENT_NUMBER_OFFSET,
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
    # CRC-32C of the segment's bytes before valid_size, which an index of
    # the segment records.
    checksum: int = 0
    # How many of those bytes a matching index file vouched for.
    indexed_size: int = 0

    def as_index(self) -> SegmentIndex:
        """Return the index that describes the segment's valid records."""
        return SegmentIndex(self.number, self.base_seq, self.valid_size, self.count, self.checksum, INDEX_INTERVAL, self.index)


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
            checksum=crc32c(data[: header.size]),
        )
        _advise(file, 0, 0, "POSIX_FADV_SEQUENTIAL")
        index = load_index(path, number, header.base_seq, header.size, file_size) if use_index else None
        if index is not None and index.interval == INDEX_INTERVAL:
            _apply_index(file, scan, index)
        _scan_records(file, scan)
        return scan


def rescan_tail(scan: SegmentScan) -> None:
    """Check the records written to a segment after the valid part that ``scan`` found, and update it."""
    scan.problem = None
    with open(scan.path, "rb", buffering=0) as file:
        scan.file_size = os.fstat(file.fileno()).st_size
        _scan_records(file, scan)


def _apply_index(file, scan: SegmentScan, index: SegmentIndex) -> None:
    """Take the records ``index`` covers as checked if the CRC of the bytes it covers matches."""
    checksum = scan.checksum
    buffer = bytearray(READ_CHUNK_SIZE)
    offset = scan.valid_size
    file.seek(offset)
    with memoryview(buffer) as view:
        while offset < index.covered_end:
            count = file.readinto(view[: min(len(buffer), index.covered_end - offset)])
            if not count:
                break
            offset += count
            _advise(file, offset, len(buffer), "POSIX_FADV_WILLNEED")
            checksum = crc32c(view[:count], checksum)
    if offset != index.covered_end or checksum != index.checksum:
        logger.info("The index of %s does not match the segment; checking every record instead", scan.path)
        return
    scan.count = index.count
    scan.index = index.offsets
    scan.valid_size = scan.indexed_size = index.covered_end
    scan.checksum = checksum


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
                scan.problem = _short_header_problem(chunk_offset + parsed_to, filled - parsed_to)
            return

        pending = filled - parsed_to
        moved = bytes(buffer[parsed_to:filled])
        needed = _pending_record_size(moved)
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
_PAST_EOF = "past end of file"
_BAD_PAYLOAD = "bad payload"


def _scan_chunk(buffer: bytearray, filled: int, chunk_offset: int, scan: SegmentScan) -> tuple[int, Problem | None]:
    """Check the complete records in ``buffer[:filled]`` and return where checking stopped.

    Returns the buffer position after the last valid record, and the problem
    found at that position, if any. This loop runs once per record on every
    open, so it keeps its state in local variables.
    """
    unpack_header = RECORD_HEADER.unpack_from
    crc32 = CHECKSUMS[scan.version]
    index_append = scan.index.append
    header_size = RECORD_HEADER_SIZE
    count = scan.count
    next_seq = scan.base_seq + count
    file_size = scan.file_size
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
                if chunk_offset + end > file_size:
                    failure = _PAST_EOF
                break
            if crc32(view[position + header_size : end]) != payload_crc:
                failure = _BAD_PAYLOAD
                break
            if count % INDEX_INTERVAL == 0:
                index_append(chunk_offset + position)
            count += 1
            next_seq += 1
            position = end

        scan.checksum = crc32c(view[:position], scan.checksum)

    scan.count = count
    scan.valid_size = chunk_offset + position
    if failure is None:
        return position, None
    header = bytes(buffer[position : position + header_size])
    return position, _record_problem(failure, header, chunk_offset + position, next_seq, file_size, crc32)


def _record_problem(failure: str, header: bytes, offset: int, expected_seq: int, file_size: int, crc32) -> Problem:
    """Describe the record at ``offset`` that failed a check, and when it counts as a torn tail."""
    header_crc, length, _payload_crc, seq = RECORD_HEADER.unpack(header)
    record_end = offset + RECORD_HEADER_SIZE + length

    if failure == _BAD_HEADER and crc32(header[4:]) != header_crc:
        return Problem(offset, "record header CRC mismatch", offset + RECORD_HEADER_SIZE)
    if failure == _BAD_HEADER:
        # A header with a good CRC and the wrong sequence number was never
        # written by this log, so no crash explains it.
        return Problem(offset, f"the record has sequence number {seq}, expected {expected_seq}", None)
    if failure == _PAST_EOF:
        present = file_size - offset - RECORD_HEADER_SIZE
        reason = f"the record's {length}-byte payload runs past the end of the file ({present} bytes present)"
        return Problem(offset, reason, file_size)
    return Problem(offset, f"payload CRC mismatch in the record of sequence number {seq}", record_end)


def _short_header_problem(offset: int, present: int) -> Problem:
    reason = f"the file ends {present} bytes into a {RECORD_HEADER_SIZE}-byte record header"
    return Problem(offset, reason, torn_if_zero_from=offset + present)


def _pending_record_size(pending: bytes) -> int:
    """Return the size of the record at the start of ``pending``, or the header size if its header is incomplete."""
    if len(pending) < RECORD_HEADER_SIZE:
        return RECORD_HEADER_SIZE
    _header_crc, length, _payload_crc, _seq = RECORD_HEADER.unpack_from(pending)
    return RECORD_HEADER_SIZE + length


def iter_records(
    path: Path, actor_id: str, version: int, offset: int, first_seq: int, skip: int, count: int
) -> Iterator[tuple[int, bytes]]:
    """Yield ``(seq, payload)`` for ``count`` records of a segment, checking each CRC.

    ``version`` is the segment's format version. Reading starts at the record
    at ``offset``, whose sequence number is ``first_seq``, and passes over
    ``skip`` records before the first one yielded. Raises CorruptSegmentError
    if a record no longer matches its CRC.
    """
    unpack_header = RECORD_HEADER.unpack_from
    crc32 = CHECKSUMS[version]
    with open(path, "rb", buffering=256 << 10) as file:
        file.seek(offset)
        seq = first_seq
        for position in range(skip + count):
            header = file.read(RECORD_HEADER_SIZE)
            if len(header) < RECORD_HEADER_SIZE:
                raise CorruptSegmentError(path, offset, "the file ends inside a record that was valid on open", actor_id)
            header_crc, length, payload_crc, record_seq = unpack_header(header)
            if crc32(header[4:]) != header_crc or record_seq != seq:
                raise CorruptSegmentError(path, offset, "record header CRC or sequence number mismatch", actor_id)
            if position < skip:
                file.seek(length, os.SEEK_CUR)
            else:
                payload = file.read(length)
                if len(payload) != length or crc32(payload) != payload_crc:
                    raise CorruptSegmentError(path, offset, f"payload CRC mismatch in the record of sequence number {seq}", actor_id)
                yield seq, payload
            offset += RECORD_HEADER_SIZE + length
            seq += 1


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

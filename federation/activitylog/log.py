"""ActivityLog: one actor's append-only log of entries, kept in segment files.

An entry is the bytes a caller appends; a record is its framed form on disk
(see FORMAT.md). Sequence numbers start at 1 and grow by 1 per entry.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from os import PathLike
from pathlib import Path

from crc32c import crc32c

from .durability import commit_syncs, sync_directory, sync_file, validate_fsync_policy
from .errors import ActivityLogError
from .format import (
    CHAIN_RESIDUE,
    FORMAT_VERSION,
    LENGTH_CHECK_MASK,
    MAX_ENTRY_SIZE,
    RECORD_OVERHEAD,
    V2_RECORD_HEADER,
    _pack_crc,
    _pack_v2_header,
    encode_record,
    encode_segment_header,
)
from .index import SegmentIndex, write_index
from .lock import LogLock
from .names import TEMP_SUFFIX, list_temp_files, segment_name, validate_actor_id
from .scan import INDEX_INTERVAL, SegmentScan, TornTail, inspect_log, plan_reads, read_planned

logger = logging.getLogger(__name__)

DEFAULT_SEGMENT_SIZE = 1 << 30
# The active segment's index file is rewritten after this many bytes of
# appends, so that a reopen after a crash checks at most about this many
# bytes record by record.
INDEX_EVERY_BYTES = 64 << 20


@dataclass(slots=True)
class _Segment:
    number: int
    path: Path
    base_seq: int
    size: int
    version: int = FORMAT_VERSION
    count: int = 0
    index: array = field(default_factory=lambda: array("Q"))
    fd: int | None = None
    # How many bytes the segment's index file on disk covers.
    indexed_size: int = 0

    @classmethod
    def from_scan(cls, scan: SegmentScan) -> _Segment:
        return cls(
            scan.number,
            scan.path,
            scan.base_seq,
            scan.valid_size,
            scan.version,
            scan.count,
            scan.index,
            indexed_size=scan.indexed_size,
        )

    def as_index(self) -> SegmentIndex:
        return SegmentIndex(
            self.number, self.base_seq, self.size, self.count, self.last_record_offset(), INDEX_INTERVAL, self.index
        )

    def last_record_offset(self) -> int:
        """Return the byte offset of the newest record, read from the file from the last indexed one on; 0 if none."""
        if not self.count:
            return 0
        offset = self.index[-1]
        with open(self.path, "rb") as file:
            for _ in range((self.count - 1) % INDEX_INTERVAL):
                length, _seq, _header_crc = V2_RECORD_HEADER.unpack(os.pread(file.fileno(), V2_RECORD_HEADER.size, offset))
                offset += RECORD_OVERHEAD + length
        return offset


class ActivityLog:
    """One actor's activity log, open for appending and reading.

    Open it with ActivityLog.open(). It holds the actor's lock file until
    close(), so one process at a time writes a log. An instance is meant for
    one thread; AsyncActivityLog is the writer to share between tasks.
    """

    def __init__(self, actor_id: str, directory: Path, segment_size: int, fsync: str, lock: LogLock) -> None:
        self.actor_id = actor_id
        self.directory = directory
        self.segment_size = segment_size
        self.fsync = fsync
        self.fsync_count = 0
        self._commit_syncs = commit_syncs(fsync)
        self._lock = lock
        self._segments: list[_Segment] = []
        self._active: _Segment
        # Format version of the active segment, which new records follow.
        self._version = FORMAT_VERSION
        self._tip = 0
        self._closed = False
        self._failure: OSError | None = None
        # False once the log is closed or has failed: one check on the append path.
        self._writable = True
        # The active segment size at which an append has more to do than
        # write: 0 when every commit syncs, else where the next index is due.
        self._checkpoint_at = 0
        # Guards the in-memory state against a snapshot taken by read() on
        # another thread while AsyncActivityLog's writer thread appends.
        self._state_lock = threading.Lock()

    @classmethod
    def open(
        cls,
        actor_id: str,
        base_path: str | PathLike[str],
        *,
        segment_size: int = DEFAULT_SEGMENT_SIZE,
        fsync: str = "always",
    ) -> ActivityLog:
        """Open ``actor_id``'s log in ``base_path``, creating the directory and the log if needed.

        ``segment_size`` is the size in bytes at which the active segment is
        sealed and a new one started. ``fsync`` is "always", "batch" or
        "never" (see durability.py). Rebuilds the log from its segments and
        truncates a torn last record, logging it at WARNING. Raises ValueError
        for invalid arguments before touching the disk, CorruptSegmentError
        for damage (changing nothing on disk), and LogLockedError if another
        open log holds the actor's lock.
        """
        actor_id = validate_actor_id(actor_id)
        segment_size = _validate_segment_size(segment_size)
        fsync = validate_fsync_policy(fsync)
        directory = Path(base_path)
        _create_directory(directory)

        lock = LogLock.acquire(directory, actor_id)
        try:
            state = inspect_log(directory, actor_id)
            if state.corruption is not None:
                raise state.corruption
            if state.torn is not None:
                _truncate_torn_tail(state.torn)
            log = cls(actor_id, directory, segment_size, fsync, lock)
            log._start(state.segments)
        except BaseException:
            lock.release()
            raise
        return log

    def _start(self, scans: list[SegmentScan]) -> None:
        self._segments = [_Segment.from_scan(scan) for scan in scans]
        if self._segments:
            self._active = self._segments[-1]
            self._tip = self._active.base_seq + self._active.count - 1
            self._active.fd = os.open(self._active.path, os.O_WRONLY | os.O_APPEND)
            self._version = self._active.version
        else:
            self._active = self._create_segment(0, 1)
            self._segments.append(self._active)
        for leftover in list_temp_files(self.directory, self.actor_id):
            logger.info("Removing %s, a file whose creation a crash interrupted", leftover)
            leftover.unlink()
        for segment in self._segments[:-1]:
            if segment.indexed_size != segment.size:
                self._write_index(segment)
        logger.debug("Opened activity log %s/%s: %d segments, tip %d", self.directory, self.actor_id, len(self._segments), self._tip)

    @property
    def tip(self) -> int:
        """Sequence number of the newest entry; 0 when the log is empty."""
        return self._tip

    @property
    def segment_lengths(self) -> list[int]:
        """Number of entries in each segment, oldest first."""
        with self._state_lock:
            return [segment.count for segment in self._segments]

    @property
    def segment_paths(self) -> list[Path]:
        """The segment files, oldest first."""
        with self._state_lock:
            return [segment.path for segment in self._segments]

    @property
    def closed(self) -> bool:
        return self._closed

    def append(self, entry: bytes) -> int:
        """Append one entry and return its sequence number.

        Returns once the entry is durable as the fsync policy defines. Called
        directly, an append is a group of one, so "batch" syncs like "always".
        """
        # This is the whole write path of the synchronous API, kept inline
        # because its cost per entry is of the order of the write() call itself.
        if type(entry) is not bytes:
            entry = as_payload(entry)
        if not self._writable:
            self._check_writable()

        segment = self._active
        size = segment.size
        if size >= self.segment_size and segment.count:
            segment = self._rotate()
            size = segment.size
        seq = self._tip + 1
        if self._version == 2:
            # encode_record(), inlined. Packing the length fails for an entry
            # larger than MAX_ENTRY_SIZE.
            length = len(entry)
            try:
                body = _pack_v2_header(length, seq, length ^ LENGTH_CHECK_MASK) + entry
            except struct.error:
                as_payload(entry)
                raise
            record = body + _pack_crc(crc32c(body, CHAIN_RESIDUE))
            record_size = length + RECORD_OVERHEAD
        else:
            record = encode_record(seq, as_payload(entry), self._version)
            record_size = len(record)
        try:
            written = _write(segment.fd, record)
            if written < record_size:
                _write_all(segment.fd, record[written:])
        except OSError as error:
            self._fail(error, segment)
            raise

        # No state lock here: only AsyncActivityLog shares a log between
        # threads, and it writes through _commit().
        count = segment.count
        if not count & _INDEX_MASK:
            segment.index.append(size)
        segment.count = count + 1
        segment.size = size = size + record_size
        self._tip = seq
        if size >= self._checkpoint_at:
            self._after_commit()
        return seq

    def _after_commit(self) -> None:
        """Sync the active segment as the fsync policy requires, and rewrite its index when one is due."""
        active = self._active
        if self._commit_syncs:
            self._sync_active()
        if active.size - active.indexed_size >= INDEX_EVERY_BYTES:
            self._write_index(active)
        self._checkpoint_at = 0 if self._commit_syncs else active.indexed_size + INDEX_EVERY_BYTES

    def _commit(self, payloads: list[bytes]) -> int:
        """Write ``payloads`` as one group, sync it as the fsync policy requires, and return the first sequence number."""
        self._check_writable()
        first_seq = self._tip + 1
        self._write_group(payloads)
        self._after_commit()
        return first_seq

    def _write_group(self, payloads: list[bytes]) -> None:
        segment = self._active
        seq = self._tip + 1
        version = self._version
        if segment.size < self.segment_size:
            records = [encode_record(seq + position, payload, version) for position, payload in enumerate(payloads)]
            if segment.size + sum(map(len, records)) - len(records[-1]) < self.segment_size:
                # Only the last record can end at or past segment_size, so no
                # entry of the group has to start a new segment.
                self._write_records(segment, records)
                return

        records = []
        pending_size = 0
        for payload in payloads:
            # Rotation rule: a new segment starts only when the active one has
            # reached segment_size and contains at least one entry.
            if segment.size + pending_size >= self.segment_size and (segment.count or records):
                if records:
                    self._write_records(segment, records)
                    records, pending_size = [], 0
                segment = self._rotate()
                version = self._version
            record = encode_record(seq, payload, version)
            records.append(record)
            pending_size += len(record)
            seq += 1
        if records:
            self._write_records(segment, records)

    def _write_records(self, segment: _Segment, records: list[bytes]) -> None:
        data = records[0] if len(records) == 1 else b"".join(records)
        try:
            _write_all(segment.fd, data)
        except OSError as error:
            self._fail(error, segment)
            raise

        with self._state_lock:
            offset = segment.size
            first_listed = -segment.count % INDEX_INTERVAL  # the first record of the group that the index lists
            if first_listed < len(records):
                starts = list(accumulate(map(len, records[:-1]), initial=offset))
                segment.index.extend(starts[first_listed::INDEX_INTERVAL])
            segment.size = offset + len(data)
            segment.count += len(records)
            self._tip += len(records)

    def _sync_active(self) -> None:
        try:
            sync_file(self._active.fd)
        except OSError as error:
            self._fail(error, None)
            raise
        self.fsync_count += 1

    def _rotate(self) -> _Segment:
        """Seal the active segment and start the next one."""
        sealed = self._active
        # The sealed segment goes to disk before its successor exists, so a
        # crash can leave a torn record only in the newest segment.
        self._sync_active()
        try:
            segment = self._create_segment(sealed.number + 1, self._tip + 1)
        except OSError as error:
            self._fail(error, None)
            raise
        os.close(sealed.fd)
        sealed.fd = None
        self._write_index(sealed)
        with self._state_lock:
            self._segments.append(segment)
            self._active = segment
            self._version = segment.version
        self._checkpoint_at = 0  # the next commit works out the new segment's
        return segment

    def _create_segment(self, number: int, base_seq: int) -> _Segment:
        """Create a segment file atomically: write and sync it under a temporary name, then rename it."""
        path = self.directory / segment_name(self.actor_id, number)
        temp_path = path.with_name(path.name + TEMP_SUFFIX)
        if path.exists():
            raise ActivityLogError(f"cannot create segment {path}: the file already exists")

        header = encode_segment_header(self.actor_id, number, base_seq)
        fd = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
        try:
            _write_all(fd, header)
            sync_file(fd)
            os.rename(temp_path, path)
            sync_directory(self.directory)
        except BaseException:
            os.close(fd)
            temp_path.unlink(missing_ok=True)
            raise
        self.fsync_count += 1
        logger.info("Started activity log segment %s at sequence number %d", path, base_seq)
        return _Segment(number, path, base_seq, size=len(header), fd=fd)

    def _write_index(self, segment: _Segment) -> None:
        """Record ``segment``'s records in its index file; a failure only costs the next open time."""
        if segment.version < 2:
            segment.indexed_size = segment.size  # version 1 segments have no index
            return
        try:
            write_index(segment.path, segment.as_index())
        except OSError as error:
            logger.warning("Could not write the index of %s, so the next open checks its records one by one: %s", segment.path, error)
            return
        segment.indexed_size = segment.size

    def _fail(self, error: OSError, segment: _Segment | None) -> None:
        """Take the log out of service after an I/O error, so nothing is acknowledged on top of unknown state."""
        self._failure = error
        self._writable = False
        logger.error("Activity log %s/%s failed and accepts no more appends: %s", self.directory, self.actor_id, error)
        if segment is not None and segment.fd is not None:
            try:
                os.ftruncate(segment.fd, segment.size)
            except OSError as truncate_error:
                logger.error("Could not cut the partial record off %s: %s", segment.path, truncate_error)

    def _check_writable(self) -> None:
        if self._closed:
            raise ValueError(f"activity log for actor {self.actor_id!r} is closed")
        if self._failure is not None:
            raise ActivityLogError(
                f"activity log for actor {self.actor_id!r} stopped after an I/O error ({self._failure}); "
                "close it and open it again"
            )

    def read(self, start: int = 1, stop: int | None = None) -> Iterator[tuple[int, bytes]]:
        """Return an iterator of ``(seq, entry)`` for start <= seq < stop, oldest first.

        ``stop`` None means up to the tip at the time of the call; entries
        appended later are not included. Each record's CRCs are checked again
        as it is read.
        """
        if self._closed:
            raise ValueError(f"activity log for actor {self.actor_id!r} is closed")
        with self._state_lock:
            plan = plan_reads(self._segments, start, stop, self._tip)
        return read_planned(self.actor_id, plan)

    def close(self) -> None:
        """Close the active segment and release the lock. Calling it again does nothing."""
        if self._closed:
            return
        self._closed = True
        self._writable = False
        try:
            active = self._active
            if self._failure is None and active.fd is not None and active.indexed_size != active.size:
                self._write_index(active)
            for segment in self._segments:
                if segment.fd is not None:
                    os.close(segment.fd)
                    segment.fd = None
        finally:
            self._lock.release()
        logger.debug("Closed activity log %s/%s at tip %d", self.directory, self.actor_id, self._tip)

    def __enter__(self) -> ActivityLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"tip={self._tip}"
        return f"<ActivityLog actor={self.actor_id!r} directory={str(self.directory)!r} {state}>"


def as_payload(entry: object) -> bytes:
    """Return ``entry`` as immutable bytes, or raise TypeError / ValueError."""
    if isinstance(entry, bytes):
        payload = entry
    elif isinstance(entry, (bytearray, memoryview)):
        payload = bytes(entry)
    else:
        raise TypeError(f"an activity log entry must be bytes, not {type(entry).__name__}")
    if len(payload) > MAX_ENTRY_SIZE:
        raise ValueError(f"entry of {len(payload)} bytes is larger than the maximum of {MAX_ENTRY_SIZE} bytes")
    return payload


def _validate_segment_size(segment_size: object) -> int:
    if isinstance(segment_size, bool) or not isinstance(segment_size, int) or segment_size < 1:
        raise ValueError(f"invalid segment_size {segment_size!r}: use a positive number of bytes")
    return segment_size


def _create_directory(directory: Path) -> None:
    if directory.is_dir():
        return
    directory.mkdir(parents=True, exist_ok=True)
    sync_directory(directory.parent)


def _truncate_torn_tail(torn: TornTail) -> None:
    fd = os.open(torn.path, os.O_WRONLY)
    try:
        os.ftruncate(fd, torn.offset)
        sync_file(fd)
    finally:
        os.close(fd)
    logger.warning(
        "Dropped a torn record at the end of %s: %d bytes after byte offset %d, left by a crash during an append",
        torn.path,
        torn.dropped,
        torn.offset,
    )


_write = os.write
# count & _INDEX_MASK is count % INDEX_INTERVAL, a little faster on the append path.
_INDEX_MASK = INDEX_INTERVAL - 1
assert INDEX_INTERVAL & _INDEX_MASK == 0, "INDEX_INTERVAL must be a power of two"


def _write_all(fd: int, data: bytes) -> None:
    written = os.write(fd, data)
    if written < len(data):
        with memoryview(data) as view:
            while written < len(data):
                written += os.write(fd, view[written:])

"""ActivityLogReader: read a log that another process may be writing.

Only one process opens a log for writing (ActivityLog holds the actor's lock
file). Any number of readers may follow it: a reader never writes, never
takes the lock, and never truncates anything. It checks the segments on open
like ActivityLog.open() does, and refresh() then checks only the bytes
appended since. A record at the end of the newest segment that is still
being written reads as a torn tail: the reader leaves it out until it is
whole, instead of dropping it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from copy import copy
from os import PathLike
from pathlib import Path

from .errors import CorruptSegmentError
from .names import list_segments, validate_actor_id
from .scan import SegmentScan, is_torn_tail, plan_reads, read_planned, rescan_tail, scan_segment


class ActivityLogReader:
    """A read-only view of one actor's log, brought up to date by refresh().

    Safe to share between threads: refresh() and read() may run at once.
    """

    def __init__(self, actor_id: str, directory: Path) -> None:
        self.actor_id = actor_id
        self.directory = directory
        self._segments: list[SegmentScan] = []
        self._refreshing = threading.Lock()
        self._state_lock = threading.Lock()

    @classmethod
    def open(cls, actor_id: str, base_path: str | PathLike[str]) -> ActivityLogReader:
        """Check ``actor_id``'s log in ``base_path`` and return a reader of it.

        A log with no segments yet, or a directory that does not exist yet,
        reads as empty. Raises ValueError for an invalid actor id and
        CorruptSegmentError for damage.
        """
        reader = cls(validate_actor_id(actor_id), Path(base_path))
        reader.refresh()
        return reader

    @property
    def tip(self) -> int:
        """Sequence number of the newest complete entry seen; 0 when there is none."""
        with self._state_lock:
            return _tip(self._segments)

    @property
    def segment_lengths(self) -> list[int]:
        with self._state_lock:
            return [scan.count for scan in self._segments]

    @property
    def segment_paths(self) -> list[Path]:
        with self._state_lock:
            return [scan.path for scan in self._segments]

    def refresh(self) -> int:
        """Check the entries appended since the last refresh and return the new tip.

        Raises CorruptSegmentError for damage; the reader then keeps what it
        had before the call.
        """
        with self._refreshing:
            segments = self._refreshed([copy(scan) for scan in self._segments])
            with self._state_lock:
                self._segments = segments
            return _tip(segments)

    def _refreshed(self, segments: list[SegmentScan]) -> list[SegmentScan]:
        listed = list_segments(self.directory, self.actor_id) if self.directory.is_dir() else []
        if segments and not _still_whole(segments, listed):
            # The log was repaired or its segments replaced: check it from the start.
            segments = []

        later = listed
        if segments:
            last = segments[-1]
            last.index = copy(last.index)
            later = [(number, path) for number, path in listed if number > last.number]
            rescan_tail(last)
            self._check_problem(last, newest=not later)

        for number, path in later:
            expected = None
            if segments:
                previous = segments[-1]
                if number != previous.number + 1:
                    raise CorruptSegmentError(path, 0, f"segment {previous.number + 1:06d} is missing before this one", self.actor_id)
                expected = previous.base_seq + previous.count
            scan = scan_segment(path, self.actor_id, number, expected)
            segments.append(scan)
            self._check_problem(scan, newest=path == listed[-1][1])
        return segments

    def _check_problem(self, scan: SegmentScan, newest: bool) -> None:
        """Raise for damage; accept a torn tail of the newest segment as an append in progress."""
        problem = scan.problem
        if problem is None or (newest and is_torn_tail(scan)):
            return
        raise CorruptSegmentError(scan.path, problem.offset, problem.reason, self.actor_id)

    def read(self, start: int = 1, stop: int | None = None) -> Iterator[tuple[int, bytes]]:
        """Return an iterator of ``(seq, entry)`` for start <= seq < stop, oldest first, as of the last refresh."""
        with self._state_lock:
            plan = plan_reads(self._segments, start, stop, _tip(self._segments))
        return read_planned(self.actor_id, plan)

    def close(self) -> None:
        """Forget the log's state. A reader keeps no files open, so this only frees memory."""
        with self._state_lock:
            self._segments = []

    def __enter__(self) -> ActivityLogReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<ActivityLogReader actor={self.actor_id!r} directory={str(self.directory)!r} tip={self.tip}>"


def _tip(segments: list[SegmentScan]) -> int:
    if not segments:
        return 0
    last = segments[-1]
    return last.base_seq + last.count - 1


def _still_whole(segments: list[SegmentScan], listed: list[tuple[int, Path]]) -> bool:
    """Return whether every segment the reader knows is still listed and no shorter than what it checked."""
    present = dict(listed)
    for scan in segments:
        path = present.get(scan.number)
        if path != scan.path:
            return False
        try:
            if path.stat().st_size < scan.valid_size:
                return False
        except FileNotFoundError:
            return False
    return True

"""Verify and repair logs on disk, for the ``rose-ash activitylog`` commands.

Verification only reads. Repair keeps the valid prefix of a log and moves
everything after it into ``.corrupt`` files beside it: the rest of the
damaged segment, and every later segment. It deletes nothing.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .durability import sync_directory, sync_file
from .errors import CorruptSegmentError
from .index import remove_index
from .lock import LogLock
from .names import CORRUPT_SUFFIX, list_actors, list_segments, validate_actor_id
from .scan import LogState, TornTail, inspect_log


@dataclass(frozen=True)
class LogReport:
    """The state of one actor's log as verification found it."""

    actor_id: str
    segment_files: int
    entries: int
    tip: int
    torn: TornTail | None
    corruption: CorruptSegmentError | None

    @property
    def status(self) -> str:
        if self.corruption is not None:
            return "corrupt"
        return "torn tail" if self.torn is not None else "OK"

    def describe(self) -> str:
        segments = f"{self.segment_files} segment{'s' if self.segment_files != 1 else ''}"
        if self.corruption is not None:
            error = self.corruption
            return (
                f"{self.actor_id}: CORRUPT; {segments}, {self.entries} valid entries before the damage; "
                f"{error.path.name} at byte offset {error.offset}: {error.reason}"
            )
        summary = f"{self.actor_id}: {self.status}; {segments}, {self.entries} entries, tip {self.tip}"
        if self.torn is not None:
            summary += (
                f"; {self.torn.dropped} bytes at byte offset {self.torn.offset} of {self.torn.path.name} "
                "are a torn record that the next open drops"
            )
        return summary


@dataclass(frozen=True)
class Move:
    """Bytes moved out of a log: the whole ``source`` file, or its tail from ``start``."""

    source: Path
    target: Path
    start: int
    length: int
    whole_file: bool

    def describe(self, done: bool = True) -> str:
        verb = "moved" if done else "would move"
        if self.whole_file:
            return f"{verb} {self.source} ({self.length} bytes) to {self.target}"
        end = self.start + self.length - 1
        return f"{verb} bytes {self.start}-{end} ({self.length} bytes) of {self.source} to {self.target}"


def verify_logs(directory: Path, actor_id: str | None = None) -> list[LogReport]:
    """Scan the logs in ``directory`` (only ``actor_id``'s if given) and report their state, changing nothing."""
    actors = [validate_actor_id(actor_id)] if actor_id is not None else list_actors(directory)
    return [_report(inspect_log(directory, actor), len(list_segments(directory, actor))) for actor in actors]


def _report(state: LogState, segment_files: int) -> LogReport:
    return LogReport(state.actor_id, segment_files, state.entry_count, state.tip, state.torn, state.corruption)


def repair_log(directory: Path, actor_id: str, dry_run: bool = False) -> tuple[list[Move], LogReport]:
    """Keep the valid prefix of ``actor_id``'s log and move the rest into ``.corrupt`` files.

    Holds the log's lock while it works, so it raises LogLockedError if the
    log is open elsewhere. Returns the moves in the order they were made (or
    would be, with ``dry_run``) and the report of the log afterwards.
    """
    validate_actor_id(actor_id)
    lock = LogLock.acquire(directory, actor_id)
    try:
        state = inspect_log(directory, actor_id)
        moves = plan_repair(state)
        if dry_run or not moves:
            return moves, _report(state, len(list_segments(directory, actor_id)))
        for move in moves:
            _make_move(move)
        sync_directory(directory)
        after = inspect_log(directory, actor_id)
        return moves, _report(after, len(list_segments(directory, actor_id)))
    finally:
        lock.release()


def plan_repair(state: LogState) -> list[Move]:
    """Return the moves that leave only the valid prefix of the log, newest file first.

    Later segments go first, so a repair interrupted half-way still leaves a
    log whose segments are numbered without gaps, and can simply run again.
    """
    reserved: set[Path] = set()
    moves = [_whole_file_move(path, reserved) for path in reversed(state.unscanned)]
    if not state.segments or state.segments[-1].problem is None:
        return moves

    damaged = state.segments[-1]
    if not damaged.header_ok:
        moves.append(_whole_file_move(damaged.path, reserved))
        return moves
    start = damaged.problem.offset
    target = _corrupt_path(damaged.path, reserved)
    moves.append(Move(damaged.path, target, start, damaged.file_size - start, whole_file=False))
    return moves


def _whole_file_move(path: Path, reserved: set[Path]) -> Move:
    return Move(path, _corrupt_path(path, reserved), 0, path.stat().st_size, whole_file=True)


def _corrupt_path(source: Path, reserved: set[Path]) -> Path:
    """Return a ``.corrupt`` name beside ``source`` that no file has yet."""
    candidate = source.with_name(source.name + CORRUPT_SUFFIX)
    number = 1
    while candidate.exists() or candidate in reserved:
        candidate = source.with_name(f"{source.name}{CORRUPT_SUFFIX}.{number}")
        number += 1
    reserved.add(candidate)
    return candidate


def _make_move(move: Move) -> None:
    # The segment's index describes bytes that are about to move; the next
    # open writes a new one.
    remove_index(move.source)
    if move.whole_file:
        os.rename(move.source, move.target)
        return

    # Copy the tail out and sync it before cutting it off, so that a crash in
    # between leaves the bytes in both places rather than in neither.
    with open(move.source, "rb") as source, open(move.target, "xb") as target:
        source.seek(move.start)
        shutil.copyfileobj(source, target, 1 << 20)
        target.flush()
        sync_file(target.fileno())
    fd = os.open(move.source, os.O_WRONLY)
    try:
        os.ftruncate(fd, move.start)
        sync_file(fd)
    finally:
        os.close(fd)

"""Exceptions raised by the activity log."""

from __future__ import annotations

from pathlib import Path


class ActivityLogError(Exception):
    """Base class of the activity log's errors."""


class CorruptSegmentError(ActivityLogError):
    """A segment file contains damage that a crash cannot explain.

    Raised before anything on disk is changed. ``path`` is the segment file,
    ``offset`` the byte offset of the damaged record (or of the damaged
    segment header field), and ``reason`` names the check that failed.
    """

    def __init__(self, path: Path, offset: int, reason: str, actor_id: str) -> None:
        self.path = Path(path)
        self.offset = offset
        self.reason = reason
        self.actor_id = actor_id
        super().__init__(
            f"activity log segment {self.path} is corrupt at byte offset {offset}: {reason}. "
            f"Nothing was changed on disk; run `rose-ash activitylog repair {self.path.parent} {actor_id}` "
            "to keep the entries before the damage and move the rest aside."
        )


class LogLockedError(ActivityLogError):
    """Another open log, in this process or another one, holds the actor's lock file.

    ``command`` is the holder's command line when it could be read, else None.
    """

    def __init__(self, actor_id: str, lock_path: Path, pid: int | None, command: str | None = None) -> None:
        self.actor_id = actor_id
        self.lock_path = Path(lock_path)
        self.pid = pid
        self.command = command
        opened = f"activity log for actor {actor_id!r} in {self.lock_path.parent} is already open in"
        command_text = command if command is None or len(command) <= 120 else command[:117] + "..."
        if command is not None and "event-processor" in command.split():
            advice = (
                f"{opened} process {pid}, the EventProcessor ({command_text}). Stop it and try again: press Ctrl-C "
                "in the terminal of 'make run', which started it, or stop 'rose-ash event-processor'."
            )
        else:
            holder = f"process {pid}" if pid is not None else "another process (pid unknown)"
            if command_text is not None:
                holder += f" ({command_text})"
            # The EventProcessor is the only process that keeps logs open for long.
            advice = (
                f"{opened} {holder}. That is most likely the EventProcessor, which 'make run' and "
                "'rose-ash event-processor' start: stop it (Ctrl-C in the terminal of 'make run') and try again."
            )
        super().__init__(advice)

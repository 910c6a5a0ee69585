"""The per-actor lock file that keeps a log to one writer at a time.

The lock is an ``flock`` on ``<actor_id>.lock`` in the log directory, held for
as long as the log is open. The holder writes its pid into the file, so that
a second opener can name it in its error. The kernel drops the lock when the
holder exits, even by SIGKILL, so a pid left in the file never blocks an open.
A child forked without exec shares the lock until it exits as well.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .errors import LogLockedError
from .names import lock_name


class LogLock:
    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, directory: Path, actor_id: str) -> LogLock:
        """Take the lock of ``actor_id``'s log, or raise LogLockedError naming the holder."""
        path = directory / lock_name(actor_id)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = read_lock_holder(path)
            raise LogLockedError(actor_id, path, holder, command_line(holder)) from None
        except BaseException:
            os.close(fd)
            raise

        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        return cls(path, fd)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)


def read_lock_holder(path: Path) -> int | None:
    """Return the pid written in a lock file, or None if it is missing or unreadable."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def command_line(pid: int | None) -> str | None:
    """Return the command line of process ``pid`` from /proc (Linux only), or None when it cannot be read."""
    if pid is None:
        return None
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    words = [word.decode(errors="replace") for word in raw.split(b"\0") if word]
    if not words:
        return None
    words[0] = Path(words[0]).name
    return " ".join(" ".join(words).split())

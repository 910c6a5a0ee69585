"""AsyncActivityLog: the single writer of a log inside an asyncio program.

Appends from any number of tasks go into one queue. Whenever the log's
writer thread is free, the event loop hands it everything that is waiting as
one group, after the tasks that are ready to run have queued their appends.
The thread writes the group with one write call, syncs it once as the fsync
policy requires, and passes the first sequence number back to the loop,
which resolves each append. So appends never interleave, receive increasing
sequence numbers in queue order, and share fsyncs, like calls serialised by
one server process. The thread ends when the log has been idle for a while,
and the next append starts another.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Iterator
from os import PathLike
from pathlib import Path

from .durability import max_group_entries
from .format import MAX_ENTRY_SIZE
from .log import DEFAULT_SEGMENT_SIZE, ActivityLog, as_payload

# Upper bound in bytes of one group commit; a single larger entry still
# forms a group of its own.
MAX_GROUP_BYTES = 8 << 20
# A log's writer thread ends after this long without a group to write, so
# that idle logs keep no thread. The next append starts a new one.
WRITER_IDLE_SECONDS = 10.0


class AsyncActivityLog:
    """An ActivityLog whose appends are serialised by one writer task.

    Open it with ``await AsyncActivityLog.open(...)``, which takes the same
    arguments as ActivityLog.open().
    """

    def __init__(self, log: ActivityLog, loop: asyncio.AbstractEventLoop) -> None:
        self._log = log
        self._loop = loop
        # Appends waiting for the writer, oldest first: (payload, future) pairs.
        self._pending: list[tuple[bytes, asyncio.Future]] = []
        self._group_limit = max_group_entries(log.fsync)
        # Groups for the writer thread, and None to stop it.
        self._groups: queue.SimpleQueue = queue.SimpleQueue()
        self._busy = False  # whether the writer thread has a group
        self._dispatch_scheduled = False
        self._idle: asyncio.Future | None = None
        self._closing = False
        self._closer: asyncio.Task | None = None
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()

    @classmethod
    async def open(
        cls,
        actor_id: str,
        base_path: str | PathLike[str],
        *,
        segment_size: int = DEFAULT_SEGMENT_SIZE,
        fsync: str = "always",
    ) -> AsyncActivityLog:
        """Open the log in a worker thread and start its writer task."""
        # NOTE: if the caller is cancelled while the thread opens the log, the
        # opened log is never closed and holds its lock until the process exits.
        log = await asyncio.to_thread(ActivityLog.open, actor_id, base_path, segment_size=segment_size, fsync=fsync)
        return cls(log, asyncio.get_running_loop())

    @property
    def actor_id(self) -> str:
        return self._log.actor_id

    @property
    def fsync(self) -> str:
        return self._log.fsync

    @property
    def tip(self) -> int:
        """Sequence number of the newest entry written; 0 when the log is empty."""
        return self._log.tip

    @property
    def segment_lengths(self) -> list[int]:
        return self._log.segment_lengths

    @property
    def segment_paths(self) -> list[Path]:
        return self._log.segment_paths

    @property
    def fsync_count(self) -> int:
        """Number of fsync calls on segment files since open."""
        return self._log.fsync_count

    def read(self, start: int = 1, stop: int | None = None) -> Iterator[tuple[int, bytes]]:
        """Return an iterator of ``(seq, entry)``, as ActivityLog.read().

        The iterator reads files with blocking calls; run it in a thread for
        long ranges.
        """
        return self._log.read(start, stop)

    async def append(self, entry: bytes) -> int:
        """Append one entry and return its sequence number once it is as durable as the fsync policy requires.

        Safe to call from many tasks at once. If the calling task is cancelled
        after the entry was queued, the entry is still written. If the group
        commit fails with an I/O error, every append of the group raises it,
        and entries written before the failure may still be in the log.
        """
        if self._closing:
            raise ValueError(f"activity log for actor {self.actor_id!r} is closed")
        if type(entry) is not bytes or len(entry) > MAX_ENTRY_SIZE:
            entry = as_payload(entry)
        future = self._loop.create_future()
        self._pending.append((entry, future))
        if not self._busy and not self._dispatch_scheduled:
            # Dispatch after the tasks that are ready now, so that their
            # appends join the same group.
            self._dispatch_scheduled = True
            self._loop.call_soon(self._dispatch)
        return await future

    def _dispatch(self) -> None:
        """Hand the oldest pending appends to the writer thread as one group, unless it is busy."""
        self._dispatch_scheduled = False
        if self._busy or not self._pending:
            return
        self._busy = True
        self._send(self._take_group(self._group_limit))

    def _send(self, group: list[tuple[bytes, asyncio.Future]] | None) -> None:
        """Queue a group, or None to stop, for the writer thread, starting the thread if it is not running."""
        with self._writer_lock:
            self._groups.put(group)
            if self._writer is None and group is not None:
                self._writer = threading.Thread(
                    target=self._write_groups, name=f"activitylog-writer-{self.actor_id}", daemon=True
                )
                self._writer.start()

    def _write_groups(self) -> None:
        """Commit groups in the writer thread until close() sends None."""
        commit = self._log._commit
        resolve = self._resolve
        call_soon_threadsafe = self._loop.call_soon_threadsafe
        while True:
            try:
                group = self._groups.get(timeout=WRITER_IDLE_SECONDS)
            except queue.Empty:
                with self._writer_lock:
                    if self._groups.empty():
                        # Idle: end the thread; the next group starts another.
                        self._writer = None
                        return
                continue
            if group is None:
                return
            try:
                first_seq, error = commit([payload for payload, _future in group]), None
            except Exception as caught:
                first_seq, error = 0, caught
            try:
                call_soon_threadsafe(resolve, group, first_seq, error)
            except RuntimeError:
                # The event loop was closed without closing the log first.
                return

    def _resolve(self, group: list[tuple[bytes, asyncio.Future]], first_seq: int, error: Exception | None) -> None:
        """Settle the appends of a committed group, and dispatch the appends that arrived meanwhile."""
        self._busy = False
        for position, (_payload, future) in enumerate(group):
            if future.done():
                continue  # the appending task was cancelled; its entry is written anyway
            if error is None:
                future.set_result(first_seq + position)
            else:
                future.set_exception(error)
        if self._pending:
            self._dispatch()
        elif self._idle is not None and not self._idle.done():
            self._idle.set_result(None)

    def _take_group(self, group_limit: int) -> list[tuple[bytes, asyncio.Future]]:
        """Remove and return the oldest pending appends, within the entry and byte limits of one group."""
        pending = self._pending
        size = 0
        end = 0
        while end < len(pending) and end < group_limit and (end == 0 or size < MAX_GROUP_BYTES):
            size += len(pending[end][0])
            end += 1
        if end == len(pending):
            self._pending = []
            return pending
        group = pending[:end]
        del pending[:end]
        return group

    async def close(self) -> None:
        """Finish every append queued so far, then close the log. Calling it again only waits for that."""
        if self._closer is None:
            self._closing = True
            self._closer = asyncio.create_task(self._finish())
        await asyncio.shield(self._closer)

    async def _finish(self) -> None:
        try:
            while self._busy or self._pending:
                self._idle = self._loop.create_future()
                if not self._busy:
                    self._dispatch()
                await self._idle
        finally:
            with self._writer_lock:
                writer, self._writer = self._writer, None
                if writer is not None:
                    self._groups.put(None)
            if writer is not None:
                await asyncio.to_thread(writer.join)
            await asyncio.to_thread(self._log.close)

    async def __aenter__(self) -> AsyncActivityLog:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<AsyncActivityLog {self._log!r}>"

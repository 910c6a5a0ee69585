"""AsyncActivityLog: the single writer of a log inside an asyncio program.

Appends from any number of tasks go into one queue. One writer task takes
everything that is waiting and writes it as one group in a worker thread.
It syncs the group once, as the fsync policy requires, and then resolves
each append with its sequence number. So appends never interleave, receive
increasing sequence numbers in queue order, and share fsyncs, like calls
serialised by one server process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from os import PathLike
from pathlib import Path

from .durability import max_group_entries
from .format import MAX_ENTRY_SIZE
from .log import DEFAULT_SEGMENT_SIZE, ActivityLog, as_payload

# Upper bound in bytes of one group commit; a single larger entry still
# forms a group of its own.
MAX_GROUP_BYTES = 8 << 20


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
        self._writer_idle: asyncio.Future | None = None
        self._closing = False
        self._writer: asyncio.Task | None = None
        self._closer: asyncio.Task | None = None

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
        async_log = cls(log, asyncio.get_running_loop())
        async_log._writer = asyncio.create_task(async_log._run(), name=f"activitylog-writer-{actor_id}")
        return async_log

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
        self._wake_writer()
        return await future

    def _wake_writer(self) -> None:
        if self._writer_idle is not None and not self._writer_idle.done():
            self._writer_idle.set_result(None)

    async def _run(self) -> None:
        """Commit pending appends group by group; return once close() was called and nothing is pending."""
        group_limit = max_group_entries(self._log.fsync)
        while True:
            if not self._pending:
                if self._closing:
                    return
                self._writer_idle = self._loop.create_future()
                await self._writer_idle
                continue
            await self._commit(self._take_group(group_limit))

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

    async def _commit(self, group: list[tuple[bytes, asyncio.Future]]) -> None:
        payloads = [payload for payload, _future in group]
        try:
            first_seq = await self._loop.run_in_executor(None, self._log._commit, payloads)
        except asyncio.CancelledError:
            for _payload, future in group:
                future.cancel()
            raise
        except Exception as error:
            for _payload, future in group:
                if not future.done():
                    future.set_exception(error)
            return
        for position, (_payload, future) in enumerate(group):
            if not future.done():
                future.set_result(first_seq + position)

    async def close(self) -> None:
        """Finish every append queued so far, then close the log. Calling it again only waits for that."""
        if self._closer is None:
            self._closing = True
            self._wake_writer()
            self._closer = asyncio.create_task(self._finish())
        await asyncio.shield(self._closer)

    async def _finish(self) -> None:
        try:
            if self._writer is not None:
                await self._writer
        finally:
            await asyncio.to_thread(self._log.close)

    async def __aenter__(self) -> AsyncActivityLog:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<AsyncActivityLog {self._log!r}>"

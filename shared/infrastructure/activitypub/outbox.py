"""Actors' activity logs: the EventProcessor appends, the web apps read the outbox.

Only one process may hold a log open for writing, and the EventProcessor
does. The web apps follow the logs with ActivityLogReader, which never writes
or takes the lock: each request checks only what was appended since the one
before, and a record still being appended is left out until it is whole.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import logging
import threading
from array import array
from pathlib import Path
from typing import Any

from federation.activitylog import ActivityLogReader, AsyncActivityLog, CorruptSegmentError

from .actors import LocalActor
from .vocab import AS_CONTEXT, PUBLIC_ALIASES, as_list

logger = logging.getLogger(__name__)

OUTBOX_PAGE_SIZE = 20
# How many of a log's newest entries are checked for an activity id before
# appending it again, after a crash between the append and the commit.
RECENT_IDS_CHECKED = 1024


class ActivityLogWriter:
    """The EventProcessor's open logs, one per actor, opened on first use."""

    def __init__(self, directory: Path, fsync: str = "always") -> None:
        self.directory = directory
        self.fsync = fsync
        self._logs: dict[str, AsyncActivityLog] = {}
        self._recent: dict[str, dict[str, int]] = {}
        self._opening = asyncio.Lock()

    async def _log(self, name: str) -> AsyncActivityLog:
        async with self._opening:
            if name not in self._logs:
                opened = await AsyncActivityLog.open(name, self.directory, fsync=self.fsync)
                start = max(1, opened.tip - RECENT_IDS_CHECKED + 1)
                recent = {}
                for seq, entry in opened.read(start):
                    activity_id = _activity_id(entry)
                    if activity_id:
                        recent[activity_id] = seq
                self._logs[name], self._recent[name] = opened, recent
            return self._logs[name]

    async def append_once(self, name: str, activity_id: str, entry: bytes) -> int:
        """Append ``entry`` unless a recent entry already has ``activity_id``; return its sequence number."""
        opened = await self._log(name)
        seen = self._recent[name].get(activity_id)
        if seen is not None:
            return seen
        seq = await opened.append(entry)
        recent = self._recent[name]
        recent[activity_id] = seq
        if len(recent) > RECENT_IDS_CHECKED:
            del recent[next(iter(recent))]
        return seq

    async def close(self) -> None:
        logs, self._logs = self._logs, {}
        for opened in logs.values():
            await opened.close()


def _activity_id(entry: bytes) -> str | None:
    try:
        value = json.loads(entry).get("id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _is_public(activity: dict[str, Any]) -> bool:
    return any(address in PUBLIC_ALIASES for key in ("to", "cc") for address in as_list(activity.get(key)))


class PublicOutbox:
    """The public activities of one actor's log, kept up to date as the EventProcessor appends.

    Holds the sequence numbers of the public entries only; a page reads its
    twenty activities from the log. Blocking: call refresh() in a thread.
    """

    def __init__(self, directory: Path, log_name: str) -> None:
        self.directory = directory
        self.log_name = log_name
        self._reader: ActivityLogReader | None = None
        self._public = array("Q")
        self._checked = 0
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        return len(self._public)

    def refresh(self) -> None:
        """Pick up the entries appended since the last refresh.

        A damaged log is logged and the outbox keeps what it had: remote
        servers reading it get the entries before the damage.
        """
        with self._lock:
            try:
                if self._reader is None:
                    self._reader = ActivityLogReader.open(self.log_name, self.directory)
                tip = self._reader.refresh()
            except CorruptSegmentError as error:
                logger.error("The outbox of %s shows only the entries read before the damage: %s", self.log_name, error)
                return
            if tip < self._checked:
                # A repair moved the newest entries out of the log.
                self._public = array("Q", self._public[: bisect.bisect_right(self._public, tip)])
                self._checked = tip
            for seq, entry in self._reader.read(self._checked + 1, tip + 1):
                activity = _decode(entry)
                if activity is not None and _is_public(activity):
                    self._public.append(seq)
            self._checked = tip

    def page(self, before: int | None, size: int = OUTBOX_PAGE_SIZE) -> tuple[list[dict[str, Any]], int | None]:
        """Return up to ``size`` public activities with a sequence number below ``before``, newest first.

        The second value is the ``before`` of the next page, or None on the last page.
        """
        with self._lock:
            end = len(self._public) if before is None else bisect.bisect_left(self._public, before)
            chosen = list(reversed(self._public[max(0, end - size) : end]))
            reader = self._reader
        activities = []
        for seq in chosen:
            for _seq, entry in reader.read(seq, seq + 1) if reader is not None else ():
                activity = _decode(entry)
                if activity is not None:
                    activities.append(activity)
        following = chosen[-1] if chosen and end > size else None
        return activities, following


_outboxes: dict[tuple[Path, str], PublicOutbox] = {}


async def public_outbox(directory: Path, log_name: str) -> PublicOutbox:
    """Return the up-to-date public outbox of ``log_name``, one per log and process."""
    key = (directory, log_name)
    outbox = _outboxes.get(key)
    if outbox is None:
        outbox = _outboxes.setdefault(key, PublicOutbox(directory, log_name))
    await asyncio.to_thread(outbox.refresh)
    return outbox


def _decode(entry: bytes) -> dict[str, Any] | None:
    try:
        activity = json.loads(entry)
    except ValueError:
        return None
    return activity if isinstance(activity, dict) else None


def outbox_collection(actor: LocalActor, total: int) -> dict[str, Any]:
    return {
        "@context": AS_CONTEXT,
        "id": actor.outbox,
        "type": "OrderedCollection",
        "totalItems": total,
        "first": f"{actor.outbox}?page=true",
        "last": f"{actor.outbox}?before=1",
    }


def outbox_page(actor: LocalActor, outbox: PublicOutbox, before: int | None) -> dict[str, Any]:
    """One page of the outbox, newest first: the public entries with a sequence number below ``before``."""
    activities, following = outbox.page(before)
    page_id = f"{actor.outbox}?page=true" if before is None else f"{actor.outbox}?before={before}"
    document: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": page_id,
        "type": "OrderedCollectionPage",
        "partOf": actor.outbox,
        "orderedItems": activities,
    }
    if following is not None:
        document["next"] = f"{actor.outbox}?before={following}"
    return document

"""Actors' activity logs: the EventProcessor appends, the web apps read the outbox.

Only one process may hold a log open, and the EventProcessor does. The web
apps therefore read the segment files without opening the log, through the
package's read-only scanner, which never writes or takes the lock. A record
still being appended reads as a torn tail and is left out until it is whole.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from federation.activitylog import AsyncActivityLog
from federation.activitylog.scan import inspect_log, iter_records

from .actors import LocalActor
from .vocab import AS_CONTEXT, PUBLIC_ALIASES, as_list

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


def read_public_entries(directory: Path, log_name: str) -> list[tuple[int, dict[str, Any]]]:
    """Return ``(seq, activity)`` for every public activity in a log, oldest first, without opening it.

    NOTE: this scans the whole log on every call; a long log wants an index of public entries.
    """
    if not directory.is_dir():
        return []
    state = inspect_log(directory, log_name)
    entries = []
    for scan in state.segments:
        if not scan.header_ok or scan.count == 0 or not scan.index:
            continue
        for seq, entry in iter_records(scan.path, log_name, scan.index[0], scan.base_seq, 0, scan.count):
            try:
                activity = json.loads(entry)
            except ValueError:
                continue
            if isinstance(activity, dict) and _is_public(activity):
                entries.append((seq, activity))
    return entries


def outbox_collection(actor: LocalActor, entries: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    return {
        "@context": AS_CONTEXT,
        "id": actor.outbox,
        "type": "OrderedCollection",
        "totalItems": len(entries),
        "first": f"{actor.outbox}?page=true",
        "last": f"{actor.outbox}?before=1",
    }


def outbox_page(actor: LocalActor, entries: list[tuple[int, dict[str, Any]]], before: int | None) -> dict[str, Any]:
    """One page of the outbox, newest first: the public entries with a sequence number below ``before``."""
    newer_first = [(seq, activity) for seq, activity in reversed(entries) if before is None or seq < before]
    page = newer_first[:OUTBOX_PAGE_SIZE]
    page_id = f"{actor.outbox}?page=true" if before is None else f"{actor.outbox}?before={before}"
    document: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": page_id,
        "type": "OrderedCollectionPage",
        "partOf": actor.outbox,
        "orderedItems": [activity for _seq, activity in page],
    }
    if len(newer_first) > OUTBOX_PAGE_SIZE:
        document["next"] = f"{actor.outbox}?before={page[-1][0]}"
    return document


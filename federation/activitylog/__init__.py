"""The federation app's per-actor, append-only activity log on disk.

Each local actor has one log in a directory of segment files
``<actor_id>-NNNNNN.log``. ActivityLog and AsyncActivityLog write it, one
process at a time; ActivityLogReader follows it from other processes. See
FORMAT.md for the byte layout and durability.py for the fsync policies.
"""

from __future__ import annotations

from .async_log import AsyncActivityLog
from .errors import ActivityLogError, CorruptSegmentError, LogLockedError
from .log import DEFAULT_SEGMENT_SIZE, ActivityLog
from .reader import ActivityLogReader

__all__ = [
    "DEFAULT_SEGMENT_SIZE",
    "ActivityLog",
    "ActivityLogError",
    "ActivityLogReader",
    "AsyncActivityLog",
    "CorruptSegmentError",
    "LogLockedError",
]

"""The federation app's per-actor, append-only activity log on disk.

Each local actor has one log in a directory of segment files
``<actor_id>-NNNNNN.log``. See FORMAT.md for the byte layout and
durability.py for the fsync policies.
"""

from __future__ import annotations

from .async_log import AsyncActivityLog
from .errors import ActivityLogError, CorruptSegmentError, LogLockedError
from .log import DEFAULT_SEGMENT_SIZE, ActivityLog

__all__ = [
    "DEFAULT_SEGMENT_SIZE",
    "ActivityLog",
    "ActivityLogError",
    "AsyncActivityLog",
    "CorruptSegmentError",
    "LogLockedError",
]

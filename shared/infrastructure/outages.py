"""Log an outage of PostgreSQL or Redis once when it starts and once when it ends."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("rose_ash.outage")


class OutageTracker:
    def __init__(self, app_name: str) -> None:
        self.app_name = app_name
        self._down: dict[str, str] = {}
        self._lock = threading.Lock()

    def is_down(self, service: str) -> bool:
        return service in self._down

    def down(self, service: str, reason: str) -> None:
        with self._lock:
            if service in self._down:
                return
            self._down[service] = reason
        log.error("%s: %s is unreachable (%s); answering 503 until it is back", self.app_name, service, reason)

    def up(self, service: str) -> None:
        if service not in self._down:
            return
        with self._lock:
            if self._down.pop(service, None) is None:
                return
        log.warning("%s: %s is reachable again", self.app_name, service)

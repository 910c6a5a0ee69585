"""One log format for every process."""

from __future__ import annotations

import logging
import os

from .config import ConfigError

ACCESS_LOG_VARIABLE = "ACCESS_LOG"
ACCESS_LOG_CHOICES = ("all", "errors", "off")
ACCESS_LOGGER = "rose_ash.access"


class _FailedRequestsOnly(logging.Filter):
    """Pass access lines of responses with status 400 or above, and of requests that got no response."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status", None)
        return not isinstance(status, int) or status >= 400


_failed_requests_only = _FailedRequestsOnly()


def configure_logging(level: str | None = None) -> None:
    """Set up the root handler, and the access log as the ACCESS_LOG variable sets it (all, errors or off)."""
    logging.basicConfig(
        level=(level or os.environ.get("LOG_LEVEL") or "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # The access log is ours; Hypercorn's would repeat it.
    logging.getLogger("hypercorn.access").setLevel(logging.WARNING)
    # Alembic's start-up chatter says nothing an operator needs; our commands report what they did.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # httpx logs every request at INFO, and each page fetches fragments from the other apps.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    _configure_access_log(os.environ.get(ACCESS_LOG_VARIABLE) or "all")


def _configure_access_log(choice: str) -> None:
    if choice.lower() not in ACCESS_LOG_CHOICES:
        raise ConfigError(ACCESS_LOG_VARIABLE, f"is {choice!r}", f"use one of {', '.join(ACCESS_LOG_CHOICES)}")
    access = logging.getLogger(ACCESS_LOGGER)
    access.removeFilter(_failed_requests_only)
    access.disabled = choice.lower() == "off"
    if choice.lower() == "errors":
        access.addFilter(_failed_requests_only)

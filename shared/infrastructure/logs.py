"""One log format for every process."""

from __future__ import annotations

import logging
import os


def configure_logging(level: str | None = None) -> None:
    logging.basicConfig(
        level=(level or os.environ.get("LOG_LEVEL") or "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # The access log is ours; Hypercorn's would repeat it.
    logging.getLogger("hypercorn.access").setLevel(logging.WARNING)
    # Alembic's start-up chatter says nothing an operator needs; our commands report what they did.
    logging.getLogger("alembic").setLevel(logging.WARNING)

"""Helpers shared by the activity log tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from federation.activitylog.format import RECORD_OVERHEAD, segment_header_size

REPO_ROOT = Path(__file__).resolve().parents[3]


def entry(number: int) -> bytes:
    """Return a distinct entry whose length varies with ``number``."""
    return (f"entry-{number}:" + "x" * (number % 17)).encode()


def record_starts(actor_id: str, entries: list[bytes]) -> list[int]:
    """Return the byte offset of each entry's record in a segment that contains ``entries``, from the format spec."""
    offset = segment_header_size(actor_id)
    starts = []
    for payload in entries:
        starts.append(offset)
        offset += RECORD_OVERHEAD + len(payload)
    return starts


def snapshot(directory: Path) -> dict[str, bytes]:
    """Return the name and content of every file in ``directory``."""
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def start_python(code: str, *args: str) -> subprocess.Popen:
    """Start a Python child process running ``code`` with the repository importable."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO_ROOT,
    )

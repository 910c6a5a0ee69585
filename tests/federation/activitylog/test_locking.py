"""One writer per log: the lock file and LogLockedError."""

from __future__ import annotations

import os

import pytest

from federation.activitylog import ActivityLog, LogLockedError

from tests.federation.activitylog.support import start_python

HOLDER = """
import sys
from federation.activitylog import ActivityLog

with ActivityLog.open("alice", sys.argv[1]) as log:
    log.append(b"from the holder")
    print("open", flush=True)
    sys.stdin.readline()
"""


def test_second_process_gets_log_locked_error(tmp_path):
    with start_python(HOLDER, str(tmp_path)) as holder:
        try:
            assert holder.stdout.readline() == "open\n"

            with pytest.raises(LogLockedError) as caught:
                ActivityLog.open("alice", tmp_path)

            assert caught.value.pid == holder.pid
            assert f"process {holder.pid}" in str(caught.value)
            assert caught.value.actor_id == "alice"
        finally:
            holder.stdin.write("done\n")
            holder.stdin.close()
        assert holder.wait() == 0

    with ActivityLog.open("alice", tmp_path) as log:
        assert list(log.read()) == [(1, b"from the holder")]


def test_same_process_second_open_raises(tmp_path):
    with ActivityLog.open("alice", tmp_path):
        with pytest.raises(LogLockedError) as caught:
            ActivityLog.open("alice", tmp_path)
        assert caught.value.pid == os.getpid()

        with ActivityLog.open("bob", tmp_path) as other:
            assert other.tip == 0

    with ActivityLog.open("alice", tmp_path) as log:
        assert log.tip == 0

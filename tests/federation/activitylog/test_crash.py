"""A writer killed with SIGKILL loses no entry it had acknowledged."""

from __future__ import annotations

import os
import signal

from federation.activitylog import ActivityLog

from tests.federation.activitylog.support import start_python

WRITER = """
import sys
from federation.activitylog import ActivityLog

log = ActivityLog.open("alice", sys.argv[1], segment_size=4096, fsync="always")
seq = 0
while True:
    seq = log.append(b"entry %d " % (seq + 1) * (1 + seq % 7))
    print(seq, flush=True)
"""


def _expected(seq):
    return b"entry %d " % seq * (1 + (seq - 1) % 7)


def test_sigkill_loses_no_acknowledged_entry(tmp_path):
    acknowledged = []
    with start_python(WRITER, str(tmp_path)) as writer:
        try:
            while len(acknowledged) < 300:
                line = writer.stdout.readline()
                assert line.endswith("\n"), f"the writer stopped early: {line!r}"
                acknowledged.append(int(line))
        finally:
            os.kill(writer.pid, signal.SIGKILL)
            writer.stdin.close()
        assert writer.wait() == -signal.SIGKILL
        rest = writer.stdout.read()
    acknowledged.extend(int(line) for line in rest.splitlines(keepends=True) if line.endswith("\n"))

    with ActivityLog.open("alice", tmp_path) as log:
        entries = dict(log.read())
        assert log.tip >= acknowledged[-1]
        assert len(log.segment_lengths) > 1
    assert acknowledged == list(range(1, len(acknowledged) + 1))
    for seq in acknowledged:
        assert entries[seq] == _expected(seq)

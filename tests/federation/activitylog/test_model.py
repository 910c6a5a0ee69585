"""Property test: random appends, reopens, rotations and torn tails against an in-memory model, read by the writer and a reader."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from federation.activitylog import ActivityLog, ActivityLogReader, log as log_module
from federation.activitylog.format import RECORD_OVERHEAD, segment_header_size

HEADER_SIZE = segment_header_size("alice")

# Each step is (operation, payload, number). The number is the segment size
# for "reopen". It picks how many bytes of the last record "truncate" cuts
# off, and how many zero bytes "zero-fill" adds after it. A crash leaves such
# zeros when the file grew but its data never reached the disk. Appends are
# listed several times so that they make up most of a sequence.
operations = st.lists(
    st.tuples(
        st.sampled_from(["append"] * 6 + ["reopen", "rotate", "truncate", "zero-fill"]),
        st.binary(max_size=120),
        st.integers(min_value=1, max_value=600),
    ),
    min_size=5,
    max_size=60,
)


@dataclass
class Model:
    """What the log must contain: entries, and per segment its entry count and size in bytes."""

    segment_size: int
    entries: list[bytes] = field(default_factory=list)
    counts: list[int] = field(default_factory=lambda: [0])
    sizes: list[int] = field(default_factory=lambda: [HEADER_SIZE])

    def append(self, payload: bytes) -> None:
        if self.sizes[-1] >= self.segment_size and self.counts[-1] > 0:
            self.counts.append(0)
            self.sizes.append(HEADER_SIZE)
        self.entries.append(payload)
        self.counts[-1] += 1
        self.sizes[-1] += RECORD_OVERHEAD + len(payload)

    def drop_last(self) -> int:
        """Remove the newest entry, which must be in the newest segment; return its record size."""
        payload = self.entries.pop()
        self.counts[-1] -= 1
        self.sizes[-1] -= RECORD_OVERHEAD + len(payload)
        return RECORD_OVERHEAD + len(payload)


def _check(log: ActivityLog, model: Model) -> None:
    assert log.tip == len(model.entries)
    assert log.segment_lengths == model.counts
    assert [path.stat().st_size for path in log.segment_paths] == model.sizes
    with ActivityLogReader.open("alice", log.directory) as reader:
        assert reader.segment_lengths == model.counts


def _cut_last_record(log: ActivityLog, model: Model, number: int) -> None:
    """Cut between 1 byte and all of the newest record off the end of the newest segment."""
    newest = log.segment_paths[-1]
    record_size = model.drop_last()
    size = newest.stat().st_size
    with open(newest, "r+b") as file:
        file.truncate(size - 1 - number % record_size)


def _add_zeros(log: ActivityLog, number: int) -> None:
    with open(log.segment_paths[-1], "ab") as file:
        file.write(bytes(number % 100 + 1))


_example_numbers = itertools.count()


@settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=operations)
def test_log_matches_model(tmp_path, monkeypatch, operations):
    # Index files rewritten every few records, so that reopens meet indexes
    # that cover part of a segment as well as whole ones.
    monkeypatch.setattr(log_module, "INDEX_EVERY_BYTES", 250)
    directory = tmp_path / f"example-{next(_example_numbers)}"
    model = Model(segment_size=300)
    log = ActivityLog.open("alice", directory, segment_size=model.segment_size, fsync="never")
    try:
        for operation, payload, number in operations:
            if operation == "append":
                assert log.append(payload) == len(model.entries) + 1
                model.append(payload)
            elif operation != "truncate" or model.counts[-1] > 0:
                log.close()
                if operation == "truncate":
                    _cut_last_record(log, model, number)
                elif operation == "zero-fill":
                    _add_zeros(log, number)
                else:
                    model.segment_size = 1 if operation == "rotate" else number
                log = ActivityLog.open("alice", directory, segment_size=model.segment_size, fsync="never")
                assert list(log.read()) == list(enumerate(model.entries, start=1))
            _check(log, model)
        assert list(log.read()) == list(enumerate(model.entries, start=1))
    finally:
        log.close()

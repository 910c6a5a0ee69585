"""Invalid arguments raise before anything touches the disk."""

from __future__ import annotations

import pytest

from federation.activitylog import ActivityLog


@pytest.mark.parametrize(
    "actor_id",
    ["", ".hidden", "Alice", "a b", "a/b", "ä", "a" * 65, "tab\t", None, 7],
)
def test_invalid_actor_id_raises_before_touching_disk(tmp_path, actor_id):
    base = tmp_path / "logs"

    with pytest.raises(ValueError, match="invalid actor id"):
        ActivityLog.open(actor_id, base)

    assert not base.exists()


@pytest.mark.parametrize("actor_id", ["a", "0", "a" * 64, "alice.example-2_x", "-dash", "_"])
def test_valid_actor_ids_open(tmp_path, actor_id):
    with ActivityLog.open(actor_id, tmp_path) as log:
        log.append(b"x")
        assert log.segment_paths[0].name == f"{actor_id}-000000.log"


@pytest.mark.parametrize(
    "options",
    [{"fsync": "sometimes"}, {"fsync": None}, {"segment_size": 0}, {"segment_size": -1}, {"segment_size": "1GB"}, {"segment_size": True}],
)
def test_invalid_options_raise_before_touching_disk(tmp_path, options):
    base = tmp_path / "logs"

    with pytest.raises(ValueError):
        ActivityLog.open("alice", base, **options)

    assert not base.exists()


def test_append_rejects_non_bytes(tmp_path):
    with ActivityLog.open("alice", tmp_path) as log:
        with pytest.raises(TypeError, match="must be bytes, not str"):
            log.append("text")
        assert log.tip == 0


def test_closed_log_rejects_append_and_read(tmp_path):
    log = ActivityLog.open("alice", tmp_path)
    log.close()
    log.close()

    with pytest.raises(ValueError, match="closed"):
        log.append(b"x")
    with pytest.raises(ValueError, match="closed"):
        log.read()


def test_read_rejects_start_below_one(tmp_path):
    with ActivityLog.open("alice", tmp_path) as log:
        log.append(b"x")
        with pytest.raises(ValueError, match="start at 1"):
            log.read(0)
        assert list(log.read(1, 1)) == []

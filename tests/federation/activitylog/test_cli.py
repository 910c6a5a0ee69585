"""`rose-ash activitylog verify` and `repair`, driven through click."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from federation.activitylog import ActivityLog
from federation.activitylog.cli import activitylog
from federation.activitylog.format import RECORD_OVERHEAD

from tests.federation.activitylog.support import entry, flip_byte, record_starts, snapshot


def _write(directory, actor_id, entries, segment_size=160):
    with ActivityLog.open(actor_id, directory, segment_size=segment_size) as log:
        for payload in entries:
            log.append(payload)
        return log.segment_paths, log.segment_lengths


@pytest.fixture
def logs(tmp_path):
    """A directory with an intact log (alice), a torn one (bob) and a corrupt one (carol)."""
    entries = [entry(number) for number in range(9)]
    _write(tmp_path, "alice", entries)

    bob_paths, _ = _write(tmp_path, "bob", entries)
    torn = bob_paths[-1]
    torn.write_bytes(torn.read_bytes()[:-4])

    carol_paths, carol_lengths = _write(tmp_path, "carol", entries)
    first = carol_lengths[0]
    damaged_offset = record_starts("carol", entries[first : first + carol_lengths[1]])[1]
    flip_byte(carol_paths[1], damaged_offset + RECORD_OVERHEAD)
    return {
        "directory": tmp_path,
        "entries": entries,
        "carol_paths": carol_paths,
        "carol_lengths": carol_lengths,
        "damaged_offset": damaged_offset,
    }


def test_verify_reports_every_log(logs):
    directory = logs["directory"]
    before = snapshot(directory)

    result = CliRunner().invoke(activitylog, ["verify", str(directory)])

    lines = result.output.splitlines()
    assert result.exit_code == 1
    assert lines[0].startswith("alice: OK; ")
    assert "9 entries, tip 9" in lines[0]
    assert lines[1].startswith("bob: torn tail; ")
    assert "bob-00000" in lines[1]
    assert lines[2].startswith("carol: CORRUPT; ")
    assert f"carol-000001.log at byte offset {logs['damaged_offset']}: payload CRC mismatch" in lines[2]
    assert f"{logs['carol_lengths'][0] + 1} valid entries" in lines[2]
    assert "3 logs checked, 1 corrupt" in result.output
    assert f"rose-ash activitylog repair {directory} carol" in result.output
    assert snapshot(directory) == before


def test_verify_single_actor(logs):
    directory = logs["directory"]

    intact = CliRunner().invoke(activitylog, ["verify", str(directory), "alice"])
    torn = CliRunner().invoke(activitylog, ["verify", str(directory), "bob"])
    missing = CliRunner().invoke(activitylog, ["verify", str(directory), "dave"])
    invalid = CliRunner().invoke(activitylog, ["verify", str(directory), "Not/Valid"])

    assert intact.exit_code == 0
    assert intact.output.startswith("alice: OK; ")
    assert "1 log checked, 0 corrupt" in intact.output
    assert torn.exit_code == 0
    assert missing.exit_code == 1
    assert "no activity log for actor 'dave'" in missing.output
    assert invalid.exit_code == 2
    assert "invalid actor id" in invalid.output


def test_repair_keeps_valid_prefix(logs):
    directory = logs["directory"]
    paths = logs["carol_paths"]
    offset = logs["damaged_offset"]
    originals = {path: path.read_bytes() for path in paths}

    result = CliRunner().invoke(activitylog, ["repair", str(directory), "carol"])

    assert result.exit_code == 0, result.output
    moved_tail = paths[1].with_name(paths[1].name + ".corrupt")
    end = len(originals[paths[1]]) - 1
    assert f"moved bytes {offset}-{end} ({end - offset + 1} bytes) of {paths[1]} to {moved_tail}" in result.output
    for later in paths[2:]:
        assert f"moved {later} ({len(originals[later])} bytes) to {later}.corrupt" in result.output
        assert not later.exists()
        assert later.with_name(later.name + ".corrupt").read_bytes() == originals[later]
    assert paths[1].read_bytes() == originals[paths[1]][:offset]
    assert moved_tail.read_bytes() == originals[paths[1]][offset:]

    kept_entries = logs["carol_lengths"][0] + 1
    assert f"repaired: carol: OK; 2 segments, {kept_entries} entries, tip {kept_entries}" in result.output
    with ActivityLog.open("carol", directory) as log:
        assert list(log.read()) == list(enumerate(logs["entries"][:kept_entries], start=1))
    after = CliRunner().invoke(activitylog, ["verify", str(directory)])
    assert after.exit_code == 0


def test_repair_moves_torn_tail_aside(logs):
    directory = logs["directory"]

    result = CliRunner().invoke(activitylog, ["repair", str(directory), "bob"])

    assert result.exit_code == 0, result.output
    assert "moved bytes" in result.output
    assert "repaired: bob: OK; " in result.output
    assert len(list(directory.glob("bob-*.log.corrupt"))) == 1


def test_repair_dry_run_changes_nothing(logs):
    directory = logs["directory"]
    before = snapshot(directory)

    result = CliRunner().invoke(activitylog, ["repair", "--dry-run", str(directory), "carol"])

    assert result.exit_code == 0, result.output
    assert "would move bytes" in result.output
    assert "dry run, nothing changed" in result.output
    assert snapshot(directory) == before


def test_repair_of_intact_log_does_nothing(logs):
    directory = logs["directory"]
    before = snapshot(directory)

    result = CliRunner().invoke(activitylog, ["repair", str(directory), "alice"])

    assert result.exit_code == 0
    assert result.output.startswith("nothing to repair: alice: OK; ")
    assert snapshot(directory) == before


def test_repair_of_open_log_fails(logs):
    directory = logs["directory"]

    with ActivityLog.open("alice", directory):
        result = CliRunner().invoke(activitylog, ["repair", str(directory), "alice"])

    assert result.exit_code == 1
    assert "already open in process" in result.output


def test_commands_explain_themselves_in_help():
    runner = CliRunner()

    group_help = runner.invoke(activitylog, ["--help"])
    verify_help = runner.invoke(activitylog, ["verify", "--help"])
    repair_help = runner.invoke(activitylog, ["repair", "--help"])

    assert group_help.exit_code == 0
    assert "verify" in group_help.output
    assert "repair" in group_help.output
    assert verify_help.exit_code == 0
    assert "DIR [ACTOR]" in verify_help.output
    assert "status 1" in verify_help.output
    assert repair_help.exit_code == 0
    assert "DIR ACTOR" in repair_help.output
    assert ".corrupt" in repair_help.output
    assert "--dry-run" in repair_help.output


HOLDER = """
import sys
from federation.activitylog import ActivityLog

with ActivityLog.open(sys.argv[2], sys.argv[1]):
    print("open", flush=True)
    sys.stdin.readline()
"""


def test_repair_names_the_event_processor(logs):
    from tests.federation.activitylog.support import start_python

    directory = logs["directory"]
    # The holder's command line ends with "event-processor", as the process 'make run' starts does.
    with start_python(HOLDER, str(directory), "alice", "event-processor") as holder:
        try:
            assert holder.stdout.readline() == "open\n"
            result = CliRunner().invoke(activitylog, ["repair", str(directory), "alice"])
        finally:
            holder.stdin.write("done\n")
            holder.stdin.close()

    assert result.exit_code == 1
    assert f"already open in process {holder.pid}, the EventProcessor" in result.output
    assert "Ctrl-C in the terminal of 'make run'" in result.output
    assert "rose-ash event-processor" in result.output


def test_repair_of_unknown_holder_suggests_the_event_processor(logs):
    from tests.federation.activitylog.support import start_python

    directory = logs["directory"]
    with start_python(HOLDER, str(directory), "alice") as holder:
        try:
            assert holder.stdout.readline() == "open\n"
            result = CliRunner().invoke(activitylog, ["repair", str(directory), "alice"])
        finally:
            holder.stdin.write("done\n")
            holder.stdin.close()

    assert result.exit_code == 1
    assert f"already open in process {holder.pid}" in result.output
    assert "most likely the EventProcessor" in result.output


def test_damaged_last_record_reads_as_torn_tail(tmp_path):
    entries = [entry(number) for number in range(3)]
    paths, _ = _write(tmp_path, "dave", entries, segment_size=1 << 20)
    last = record_starts("dave", entries)[-1]
    flip_byte(paths[-1], last + RECORD_OVERHEAD)

    result = CliRunner().invoke(activitylog, ["verify", str(tmp_path), "dave"])

    assert result.exit_code == 0
    assert result.output.startswith("dave: torn tail; ")


def test_help_states_torn_tail_and_repair_limits():
    runner = CliRunner()
    verify_help = " ".join(runner.invoke(activitylog, ["verify", "--help"]).output.split())
    repair_help = " ".join(runner.invoke(activitylog, ["repair", "--help"]).output.split())

    assert "a single damaged byte in that record reads as a torn tail" in verify_help
    assert "keeps only the entries before the first damaged record" in repair_help
    assert "Entries after the damage go to the .corrupt files too" in repair_help
    assert "stop the EventProcessor" in repair_help

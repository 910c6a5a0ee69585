"""``rose-ash activitylog``: check and repair the federation app's activity logs on disk."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .errors import LogLockedError
from .names import list_segments, validate_actor_id
from .repair import repair_log, verify_logs

_DIRECTORY = click.Path(exists=True, file_okay=False, dir_okay=True, path_type=Path)


def _actor_argument(_context: click.Context, _parameter: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return validate_actor_id(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@click.group(name="activitylog")
def activitylog() -> None:
    """Check and repair the per-actor activity logs of the federation app.

    A log is a set of segment files named ACTOR-NNNNNN.log in one directory.
    verify reads a log while the app runs; repair stops with an error if a
    running process has the log open.
    """


@activitylog.command()
@click.argument("directory", metavar="DIR", type=_DIRECTORY)
@click.argument("actor", required=False, callback=_actor_argument)
def verify(directory: Path, actor: str | None) -> None:
    """Check every activity log in DIR, or only ACTOR's, without changing anything.

    Prints one line per log with its segments, entries, tip and state. The
    state is OK, "torn tail" or CORRUPT. A torn tail is a record cut short by
    a crash, which the next open drops. A corrupt log's line names the segment
    file and byte offset of the damage. Exits with status 1 if any log is
    corrupt. A log that is being written may show a torn tail for the append
    in flight.

    The format cannot tell damage in the last record of the newest segment
    from a write cut short: a single damaged byte in that record reads as a
    torn tail, not CORRUPT, and the next open drops that one entry.
    """
    if actor is not None and not list_segments(directory, actor):
        raise click.ClickException(f"no activity log for actor {actor!r} in {directory}")

    reports = verify_logs(directory, actor)
    if not reports:
        click.echo(f"no activity logs in {directory}")
        return
    for report in reports:
        click.echo(report.describe())

    corrupt = [report.actor_id for report in reports if report.status == "corrupt"]
    checked = f"{len(reports)} log{'s' if len(reports) != 1 else ''} checked"
    click.echo(f"{checked}, {len(corrupt)} corrupt")
    if corrupt:
        for actor_id in corrupt:
            click.echo(f"to keep the valid entries of {actor_id!r}: rose-ash activitylog repair {directory} {actor_id}", err=True)
        # SystemExit, because click returns the code of its own Exit exception
        # instead of exiting when the caller runs it with standalone_mode=False.
        sys.exit(1)


@activitylog.command()
@click.argument("directory", metavar="DIR", type=_DIRECTORY)
@click.argument("actor", callback=_actor_argument)
@click.option("--dry-run", is_flag=True, help="Print what would be moved and change nothing.")
def repair(directory: Path, actor: str, dry_run: bool) -> None:
    """Keep the valid entries of ACTOR's log in DIR and move the rest aside.

    Finds the first damaged or torn record, keeps every entry before it, and
    moves the bytes from that record on, and every later segment file, into
    files named after them with a .corrupt suffix in DIR. Entries after the
    damage go to the .corrupt files too, even where their own records are
    valid, so the log keeps only the entries before the first damaged
    record. Nothing is deleted. Prints each move.

    The log must not be open in another process: stop the EventProcessor
    first (Ctrl-C in the terminal of 'make run', or stop 'rose-ash
    event-processor').
    """
    if not list_segments(directory, actor):
        raise click.ClickException(f"no activity log for actor {actor!r} in {directory}")
    try:
        moves, report = repair_log(directory, actor, dry_run=dry_run)
    except LogLockedError as error:
        raise click.ClickException(str(error)) from None

    if not moves:
        click.echo(f"nothing to repair: {report.describe()}")
        return
    for move in moves:
        click.echo(move.describe(done=not dry_run))
    if dry_run:
        click.echo(f"dry run, nothing changed: {report.describe()}")
    else:
        click.echo(f"repaired: {report.describe()}")

"""Actor ids and the names of the files that make up a log.

Segment files are ``<actor_id>-NNNNNN.log``: the segment number is zero-padded
to six digits so that a directory listing sorts in log order, and grows to
seven digits and more after 999999. Numbers are always compared as integers.
"""

from __future__ import annotations

import re
from pathlib import Path

ACTOR_ID_MAX_LENGTH = 64

_ACTOR_ID = re.compile(r"[a-z0-9_-][a-z0-9_.-]{0,63}")
_SEGMENT_NAME = re.compile(r"(?P<actor>[a-z0-9_-][a-z0-9_.-]{0,63})-(?P<number>[0-9]{6,})\.log")

SEGMENT_SUFFIX = ".log"
INDEX_SUFFIX = ".idx"
TEMP_SUFFIX = ".tmp"
CORRUPT_SUFFIX = ".corrupt"


def validate_actor_id(actor_id: object) -> str:
    """Return ``actor_id`` unchanged, or raise ValueError if it is not a valid actor id."""
    if not isinstance(actor_id, str) or not _ACTOR_ID.fullmatch(actor_id):
        raise ValueError(
            f"invalid actor id {actor_id!r}: use 1 to {ACTOR_ID_MAX_LENGTH} characters "
            "from a-z, 0-9, '_', '.' and '-', not starting with '.'"
        )
    return actor_id


def segment_name(actor_id: str, number: int) -> str:
    return f"{actor_id}-{number:06d}{SEGMENT_SUFFIX}"


def index_path(segment_path: Path) -> Path:
    """Return the path of the index file that belongs to a segment file."""
    return segment_path.with_name(segment_path.name[: -len(SEGMENT_SUFFIX)] + INDEX_SUFFIX)


def lock_name(actor_id: str) -> str:
    return f"{actor_id}.lock"


def parse_segment_name(name: str) -> tuple[str, int] | None:
    """Return ``(actor_id, segment_number)`` for a segment file name, else None.

    A number written with more leading zeros than six digits need
    (``x-0000001.log``) is not a segment name, so no two names share a number.
    """
    match = _SEGMENT_NAME.fullmatch(name)
    if match is None:
        return None
    number = int(match["number"])
    if f"{number:06d}" != match["number"]:
        return None
    return match["actor"], number


def list_segments(directory: Path, actor_id: str) -> list[tuple[int, Path]]:
    """Return ``(number, path)`` of every segment of ``actor_id`` in ``directory``, oldest first."""
    found = []
    for path in directory.iterdir():
        parsed = parse_segment_name(path.name)
        if parsed is not None and parsed[0] == actor_id:
            found.append((parsed[1], path))
    found.sort(key=lambda item: item[0])
    return found


def list_actors(directory: Path) -> list[str]:
    """Return the ids of all actors with at least one segment in ``directory``, sorted."""
    actors = set()
    for path in directory.iterdir():
        parsed = parse_segment_name(path.name)
        if parsed is not None:
            actors.add(parsed[0])
    return sorted(actors)


def list_temp_files(directory: Path, actor_id: str) -> list[Path]:
    """Return the segment and index files of ``actor_id`` left half-created by a crash."""
    leftovers = []
    for path in directory.iterdir():
        if not path.name.endswith(TEMP_SUFFIX):
            continue
        name = path.name[: -len(TEMP_SUFFIX)]
        if name.endswith(INDEX_SUFFIX):
            name = name[: -len(INDEX_SUFFIX)] + SEGMENT_SUFFIX
        parsed = parse_segment_name(name)
        if parsed is not None and parsed[0] == actor_id:
            leftovers.append(path)
    return leftovers

"""Page numbers from the query string, and the slice of rows they select."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from werkzeug.exceptions import BadRequest

MAX_PAGE = 100_000


class BadPageNumber(BadRequest):
    pass


def page_number(args: Any) -> int:
    """The ``page`` argument as a number from 1; a clear 400 for anything else."""
    raw = args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise BadPageNumber(f"'{raw[:20]}' is not a page number. Use a whole number from 1, as in ?page=2.")
    return int(raw)


@dataclass(frozen=True)
class Page:
    number: int
    pages: int
    total: int
    items: Sequence[Any]

    @property
    def beyond_last(self) -> bool:
        return self.number > self.pages


def page_count(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))

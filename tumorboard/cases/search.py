"""Case search: what a caller may look for, checked, and turned into the case list's parameters.

`q` matches words of the patient's MRN, given and family name and the diagnosis code, ignoring case
and accents: every word of it but the last must be one of those words, and the last may be the
beginning of one, as the search is typed ("ada lov" finds Ada Lovelace, "c50.9" finds C50.911,
"lov ada" does not). Punctuation only separates words, so quotes and wildcards are searched as
literal text and never as patterns. The other filters are exact. The database does the matching,
with a word index (`case_search_query` in sql/migrations/0016_search_and_report_at_scale.sql),
over the cases the caller may see; every search runs under a statement timeout.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec

from tumorboard.enums import DiseaseSite
from tumorboard.errors import InvalidInput

MAX_QUERY_LENGTH = 200
MAX_WORDS = 5
# A search is refused rather than left running longer than this.
TIMEOUT_MILLISECONDS = 2000
_WORD = re.compile(r"[^\W_]+")


class CaseSearch(msgspec.Struct, kw_only=True, frozen=True):
    """Optional filters of the case list; all given ones must hold."""

    q: str | None = None
    disease_site: DiseaseSite | None = None
    board_id: UUID | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None

    @property
    def is_search(self) -> bool:
        """Whether any filter is given."""
        return any(getattr(self, name) is not None for name in self.__struct_fields__)


NO_SEARCH = CaseSearch()


def submission_day(value: str | None, field: str) -> date | None:
    """A `from` or `to` query value as a day (YYYY-MM-DD); a 400 naming the field otherwise."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, "must be a date (YYYY-MM-DD)") from None


def query_words(q: str) -> list[str]:
    """The words of a search text, refused when it is too long, holds NUL or has no word at all."""
    if len(q) > MAX_QUERY_LENGTH:
        raise InvalidInput("q", f"must be at most {MAX_QUERY_LENGTH} characters")
    if "\x00" in q:
        raise InvalidInput("q", "must not contain NUL characters")
    words = _WORD.findall(q)
    if not words and q.strip():
        raise InvalidInput("q", "needs at least one letter or digit")
    if len(words) > MAX_WORDS:
        raise InvalidInput("q", f"may have at most {MAX_WORDS} words")
    return words


def query_parameters(search: CaseSearch, time_zone: str) -> dict[str, Any]:
    """The list query's search parameters: the words searched (None for a blank or no search text),
    and the submission days as the instants that bound them in `time_zone`."""
    if search.submitted_from and search.submitted_to and search.submitted_from > search.submitted_to:
        raise InvalidInput("from", "must not be after to")
    zone = ZoneInfo(time_zone)
    words = query_words(search.q) if search.q else []
    return {
        "words": " ".join(words) or None,
        "disease_site": search.disease_site,
        "board_id": search.board_id,
        "submitted_from": _day_start(search.submitted_from, zone),
        "submitted_before": _day_start(search.submitted_to + timedelta(days=1), zone)
        if search.submitted_to
        else None,
    }


def _day_start(day: date | None, zone: ZoneInfo) -> datetime | None:
    return datetime.combine(day, time.min, zone) if day else None

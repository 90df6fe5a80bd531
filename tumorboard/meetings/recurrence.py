"""The RRULE subset a meeting series may use, bounded so that expanding it is always cheap.

dateutil finds occurrences by walking a rule period by period (a day at a time for DAILY) until a
date matches; a rule that matches nothing ("every February 30th") walks to the year 9999, seconds
of CPU on the event loop. The subset below always matches within 28 years (one cycle of weekdays
and leap years), which dateutil walks in well under 100 ms even a day at a time; the series then
also needs a meeting within a year of its start (checked by the caller).
"""

from __future__ import annotations

import re
from datetime import date

from tumorboard.errors import InvalidInput

FIELD = "recurrence_rule"
ALLOWED_PARTS = frozenset(
    {"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS"}
)
MAX_INTERVAL = 12
MAX_COUNT = 1000
# The longest each month can be (February in a leap year).
MONTH_DAYS = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
_WEEKDAY = re.compile(r"(?P<ordinal>[+-]?\d{1,2})?(?P<day>MO|TU|WE|TH|FR|SA|SU)\Z")
_INTEGER = re.compile(r"[+-]?\d{1,4}\Z")


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(FIELD, message)


def _integers(parts: dict[str, str], name: str, low: int, high: int) -> list[int]:
    """The comma-separated integers of a part, each within ±[low, high]."""
    if name not in parts:
        return []
    values = []
    for item in parts[name].split(","):
        if not _INTEGER.match(item) or not low <= abs(int(item)) <= high:
            raise _refuse(f"{name} values must be between {low} and {high} (or their negatives)")
        values.append(int(item))
    return values


def check_bounds(parts: dict[str, str], starts_on: date) -> None:
    """Refuse (InvalidInput) a rule outside the subset that always matches within 28 years."""
    if unknown := sorted(parts.keys() - ALLOWED_PARTS):
        raise _refuse(f"must not contain {', '.join(unknown)}")
    freq = parts["FREQ"]
    interval = _integers(parts, "INTERVAL", 1, MAX_INTERVAL)
    if any(value < 1 for value in interval):
        raise _refuse(f"INTERVAL must be between 1 and {MAX_INTERVAL}")
    if any(value < 1 for value in _integers(parts, "COUNT", 1, MAX_COUNT)):
        raise _refuse(f"COUNT must be between 1 and {MAX_COUNT}")
    months = _integers(parts, "BYMONTH", 1, 12)
    if any(month < 1 for month in months):
        raise _refuse("BYMONTH values must be between 1 and 12")
    month_days = _integers(parts, "BYMONTHDAY", 1, 31)
    if freq in ("MONTHLY", "YEARLY") and "BYMONTHDAY" not in parts and "BYDAY" not in parts:
        month_days = [starts_on.day]  # what dateutil falls back on
    positions = _integers(parts, "BYSETPOS", 1, 5)
    ordinals, plain = [], 0
    for item in parts.get("BYDAY", "").split(",") if "BYDAY" in parts else []:
        match = _WEEKDAY.match(item)
        if match is None:
            raise _refuse("BYDAY values must be weekdays such as TU, or 2TU and -1FR for MONTHLY rules")
        if match["ordinal"] is None:
            plain += 1
        else:
            ordinals.append(int(match["ordinal"]))
    if ordinals and plain:
        raise _refuse("BYDAY cannot mix numbered weekdays (2TU) with plain ones (TU)")
    if ordinals and (freq != "MONTHLY" or not all(1 <= abs(ordinal) <= 5 for ordinal in ordinals)):
        raise _refuse("numbered weekdays (2TU, -1FR) are for MONTHLY rules, from 1 to 5 or -1 to -5")
    if ordinals and month_days:
        raise _refuse("numbered weekdays (2TU, -1FR) cannot be combined with BYMONTHDAY")
    if positions and (freq != "MONTHLY" or not plain or month_days):
        raise _refuse("BYSETPOS is for MONTHLY rules with plain weekdays in BYDAY and without BYMONTHDAY")
    longest = max(MONTH_DAYS[month] for month in months) if months else 31
    if any(abs(day) > longest for day in month_days):
        raise _refuse("BYMONTHDAY (or the day of starts_on) names a day that none of the months has")
    if interval and interval[0] > 1:
        # Stepping over periods can keep missing the filters forever (every 7th day is never a Tuesday
        # when it starts on a Monday; every 12th month never reaches March from January).
        if freq == "DAILY" and len(parts.keys() & {"BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS"}):
            raise _refuse("a DAILY rule with INTERVAL above 1 cannot have BYDAY, BYMONTHDAY or BYMONTH")
        if freq == "MONTHLY" and months:
            raise _refuse("a MONTHLY rule with INTERVAL above 1 cannot have BYMONTH")
        if any(abs(day) > 28 for day in month_days):
            raise _refuse(
                "with INTERVAL above 1, the day of the month must be between 1 and 28 (or -1 and -28)"
            )

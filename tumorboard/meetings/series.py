"""Meeting series: a board's recurring meeting from an RFC 5545 RRULE, kept generated ahead.

Occurrences are expanded in the series' time zone (python-dateutil's rrule on zone-aware local
times), so "weekly on Tuesday at 07:30 Europe/Berlin" stays at 07:30 local time across daylight
saving changes. Each occurrence is an ordinary meeting that remembers the date it was generated
for; `UNIQUE (series_id, occurrence_on)` makes generation idempotent, and moving or cancelling
one occurrence leaves the others alone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
from dateutil.rrule import rrule, rrulestr

from tumorboard import audit, outbox
from tumorboard.auth.access import require_role
from tumorboard.auth.schemas import User
from tumorboard.db import Record, fetch_all, queries
from tumorboard.enums import MeetingStatus, Role
from tumorboard.errors import Conflict, InvalidInput, NotFound
from tumorboard.meetings import recurrence as recurrence_bounds
from tumorboard.meetings.schemas import MeetingSummary, ParticipantIn, ParticipantsPut, Series, SeriesCreate
from tumorboard.meetings.service import cancel_locked_meeting, check_participants, set_participants

ALLOWED_FREQUENCIES = frozenset({"DAILY", "WEEKLY", "MONTHLY", "YEARLY"})
# The start time is given on its own; these would add several meetings a day.
FORBIDDEN_PARTS = frozenset({"BYHOUR", "BYMINUTE", "BYSECOND", "DTSTART"})
LISTED_OCCURRENCES = 100
# Bounds that keep expanding a rule cheap (well under 100 ms on the event loop): occurrences are
# generated from at most a year back, and a rule must produce a meeting within a year.
STARTS_ON_PAST = timedelta(days=366)
STARTS_ON_FUTURE = timedelta(days=731)
FIRST_MEETING_WITHIN = timedelta(days=366)


def parse_rule(text: str, starts_on: date, start_time: time, time_zone: str) -> rrule:
    """The recurrence of a series, or InvalidInput naming what is wrong with the RRULE."""
    body = text.removeprefix("RRULE:")
    parts = dict(part.partition("=")[::2] for part in body.split(";") if part)
    if parts.get("FREQ") not in ALLOWED_FREQUENCIES:
        raise InvalidInput("recurrence_rule", "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY")
    if forbidden := sorted(FORBIDDEN_PARTS & parts.keys()):
        raise InvalidInput("recurrence_rule", f"must not contain {', '.join(forbidden)}: use start_time")
    today = datetime.now(UTC).date()
    if not today - STARTS_ON_PAST <= starts_on <= today + STARTS_ON_FUTURE:
        raise InvalidInput("starts_on", "must be within a year before today and two years after")
    recurrence_bounds.check_bounds(parts, starts_on)
    start = datetime.combine(starts_on, start_time, ZoneInfo(time_zone))
    try:
        recurrence = rrulestr(body, dtstart=start)
    except (ValueError, TypeError) as error:
        if "UNTIL" in str(error):
            raise InvalidInput(
                "recurrence_rule", "UNTIL must be a UTC date-time such as 20271231T235959Z"
            ) from None
        raise InvalidInput("recurrence_rule", "is not a valid RFC 5545 recurrence rule") from None
    # check_bounds guarantees a match within 28 years, so this search ends quickly either way.
    first = recurrence.after(start, inc=True) if isinstance(recurrence, rrule) else None
    if first is None or first > start + FIRST_MEETING_WITHIN:
        raise InvalidInput("recurrence_rule", "produces no meeting within a year of starts_on")
    return recurrence


def occurrences(recurrence: rrule, after: datetime, until: datetime) -> list[tuple[date, datetime]]:
    """The (local date, start in UTC) of each occurrence starting after `after` up to `until`."""
    found = []
    for start in recurrence.xafter(after, inc=False):
        if start > until:
            break
        found.append((start.date(), start.astimezone(UTC)))
    return found


async def generate_occurrences(conn: asyncpg.Connection, series_id: UUID) -> int:
    """Create the occurrences of a series within its horizon that do not exist yet; safe to repeat."""
    series = await queries.meetings.lock_series(conn, id=series_id)
    if series is None or series["ended_at"] is not None:
        return 0
    now = datetime.now(UTC)
    until = now + timedelta(days=series["horizon_days"])
    recurrence = parse_rule(
        series["recurrence_rule"], series["starts_on"], series["start_time"], series["time_zone"]
    )
    found = occurrences(recurrence, now.astimezone(ZoneInfo(series["time_zone"])), until)
    created = []
    if found:
        rows = await fetch_all(
            queries.meetings.insert_occurrences(
                conn,
                series_id=series_id,
                occurrence_dates=[day for day, _ in found],
                starts=[starts_at for _, starts_at in found],
            )
        )
        created = [row["id"] for row in rows]
    if created:
        await queries.meetings.copy_series_participants(conn, series_id=series_id, meeting_ids=created)
        await outbox.add_job(conn, outbox.ASSIGN_WAITING_CASES, created[0])
    await queries.meetings.mark_series_generated(conn, id=series_id, generated_until=until)
    return len(created)


async def generate_all_occurrences(conn: asyncpg.Connection) -> int:
    """Keep every active series generated ahead, one transaction per series."""
    created = 0
    for row in await fetch_all(queries.meetings.list_active_series(conn)):
        async with conn.transaction():
            created += await generate_occurrences(conn, row["id"])
    return created


async def create_series(conn: asyncpg.Connection, user: User, board_id: UUID, data: SeriesCreate) -> Series:
    """Define a board's recurring meeting (coordinators) and generate its first occurrences."""
    require_role(user, Role.COORDINATOR, action="create", subject_type="meeting_series")
    board = await queries.boards.get_board_settings(conn, id=board_id)
    if board is None:
        raise NotFound("No such board")
    time_zone = data.time_zone or board["time_zone"]
    parse_rule(data.recurrence_rule, data.starts_on, data.local_start_time, time_zone)
    await check_participants(conn, data.participants)
    series_id = await queries.meetings.insert_series(
        conn,
        board_id=board_id,
        recurrence_rule=data.recurrence_rule.removeprefix("RRULE:"),
        starts_on=data.starts_on,
        start_time=data.local_start_time,
        time_zone=time_zone,
        duration_minutes=data.duration_minutes,
        location=data.location,
        video_url=data.video_url,
        capacity=data.capacity,
        minutes_per_case=data.minutes_per_case or board["minutes_per_case"],
        deadline_hours=data.deadline_hours,
        horizon_days=data.horizon_days,
        created_by=user.id,
    )
    await _insert_participants(conn, series_id, data.participants)
    await generate_occurrences(conn, series_id)
    await audit.record(conn, user.id, "create", "meeting_series", series_id)
    return await load_series(conn, series_id)


async def replace_series_participants(
    conn: asyncpg.Connection, user: User, series_id: UUID, data: ParticipantsPut
) -> Series:
    """Replace the participants of a series (coordinators) and of its future occurrences whose
    participants were not set one by one."""
    require_role(
        user,
        Role.COORDINATOR,
        action="update_participants",
        subject_type="meeting_series",
        subject_id=series_id,
    )
    await check_participants(conn, data.participants)
    meetings = await _lock_open_occurrences(conn, series_id, following_series=True)
    await queries.meetings.delete_series_participants(conn, series_id=series_id)
    await _insert_participants(conn, series_id, data.participants)
    for locked in meetings:
        await set_participants(conn, locked, data.participants)
    if meetings:
        await outbox.add_job(conn, outbox.ASSIGN_WAITING_CASES, meetings[0]["id"])
    await audit.record(conn, user.id, "update_participants", "meeting_series", series_id)
    return await load_series(conn, series_id)


async def end_series(conn: asyncpg.Connection, user: User, series_id: UUID) -> Series:
    """Stop a series (coordinators): no new occurrences, future ones cancelled, their cases re-assigned."""
    require_role(user, Role.COORDINATOR, action="end", subject_type="meeting_series", subject_id=series_id)
    meetings = await _lock_open_occurrences(conn, series_id, following_series=False)
    await queries.meetings.end_series(conn, id=series_id)
    for locked in meetings:
        await cancel_locked_meeting(conn, locked["id"])
    if meetings:
        await outbox.add_job(conn, outbox.ASSIGN_WAITING_CASES, meetings[0]["id"])
    await audit.record(conn, user.id, "end", "meeting_series", series_id)
    return await load_series(conn, series_id)


async def list_board_series(conn: asyncpg.Connection, user: User, board_id: UUID) -> list[Series]:
    """A board's series with their upcoming occurrences, as the caller may see them."""
    if await queries.boards.get_board(conn, id=board_id) is None:
        raise NotFound("No such board")
    return [
        shown_to(user, await load_series(conn, row["id"]))
        for row in await fetch_all(queries.meetings.list_board_series(conn, board_id=board_id))
    ]


async def get_series(conn: asyncpg.Connection, user: User, series_id: UUID) -> Series:
    """A series with its upcoming occurrences, as the caller may see it."""
    return shown_to(user, await load_series(conn, series_id))


def shown_to(user: User, series: Series) -> Series:
    """A series as the caller may see it: its participants and video links only for coordinators
    and its own participants."""
    if user.has_role(Role.COORDINATOR) or any(p.user_id == user.id for p in series.participants):
        return series
    occurrences = [msgspec.structs.replace(o, video_url=None) for o in series.occurrences]
    return msgspec.structs.replace(series, participants=[], video_url=None, occurrences=occurrences)


async def load_series(conn: asyncpg.Connection, series_id: UUID) -> Series:
    """A series with its participants and its occurrences from today on."""
    row = await queries.meetings.get_series(conn, id=series_id)
    if row is None:
        raise NotFound("No such meeting series")
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    participants = await fetch_all(queries.meetings.list_series_participants(conn, series_id=series_id))
    occurrences_ = await fetch_all(
        queries.meetings.list_series_occurrences(
            conn, series_id=series_id, starts_from=today, limit=LISTED_OCCURRENCES
        )
    )
    return msgspec.convert(
        {
            **dict(row),
            "participants": [dict(p) for p in participants],
            "occurrences": [msgspec.convert(dict(o), MeetingSummary) for o in occurrences_],
        },
        Series,
    )


async def _lock_open_occurrences(
    conn: asyncpg.Connection, series_id: UUID, *, following_series: bool
) -> list[Record]:
    """Lock a series, then the cases of its open occurrences, then those meetings, in that order;
    the lock_meeting rows of those still scheduled."""
    series = await queries.meetings.lock_series(conn, id=series_id)
    if series is None:
        raise NotFound("No such meeting series")
    if series["ended_at"] is not None:
        raise Conflict("The series has ended")
    rows = await fetch_all(
        queries.meetings.list_open_occurrences(conn, series_id=series_id, following_series=following_series)
    )
    meeting_ids = [row["id"] for row in rows]
    await fetch_all(queries.meetings.lock_cases_on_meetings(conn, meeting_ids=meeting_ids))
    still_open = []
    for meeting_id in meeting_ids:
        locked = await queries.meetings.lock_meeting(conn, id=meeting_id)
        if locked is not None and locked["status"] == MeetingStatus.SCHEDULED:
            still_open.append(locked)
    return still_open


async def _insert_participants(
    conn: asyncpg.Connection, series_id: UUID, participants: list[ParticipantIn]
) -> None:
    await queries.meetings.insert_series_participants(
        conn,
        series_id=series_id,
        user_ids=[p.user_id for p in participants],
        roles=[str(p.role) for p in participants],
    )

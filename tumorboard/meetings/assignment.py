"""The assignment engine: put each waiting case on the earliest meeting that fits it.

A meeting fits a case when (1) its board covers the case's disease site, (2) it is scheduled
and starts in the future, (3) it starts on or before the case's discuss-by date, (4) it has
room, (5) for a routine case its submission deadline has not passed, and (6) its participants
cover every discipline the board requires. Capacity is enforced by the database (a trigger
counts cases, a CHECK refuses overbooking) and the meeting row is locked while a case is
placed, so any number of workers may assign at once. Locks are always taken case first, then
meeting.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from tumorboard import audit
from tumorboard.db import fetch_all, queries
from tumorboard.enums import Urgency

WAITING_BATCH = 1000


async def assign_case(conn: asyncpg.Connection, case_id: UUID) -> UUID | None:
    """Place one waiting case on the earliest fitting meeting, or note why none fits."""
    case = await queries.lock_waiting_case(conn, id=case_id)
    if case is None:
        return None  # already placed, withdrawn or moved by hand
    rule = {
        "disease_site": case["disease_site"],
        "urgency": case["urgency"],
        "discuss_by": case["discuss_by"],
    }
    for candidate in await fetch_all(queries.list_eligible_meetings(conn, **rule)):
        if await queries.lock_meeting_with_room(conn, id=candidate["id"]) is not None:
            await queries.place_case(conn, id=case_id, meeting_id=candidate["id"])
            await audit.record(conn, None, "assign", "case", case_id)
            return candidate["id"]
    counts = await queries.explain_no_meeting(conn, **rule)
    await queries.set_assignment_note(conn, id=case_id, note=explain(dict(counts), case["urgency"]))
    return None


async def assign_waiting_cases(conn: asyncpg.Connection) -> int:
    """Offer every waiting case, in priority order, to the meetings; one transaction per case."""
    placed = 0
    for row in await fetch_all(queries.list_waiting_case_ids(conn, limit=WAITING_BATCH)):
        async with conn.transaction():
            placed += await assign_case(conn, row["id"]) is not None
    return placed


def explain(counts: dict[str, int], urgency: str) -> str:
    """A readable reason why no meeting fits, from how many meetings pass each rule in turn."""
    if counts["boards"] == 0:
        return "No board covers this disease site yet."
    if counts["upcoming"] == 0:
        return "No upcoming meeting is scheduled for a board covering this disease site."
    if counts["in_time"] == 0:
        return "No upcoming meeting takes place on or before the requested discuss-by date."
    if counts["open"] == 0 and urgency == Urgency.ROUTINE:
        return (
            "The submission deadline has passed for every meeting in time; "
            "the case waits for a later meeting (urgent cases may join until the start)."
        )
    if counts["with_room"] == 0:
        return "Every meeting in time is full."
    return "No meeting in time has participants covering every discipline the board requires."

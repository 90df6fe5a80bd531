"""Read-only service functions behind the pages: each user's work, a case's timeline, agenda progress.

They cover what no domain service offers yet (a reviewer's coming meetings, a case's history). Rules
stay in the domains: quorum comes from the meetings service, access from the shared access rules,
and every patient record shown is audited as read.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
import msgspec

from tumorboard import audit
from tumorboard.auth.access import require_role
from tumorboard.auth.schemas import User
from tumorboard.cases.policy import CaseFacts
from tumorboard.db import fetch_all, queries
from tumorboard.enums import CaseStatus, Role
from tumorboard.meetings.quorum import quorum
from tumorboard.pages.schemas import (
    AgendaCaseForParticipant,
    AgendaProgress,
    CarePlanBrief,
    DraftAwaitingChair,
    MeetingBrief,
    MeetingFill,
    ParticipantMeeting,
    TimelineEvent,
)
from tumorboard.recommendations.policy import can_recommend, can_revise

# A meeting stays on people's pages until a day after it ended, so late recommendations still show.
OPEN_MEETING_GRACE = timedelta(days=1)
HOME_LIMIT = 200


async def cases_on_my_meetings(conn: asyncpg.Connection, user: User) -> list[AgendaCaseForParticipant]:
    """Cases on the open meetings the user takes part in, those awaiting the user's recommendation first."""
    rows = await fetch_all(
        queries.pages.list_cases_on_users_open_meetings(
            conn, user_id=user.id, grace=OPEN_MEETING_GRACE, limit=HOME_LIMIT
        )
    )
    cases = []
    for row in rows:
        facts = CaseFacts(
            id=row["id"], status=row["status"], presenter_id=row["presenter_id"], meeting_id=row["meeting_id"]
        )
        role = row["participant_role"]
        given = row["recommendation_id"] is not None
        fields = {
            **dict(row),
            # Preparation: a case not yet decided whose meeting waits for the user's view.
            "awaits_recommendation": not given
            and row["status"] == CaseStatus.SCHEDULED
            and bool(can_recommend(user, facts, role)),
            "may_revise": given and bool(can_revise(user, user.id, facts, role)),
        }
        cases.append(msgspec.convert(fields, AgendaCaseForParticipant))
    cases.sort(key=lambda case: not case.awaits_recommendation)  # stable: meeting order within each group
    await audit.record_reads(conn, user.id, "case", [case.id for case in cases])
    return cases


async def my_meetings(conn: asyncpg.Connection, user: User) -> list[ParticipantMeeting]:
    """The open meetings the user takes part in, chair or reviewer."""
    rows = await fetch_all(
        queries.pages.list_users_open_meetings(
            conn, user_id=user.id, grace=OPEN_MEETING_GRACE, limit=HOME_LIMIT
        )
    )
    return [msgspec.convert(dict(row), ParticipantMeeting) for row in rows]


async def drafts_awaiting_my_signature(conn: asyncpg.Connection, user: User) -> list[DraftAwaitingChair]:
    """Care plan drafts on meetings the user chairs, oldest first."""
    rows = await fetch_all(queries.pages.list_drafts_awaiting_chair(conn, user_id=user.id, limit=HOME_LIMIT))
    drafts = [msgspec.convert(dict(row), DraftAwaitingChair) for row in rows]
    await audit.record_reads(conn, user.id, "case", [draft.case_id for draft in drafts])
    return drafts


async def open_meetings_with_quorum(conn: asyncpg.Connection, user: User) -> list[MeetingFill]:
    """Every open meeting with its agenda fill and quorum (coordinators)."""
    require_role(user, Role.COORDINATOR, action="list", subject_type="meeting")
    rows = await fetch_all(
        queries.pages.list_open_meetings_with_disciplines(conn, grace=OPEN_MEETING_GRACE, limit=HOME_LIMIT)
    )
    meetings = []
    for row in rows:
        fields = dict(row)
        required, disciplines = fields.pop("required_disciplines"), fields.pop("disciplines")
        fields["quorum"] = msgspec.to_builtins(quorum(required, disciplines))
        meetings.append(msgspec.convert(fields, MeetingFill))
    return meetings


async def meeting_briefs(conn: asyncpg.Connection, ids: Iterable[UUID | None]) -> dict[UUID, MeetingBrief]:
    """Date, place and board of the given meetings, by id."""
    wanted = sorted({meeting_id for meeting_id in ids if meeting_id is not None})
    if not wanted:
        return {}
    rows = await fetch_all(queries.pages.list_meeting_briefs(conn, ids=wanted))
    return {row["id"]: msgspec.convert(dict(row), MeetingBrief) for row in rows}


async def case_timeline(conn: asyncpg.Connection, case_id: UUID, since: datetime) -> list[TimelineEvent]:
    """A case's history since it was submitted (`since`), oldest first (callers check access first)."""
    rows = await fetch_all(queries.pages.list_case_timeline_events(conn, case_id=case_id, since=since))
    return [msgspec.convert(dict(row), TimelineEvent) for row in rows]


async def latest_care_plan(conn: asyncpg.Connection, case_id: UUID) -> CarePlanBrief | None:
    """Version and status of a case's latest care plan (callers check access to the case first)."""
    row = await queries.pages.get_latest_care_plan_brief(conn, case_id=case_id)
    return msgspec.convert(dict(row), CarePlanBrief) if row else None


async def agenda_progress(
    conn: asyncpg.Connection, meeting_id: UUID, user_id: UUID
) -> dict[UUID, AgendaProgress]:
    """Per agenda case: disciplines that recommended, the viewer's own recommendation, care plan status."""
    rows = await fetch_all(
        queries.pages.list_agenda_recommendation_progress(conn, meeting_id=meeting_id, user_id=user_id)
    )
    return {row["case_id"]: msgspec.convert(dict(row), AgendaProgress) for row in rows}


async def live_agenda_fingerprint(conn: asyncpg.Connection, meeting_id: UUID) -> str | None:
    """A digest that changes whenever the live agenda of a meeting should be redrawn."""
    fingerprint: str | None = await queries.pages.get_live_agenda_fingerprint(conn, meeting_id=meeting_id)
    return fingerprint


async def case_live_fingerprint(conn: asyncpg.Connection, case_id: UUID) -> str | None:
    """A digest that changes whenever the live part of a case page should be redrawn."""
    fingerprint: str | None = await queries.pages.get_case_live_fingerprint(conn, case_id=case_id)
    return fingerprint


async def deferred_at_meeting(conn: asyncpg.Connection, meeting_id: UUID) -> int:
    """How many cases the board deferred at a meeting."""
    count: int = await queries.pages.count_deferred_at_meeting(conn, meeting_id=meeting_id)
    return count

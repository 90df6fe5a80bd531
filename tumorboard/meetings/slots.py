"""The running order of a meeting as each reader may see it: participants and coordinators every case,
a presenter their own cases in full and the others only as time slots (no patient data)."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from tumorboard import audit
from tumorboard.auth.access import participant_role
from tumorboard.auth.schemas import User
from tumorboard.enums import Role
from tumorboard.meetings.policy import can_read_slots
from tumorboard.meetings.schemas import AgendaSlot, AgendaSlots, Meeting, MeetingSummary
from tumorboard.meetings.service import load_meeting
from tumorboard.policy import enforce


def summary_of(meeting: Meeting, *, with_video: bool) -> MeetingSummary:
    """The meeting's summary; the video link only for those who join the call."""
    fields = {name: getattr(meeting, name) for name in MeetingSummary.__struct_fields__}
    summary = MeetingSummary(**fields)
    return summary if with_video else msgspec.structs.replace(summary, video_url=None)


async def agenda_slots(conn: asyncpg.Connection, user: User, meeting_id: UUID) -> AgendaSlots:
    """The meeting's running order as the caller may see it; each case shown is audited as read."""
    meeting = await load_meeting(conn, meeting_id)
    coordinator = user.has_role(Role.COORDINATOR)
    role = None if coordinator else await participant_role(conn, meeting_id, user.id)
    own = {case.id for case in meeting.cases if case.presenter_id == user.id}
    enforce(
        can_read_slots(user, role, bool(own)),
        action="read_slots",
        subject_type="meeting",
        subject_id=meeting_id,
    )
    sees_all = coordinator or role is not None
    slots = [
        AgendaSlot(
            position=case.position,
            slot_starts_at=case.slot_starts_at,
            slot_ends_at=case.slot_ends_at,
            status=case.status,
            on_screen=case.id == meeting.current_case_id,
            case=case if sees_all or case.id in own else None,
        )
        for case in meeting.cases
    ]
    await audit.record_reads(conn, user.id, "case", [slot.case.id for slot in slots if slot.case])
    return AgendaSlots(meeting=summary_of(meeting, with_video=sees_all), slots=slots)

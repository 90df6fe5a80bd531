"""Agendas: the ordered agenda with time slots and readiness, its lock, and sending it.

A day before the lock, presenters of cases that are not ready get a notice. At the lock (by
default 24 hours before the start) a routine case that is not ready leaves the
meeting for the next one that fits, with a note saying what was missing; the remaining order is
frozen; and a job renders the agenda PDF and the meeting pack, then tells every participant and
presenter through the inbox (and by email when configured).
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import asyncpg

from tumorboard import audit, outbox
from tumorboard.auth.schemas import User
from tumorboard.cases.lifecycle import CaseEvent, allows, statement
from tumorboard.db import fetch_all, queries
from tumorboard.enums import MeetingStatus, Urgency
from tumorboard.errors import NotReady
from tumorboard.meetings.documents import agenda_model, fingerprint, render_agenda_html, render_agenda_pdf
from tumorboard.meetings.pack import store_pack
from tumorboard.meetings.rules import Deferral
from tumorboard.meetings.schemas import Agenda, AgendaCase, Meeting, MeetingSummary
from tumorboard.meetings.service import load_meeting, require_meeting_reader
from tumorboard.notifications.schemas import NotificationKind
from tumorboard.notifications.service import notify_meeting

DUE_BATCH = 100
# Presenters of unready cases are reminded this long before the agenda locks.
REMINDER_LEAD_HOURS = 24
DEFERRED_WAITING = "Waiting for the next meeting that fits."


def agenda_of(meeting: Meeting) -> Agenda:
    """The agenda document's content for a loaded meeting."""
    summary = MeetingSummary(**{name: getattr(meeting, name) for name in MeetingSummary.__struct_fields__})
    ready = sum(case.ready for case in meeting.cases)
    return Agenda(
        meeting=summary,
        participants=meeting.participants,
        quorum=meeting.quorum,
        items=meeting.cases,
        ready_count=ready,
        unready_count=len(meeting.cases) - ready,
        ends_at=meeting.starts_at + timedelta(minutes=meeting.duration_minutes),
        agenda_sent_at=meeting.agenda_sent_at,
    )


async def get_agenda(conn: asyncpg.Connection, user: User, meeting_id: UUID) -> Agenda:
    """The agenda, for the meeting's participants and coordinators; each case read is audited."""
    meeting = await load_meeting(conn, meeting_id)
    await require_meeting_reader(conn, user, meeting_id, "read_agenda")
    await audit.record_reads(conn, user.id, "case", [case.id for case in meeting.cases])
    return agenda_of(meeting)


async def get_agenda_html(conn: asyncpg.Connection, user: User, meeting_id: UUID) -> str:
    """The agenda as an HTML page."""
    return render_agenda_html(agenda_model(await get_agenda(conn, user, meeting_id)))


async def get_agenda_pdf(conn: asyncpg.Connection, user: User, meeting_id: UUID) -> bytes:
    """The PDF of the agenda as it stands; NotReady (and a render job) while a worker renders it."""
    model = agenda_model(await get_agenda(conn, user, meeting_id))
    pdf = await queries.meetings.get_agenda_pdf(conn, meeting_id=meeting_id, fingerprint=fingerprint(model))
    if pdf is not None:
        return bytes(pdf)
    if not await queries.meetings.has_pending_job(conn, job=outbox.RENDER_AGENDA_PDF, subject_id=meeting_id):
        await outbox.add_job(conn, outbox.RENDER_AGENDA_PDF, meeting_id)
    raise NotReady("The agenda PDF is being prepared; retry in a few seconds")


async def store_agenda_pdf(conn: asyncpg.Connection, meeting_id: UUID) -> str:
    """Render the agenda as it stands and store its PDF once (off the event loop); its fingerprint."""
    model = agenda_model(agenda_of(await load_meeting(conn, meeting_id)))
    key = fingerprint(model)
    if await queries.meetings.get_agenda_pdf(conn, meeting_id=meeting_id, fingerprint=key) is None:
        pdf = await render_agenda_pdf(model)
        await queries.meetings.insert_agenda_pdf(conn, meeting_id=meeting_id, fingerprint=key, pdf=pdf)
    return key


async def remind_presenters(conn: asyncpg.Connection) -> int:
    """Once per meeting, a day before its agenda locks, record a notice for each presenter whose
    case is not ready (the notice names the case; readiness says what is missing)."""
    reminded = 0
    rows = await fetch_all(
        queries.meetings.list_meetings_to_remind(conn, lead_hours=REMINDER_LEAD_HOURS, limit=DUE_BATCH)
    )
    for row in rows:
        async with conn.transaction():
            meeting = await load_meeting(conn, row["id"])
            unready = [case for case in meeting.cases if not case.ready]
            await notify_meeting(
                conn,
                meeting.id,
                NotificationKind.MISSING_ITEMS,
                [(case.presenter_id, case.id) for case in unready],
            )
            await queries.meetings.mark_presenters_reminded(conn, id=meeting.id)
            reminded += len(unready)
    return reminded


async def lock_due_agendas(conn: asyncpg.Connection) -> int:
    """Freeze every agenda whose lock time has come, one transaction per meeting."""
    locked = 0
    for row in await fetch_all(queries.meetings.list_due_agendas(conn, limit=DUE_BATCH)):
        async with conn.transaction():
            locked += await lock_agenda(conn, row["id"])
    return locked


async def lock_agenda(conn: asyncpg.Connection, meeting_id: UUID) -> bool:
    """Freeze one agenda if its time has come: unready routine cases leave, the order is fixed,
    and a job sends it. Does nothing for a meeting already locked, not due, or not scheduled."""
    await fetch_all(queries.meetings.lock_cases_on_meeting(conn, meeting_id=meeting_id))
    meeting = await queries.meetings.lock_meeting_for_agenda(conn, id=meeting_id)
    if (
        meeting is None
        or meeting["status"] != MeetingStatus.SCHEDULED
        or meeting["agenda_locked_at"] is not None
        or meeting["agenda_locks_at"] > meeting["now"]
        or meeting["starts_at"] <= meeting["now"]
    ):
        return False
    loaded = await load_meeting(conn, meeting_id)
    deferred = [case for case in loaded.cases if _defer(case)]
    for case in deferred:
        await _defer_case(conn, loaded, case)
    deferred_ids = {case.id for case in deferred}
    kept = [case.id for case in loaded.cases if case.id not in deferred_ids]
    await queries.meetings.freeze_agenda(conn, meeting_id=meeting_id, case_ids=kept)
    await queries.meetings.mark_agenda_locked(conn, id=meeting_id)
    if deferred:
        # One pass finds the deferred cases their next meetings.
        await outbox.add_job(conn, outbox.ASSIGN_WAITING_CASES, meeting_id)
        await notify_meeting(
            conn,
            meeting_id,
            NotificationKind.CASE_DEFERRED,
            [(case.presenter_id, case.id) for case in deferred],
        )
    await audit.record(conn, None, "lock_agenda", "meeting", meeting_id)
    await outbox.add_job(conn, outbox.SEND_AGENDA, meeting_id)
    return True


def _defer(case: AgendaCase) -> bool:
    return (
        case.urgency == Urgency.ROUTINE
        and not case.ready
        and allows(case.status, CaseEvent.NOT_READY_AT_LOCK)
    )


async def _defer_case(conn: asyncpg.Connection, meeting: Meeting, case: AgendaCase) -> None:
    missing = [str(item) for item in case.missing_items]
    note = Deferral(missing, meeting.starts_at, meeting.time_zone).waiting_note(DEFERRED_WAITING)
    await queries.meetings.defer_case(
        conn, id=case.id, meeting_id=meeting.id, note=note, **statement(CaseEvent.NOT_READY_AT_LOCK)
    )
    await queries.meetings.insert_deferral(
        conn, case_id=case.id, meeting_id=meeting.id, missing_items=missing
    )
    await audit.record(conn, None, "defer", "case", case.id)


async def send_agenda(conn: asyncpg.Connection, meeting_id: UUID) -> bool:
    """Send a frozen agenda once: store its PDF and the meeting pack, then tell every participant (the
    agenda and pack are ready) and every presenter with a case on it, each once. Runs outside a
    transaction (rendering takes a while)."""
    key = await store_agenda_pdf(conn, meeting_id)
    await store_pack(conn, meeting_id)
    async with conn.transaction():
        meeting = await queries.meetings.lock_meeting_for_sending(conn, id=meeting_id)
        if meeting is None or meeting["agenda_locked_at"] is None or meeting["agenda_sent_at"] is not None:
            return False
        loaded = await load_meeting(conn, meeting_id)
        await notify_meeting(
            conn, meeting_id, NotificationKind.AGENDA, [(p.user_id, None) for p in loaded.participants]
        )
        await notify_meeting(
            conn,
            meeting_id,
            NotificationKind.CASE_ON_AGENDA,
            [(case.presenter_id, case.id) for case in loaded.cases],
        )
        await queries.meetings.mark_agenda_sent(conn, id=meeting_id, fingerprint=key)
        await audit.record(conn, None, "send_agenda", "meeting", meeting_id)
    return True

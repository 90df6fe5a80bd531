"""The meeting pack: per case on the agenda its summary, question, clinical data and the recommendations
so far, as one PDF for the meeting's participants and coordinators.

A worker renders it when the agenda locks (before the participants are told), and again whenever a
participant asks for it after what it shows has changed (a new recommendation, a case added late):
the request answers 503 with Retry-After while the worker renders, like the agenda PDF. Only the
latest rendering of a meeting is kept. Every download is audited as a read of each case in it.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import asyncpg

from tumorboard import audit, outbox
from tumorboard.auth.schemas import User
from tumorboard.cases.schemas import Case, CaseClinical, age_on
from tumorboard.cases.service import load_case
from tumorboard.db import queries
from tumorboard.documents.pdf import fingerprint, render_pdf_off_loop
from tumorboard.errors import NotReady
from tumorboard.meetings.pack_document import PDF_TEMPLATE, pack_model
from tumorboard.meetings.pack_schemas import (
    MeetingPack,
    PackCase,
    PackProposal,
    PackRecommendation,
)
from tumorboard.meetings.rules import local_day
from tumorboard.meetings.schemas import AgendaCase, Meeting
from tumorboard.meetings.service import load_meeting, require_meeting_reader
from tumorboard.recommendations.agreement import agreement
from tumorboard.recommendations.schemas import Recommendation
from tumorboard.recommendations.service import recommendations_of


def pack_case(
    item: AgendaCase, case: Case, recommendations: list[Recommendation], meeting: Meeting
) -> PackCase:
    """One case of the pack from its agenda entry, the case and its recommendations."""
    agreed = agreement(recommendations)
    patient = case.patient
    return PackCase(
        id=case.id,
        position=item.position,
        slot_starts_at=item.slot_starts_at,
        slot_ends_at=item.slot_ends_at,
        status=case.status,
        urgency=case.urgency,
        patient_name=f"{patient.family_name}, {patient.given_name}",
        mrn=patient.mrn,
        birth_date=patient.birth_date,
        age=age_on(patient.birth_date, local_day(meeting.starts_at, meeting.time_zone)),
        sex=patient.sex,
        disease_site=case.disease_site,
        presenter_name=item.presenter_name,
        clinical=CaseClinical(**{name: getattr(case, name) for name in CaseClinical.__struct_fields__}),
        summary=case.summary,
        question=case.question,
        recommendations=[
            PackRecommendation(
                proposal=agreed.letter_of(r.id),
                discipline=r.discipline,
                author_name=r.author_name,
                version=r.version,
                intent=r.intent,
                modalities=r.modalities,
                summary=r.summary,
                rationale=r.rationale,
                guideline=r.guideline,
                trial=r.trial,
            )
            for r in sorted(recommendations, key=lambda r: r.created_at)
        ],
        proposals=[
            PackProposal(letter=p.letter, intent=p.intent, modalities=p.modalities, disciplines=p.disciplines)
            for p in agreed.proposals
        ],
        agreed=agreed.unanimous,
        missing_disciplines=case.preparation.missing if case.preparation else [],
    )


async def build_pack(conn: asyncpg.Connection, meeting: Meeting) -> MeetingPack:
    """The pack's content as a loaded meeting and its cases stand now (no access check)."""
    cases = [
        pack_case(item, await load_case(conn, item.id), await recommendations_of(conn, item.id), meeting)
        for item in meeting.cases
    ]
    return MeetingPack(
        meeting_id=meeting.id,
        board_name=meeting.board_name,
        starts_at=meeting.starts_at,
        ends_at=meeting.starts_at + timedelta(minutes=meeting.duration_minutes),
        time_zone=meeting.time_zone,
        location=meeting.location,
        minutes_per_case=meeting.minutes_per_case,
        agenda_locked_at=meeting.agenda_locked_at,
        required_disciplines=meeting.quorum.required,
        participants=meeting.participants,
        cases=cases,
    )


async def get_pack_pdf(conn: asyncpg.Connection, user: User, meeting_id: UUID) -> bytes:
    """The pack as it stands, for the meeting's participants and coordinators (each download audited);
    NotReady, and a render job, while a worker renders it."""
    meeting = await load_meeting(conn, meeting_id)
    await require_meeting_reader(conn, user, meeting_id, "read_pack")
    pack = await build_pack(conn, meeting)
    pdf = await queries.meetings.get_meeting_pack(
        conn, meeting_id=meeting_id, fingerprint=fingerprint(PDF_TEMPLATE, pack_model(pack))
    )
    if pdf is None:
        if not await queries.meetings.has_pending_job(
            conn, job=outbox.RENDER_MEETING_PACK, subject_id=meeting_id
        ):
            await outbox.add_job(conn, outbox.RENDER_MEETING_PACK, meeting_id)
        raise NotReady("The meeting pack is being prepared; retry in a few seconds")
    await audit.record(conn, user.id, "read_pack", "meeting", meeting_id)
    await audit.record_reads(conn, user.id, "case", [case.id for case in pack.cases])
    return bytes(pdf)


async def store_pack(conn: asyncpg.Connection, meeting_id: UUID) -> str:
    """Render the pack as it stands and store it once (typeset off the event loop), dropping older
    renderings of the meeting; its fingerprint."""
    model = pack_model(await build_pack(conn, await load_meeting(conn, meeting_id)))
    key = fingerprint(PDF_TEMPLATE, model)
    if await queries.meetings.get_meeting_pack(conn, meeting_id=meeting_id, fingerprint=key) is None:
        pdf = await render_pdf_off_loop(PDF_TEMPLATE, model)
        async with conn.transaction():
            await queries.meetings.insert_meeting_pack(conn, meeting_id=meeting_id, fingerprint=key, pdf=pdf)
            await queries.meetings.delete_older_meeting_packs(conn, meeting_id=meeting_id, fingerprint=key)
    return key

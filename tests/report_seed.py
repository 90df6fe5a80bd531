"""A board's month with known quality figures, written straight into the tables (past meetings,
decisions and signatures at chosen moments cannot be made through the API, which records `now`).

The board meets in Berlin. March 2026 holds, by the day the board recorded each decision there
(treatment started when submitted; stage discussed; guideline concordant; trial status; days from
submission; hours from decision to signature; follow-up):

- P1 at M0 (28 Feb 23:00, decided 1 Mar 00:15): plan; no; yes; yes; eligible; 9; 24; fully.
- P2 at M1 (2 Mar): plan; no; yes; yes; not considered; 5; 6; not (patient choice).
- P3 at M1: deferred; unknown; 4 days.
- P4 at M2 (9 Mar), P3's case again, corrected once: plan; unknown; no, then yes; no; not
  considered, then none available; 11; 48 (from the first record); partly (comorbidity).
- P5 at M2: plan; yes; yes; none recorded; none recorded; 8; 12; no follow-up yet.
- P6 at M3 (16 Mar): plan; no; none recorded; yes; enrolled; 59; not signed.
- P7 at M3: deferred; no; 6 days.
- P8 at M6 (31 Mar 22:00 CEST, decided 23:30): plan; no; yes; yes; eligible; 7; 60, then amended
  and signed again; fully on the first signed version, not (disease changed) on the newest.

Left out: a decision at M0 on 28 Feb 23:30 (the day before), one at M6 on 1 April 00:30 Berlin time
(still 31 March in UTC), one at another board's meeting, and the cancelled meeting M5 (30 Mar).
M4 (23 Mar) was held without recorded attendance.

Present: M0 medical, surgical, radiation oncology; M1 all four required and a nurse; M2 medical and
surgical oncology and the nurse (radiation absent, pathology excused); M3 medical, radiation
oncology and pathology; M4 nobody recorded; M6 all four required.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from tests.factories import Actor, Factory

BERLIN = ZoneInfo("Europe/Berlin")
REQUIRED = ["medical_oncology", "surgical_oncology", "radiation_oncology", "pathology"]
PERIOD = {"from": "2026-03-01", "to": "2026-03-31"}

# The figures, by hand from the table above.
EXPECTED = {
    "cases_presented": 8,  # P1 to P8
    "prospective_share": round(5 / 8, 4),  # P1, P2, P6, P7, P8; P3 and P4 unknown, P5 started
    "stage_discussed_share": round(5 / 6, 4),  # plans P1 P2 P4 P5 P8 of P1 P2 P4 P5 P6 P8
    "guideline_concordant_share": round(4 / 6, 4),  # P1 P2 P6 P8
    "trial_discussed_share": round(4 / 6, 4),  # P1 P4 P6 P8
    "attendance_by_discipline": {
        "medical_oncology": round(5 / 6, 4),  # M0 M1 M2 M3 M6 of M0 M1 M2 M3 M4 M6
        "surgical_oncology": round(4 / 6, 4),  # M0 M1 M2 M6
        "radiation_oncology": round(4 / 6, 4),  # M0 M1 M3 M6
        "pathology": round(3 / 6, 4),  # M1 M3 M6
    },
    "median_days_submission_to_decision": 7.5,  # 4 5 6 7 | 8 9 11 59
    "median_hours_decision_to_signature": 24.0,  # 6 12 24 48 60
    "follow_up": {
        "recorded_share": round(4 / 5, 4),  # P1 P2 P4 P8 of the signed P1 P2 P4 P5 P8
        "not_implemented_share": round(2 / 4, 4),  # P2 P8
    },
}


def berlin(text: str) -> datetime:
    """A Berlin wall-clock time: ``berlin("2026-03-02 16:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


@dataclass
class SeededBoard:
    """The seeded board, its people and what the tests look up."""

    board_id: str
    coordinator: Actor
    presenter: Actor
    chair: Actor
    people: dict[str, Actor]
    meetings: dict[str, UUID]


class Seeder:
    """Writes meetings, cases, decisions, signatures and follow-ups as they would have happened."""

    def __init__(self, conn: asyncpg.Connection, board: SeededBoard) -> None:
        self.conn = conn
        self.board = board
        self.serial = 0

    async def meeting(
        self,
        name: str,
        starts: str,
        *,
        status: str = "closed",
        board_id: str | None = None,
        **attendance: list[str],
    ) -> UUID:
        """A meeting of the board with everyone as participant; `present=[...]` and so on by person."""
        starts_at = berlin(starts)
        meeting_id: UUID = await self.conn.fetchval(
            "INSERT INTO meeting (board_id, starts_at, duration_minutes, capacity, submission_deadline,"
            " status, started_at, closed_at) VALUES ($1, $2, 60, 10, $3, $4, $5, $6) RETURNING id",
            UUID(board_id or self.board.board_id),
            starts_at,
            starts_at - timedelta(days=2),
            status,
            starts_at if status == "closed" else None,
            starts_at + timedelta(hours=2) if status == "closed" else None,
        )
        for person, actor in self.board.people.items():
            role = "chair" if person == "chair" else "reviewer"
            await self.conn.execute(
                "INSERT INTO meeting_participant (meeting_id, user_id, role) VALUES ($1, $2, $3)",
                meeting_id,
                actor.id,
                role,
            )
        for status_name, persons in attendance.items():
            for person in persons:
                await self.conn.execute(
                    "INSERT INTO meeting_attendance (meeting_id, user_id, status, recorded_by)"
                    " VALUES ($1, $2, $3, $4)",
                    meeting_id,
                    self.board.people[person].id,
                    status_name,
                    self.board.chair.id,
                )
        self.board.meetings[name] = meeting_id
        return meeting_id

    async def case(self, submitted: str, treatment_started: bool | None) -> UUID:
        """A case submitted at a Berlin time."""
        self.serial += 1
        patient_id = await self.conn.fetchval(
            "INSERT INTO patient (mrn, given_name, family_name, birth_date, sex)"
            " VALUES ($1, 'Ada', $2, '1960-01-01', 'female') RETURNING id",
            f"Q-{self.serial:04d}",
            f"Seeded{self.serial}",
        )
        return await self.conn.fetchval(
            "INSERT INTO patient_case (patient_id, presenter_id, disease_site, diagnosis, summary, question,"
            " created_at, treatment_started) VALUES ($1, $2, 'breast', $3, 'Summary', 'Question?', $4, $5)"
            " RETURNING id",
            patient_id,
            self.board.presenter.id,
            {"code": "C50.911", "system": "ICD-10-CM", "display": "Malignant neoplasm of breast"},
            berlin(submitted),
            treatment_started,
        )

    async def place(self, case_id: UUID, meeting_id: UUID) -> None:
        """The case goes on the meeting's agenda."""
        await self.conn.execute(
            "UPDATE patient_case SET status = 'scheduled', meeting_id = $2 WHERE id = $1", case_id, meeting_id
        )

    async def defer(self, case_id: UUID, meeting_id: UUID, decided: str) -> None:
        """The board defers the case: a deferral recorded, the case back on the waiting list."""
        await self.place(case_id, meeting_id)
        await self._decision(case_id, meeting_id, 1, decided, outcome="defer")
        await self.conn.execute(
            "UPDATE patient_case SET status = 'submitted', meeting_id = NULL WHERE id = $1", case_id
        )

    async def plan(self, case_id: UUID, meeting_id: UUID, *revisions: tuple[str, dict[str, Any]]) -> UUID:
        """The board decides a plan, corrected once per further revision; the last decision's id."""
        await self.place(case_id, meeting_id)
        decision_id = UUID(int=0)
        for number, (decided, fields) in enumerate(revisions, start=1):
            decision_id = await self._decision(case_id, meeting_id, number, decided, outcome="plan", **fields)
        await self.conn.execute("UPDATE patient_case SET status = 'discussed' WHERE id = $1", case_id)
        return decision_id

    async def care_plan(self, case_id: UUID, decision_id: UUID, version: int, signed: str | None) -> UUID:
        """A care plan version built from the decision, signed at a Berlin time (or a draft)."""
        signed_at = berlin(signed) if signed else None
        care_plan_id: UUID = await self.conn.fetchval(
            "INSERT INTO care_plan (case_id, version, status, consensus, content, source_fingerprint,"
            " signed_by, signed_at, content_hash, decision_id)"
            " VALUES ($1, $2, $3, false, '{}', $4, $5, $6, $7, $8) RETURNING id",
            case_id,
            version,
            "final" if signed_at else "draft",
            f"seed-{case_id}-{version}",
            self.board.chair.id if signed_at else None,
            signed_at,
            "seed" if signed_at else None,
            decision_id,
        )
        if signed_at:
            await self.conn.execute("UPDATE patient_case SET status = 'finalized' WHERE id = $1", case_id)
        return care_plan_id

    async def follow_up(self, care_plan_id: UUID, implementation: str, reason: str | None = None) -> None:
        """The presenter's follow-up on a signed version."""
        await self.conn.execute(
            "INSERT INTO care_plan_follow_up (care_plan_id, implementation, reason, recorded_by)"
            " VALUES ($1, $2, $3, $4)",
            care_plan_id,
            implementation,
            reason,
            self.board.presenter.id,
        )

    async def _decision(
        self, case_id: UUID, meeting_id: UUID, revision: int, decided: str, *, outcome: str, **fields: Any
    ) -> UUID:
        plan = outcome == "plan"
        guideline = fields.get("concordant")
        return await self.conn.fetchval(
            "INSERT INTO board_decision (case_id, meeting_id, revision, outcome, intent, modalities, summary,"
            " guideline, trial_status, stage_discussed, quorum_required, quorum_covered, quorum_missing,"
            " attendance, decided_by, decided_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, 'Agreed.', $7, $8, $9, $10, $10, '{}', '[]', $11, $12)"
            " RETURNING id",
            case_id,
            meeting_id,
            revision,
            outcome,
            "curative" if plan else None,
            ["surgery"] if plan else None,
            {"name": "NCCN Breast", "concordant": guideline} if guideline is not None else None,
            fields.get("trial"),
            fields.get("stage"),
            REQUIRED,
            self.board.chair.id,
            berlin(decided),
        )


async def seed_march(api: Factory, pool: asyncpg.Pool) -> SeededBoard:
    """The board and its March 2026, as the module docstring tells it."""
    coordinator = await api.user("coordinator")
    people = {
        "chair": await api.user("reviewer", discipline="medical_oncology", name="Dr. Chair"),
        "surgeon": await api.user("reviewer", discipline="surgical_oncology"),
        "radiation": await api.user("reviewer", discipline="radiation_oncology"),
        "pathologist": await api.user("reviewer", discipline="pathology"),
        "nurse": await api.user("reviewer", discipline="nursing"),
    }
    presenter = await api.user("presenter", discipline="medical_oncology")
    body = {
        "name": "Breast Board Berlin",
        "disease_sites": ["breast"],
        "required_disciplines": REQUIRED,
        "time_zone": "Europe/Berlin",
    }
    board = await api.ok(api.client.post("/boards", json=body, headers=coordinator.headers), 201)
    other = await api.ok(
        api.client.post(
            "/boards",
            json={"name": "Other Board", "disease_sites": ["thoracic"]},
            headers=coordinator.headers,
        ),
        201,
    )
    seeded = SeededBoard(board["id"], coordinator, presenter, people["chair"], people, {})
    async with pool.acquire() as conn, conn.transaction():
        s = Seeder(conn, seeded)
        everyone = ["chair", "surgeon", "radiation", "pathologist"]
        m0 = await s.meeting("M0", "2026-02-28 23:00", present=["chair", "surgeon", "radiation"])
        m1 = await s.meeting("M1", "2026-03-02 16:00", present=[*everyone, "nurse"])
        m2 = await s.meeting(
            "M2",
            "2026-03-09 16:00",
            present=["chair", "surgeon", "nurse"],
            absent=["radiation"],
            excused=["pathologist"],
        )
        m3 = await s.meeting(
            "M3", "2026-03-16 16:00", present=["chair", "radiation", "pathologist"], absent=["surgeon"]
        )
        await s.meeting("M4", "2026-03-23 16:00")
        await s.meeting("M5", "2026-03-30 16:00", status="cancelled")
        m6 = await s.meeting("M6", "2026-03-31 22:00", present=everyone)
        elsewhere = await s.meeting("X", "2026-03-05 16:00", board_id=other["id"], present=everyone)

        yes = {"stage": True, "concordant": True}
        p1 = await s.case("2026-02-20 10:00", False)
        d1 = await s.plan(p1, m0, ("2026-03-01 00:15", {**yes, "trial": "eligible"}))
        await s.follow_up(await s.care_plan(p1, d1, 1, "2026-03-02 00:15"), "fully")

        p2 = await s.case("2026-02-25 09:00", False)
        d2 = await s.plan(p2, m1, ("2026-03-02 16:10", {**yes, "trial": "not_considered"}))
        await s.follow_up(await s.care_plan(p2, d2, 1, "2026-03-02 22:10"), "not", "patient_choice")

        p3 = await s.case("2026-02-26 09:00", None)  # deferred at M1, decided at M2 (P4)
        await s.defer(p3, m1, "2026-03-02 16:20")
        d4 = await s.plan(
            p3,
            m2,
            ("2026-03-09 16:20", {"stage": False, "concordant": False, "trial": "not_considered"}),
            ("2026-03-09 16:40", {"stage": True, "concordant": False, "trial": "none_available"}),
        )
        await s.follow_up(
            await s.care_plan(p3, d4, 1, "2026-03-11 16:20"), "partly", "comorbidity_or_fitness"
        )

        p5 = await s.case("2026-03-01 09:00", True)
        d5 = await s.plan(p5, m2, ("2026-03-09 16:30", {"stage": True}))
        await s.care_plan(p5, d5, 1, "2026-03-10 04:30")

        p6 = await s.case("2026-01-16 09:00", False)
        d6 = await s.plan(p6, m3, ("2026-03-16 16:05", {"concordant": True, "trial": "enrolled"}))
        await s.care_plan(p6, d6, 1, None)

        p7 = await s.case("2026-03-10 09:00", False)
        await s.defer(p7, m3, "2026-03-16 16:15")

        p8 = await s.case("2026-03-24 09:00", False)
        d8 = await s.plan(p8, m6, ("2026-03-31 23:30", {**yes, "trial": "eligible"}))
        first = await s.care_plan(p8, d8, 1, "2026-04-03 11:30")
        await s.follow_up(first, "fully")  # superseded: the amended plan was signed again
        await s.conn.execute("UPDATE patient_case SET status = 'discussed' WHERE id = $1", p8)
        await s.follow_up(await s.care_plan(p8, d8, 2, "2026-04-10 09:00"), "not", "disease_changed")

        # Outside the period or the board.
        before = await s.case("2026-02-20 09:00", False)
        await s.plan(before, m0, ("2026-02-28 23:30", yes))
        after = await s.case("2026-03-25 09:00", False)
        await s.plan(after, m6, ("2026-04-01 00:30", yes))
        other_case = await s.case("2026-03-01 09:00", False)
        await s.plan(other_case, elsewhere, ("2026-03-05 16:10", yes))
    return seeded

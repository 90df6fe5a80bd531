"""Demo data for `tumorboard dev`: one board and its clinicians, a meeting to run right away, and a later one.

The meeting to run starts within the hour: its three cases are ready, their recommendations are in
(from several disciplines: one case agreed by all, one with a differing view, one still awaiting
medical oncology), and its agenda is locked, so the worker sends the agenda and the meeting pack as soon
as `dev` starts it. A later meeting holds cases still being prepared. Everything is made through the
same services the API uses, so the demo obeys every rule a real meeting does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from tumorboard.auth.schemas import User, UserCreate
from tumorboard.auth.service import create_user, get_user
from tumorboard.boards.schemas import BoardCreate
from tumorboard.boards.service import create_board
from tumorboard.cases.schemas import CaseCreate
from tumorboard.cases.service import submit_case
from tumorboard.db import create_pool
from tumorboard.enums import Discipline, DiseaseSite, Intent, Modality, ParticipantRole, Role
from tumorboard.meetings.agenda import lock_agenda
from tumorboard.meetings.assignment import assign_case
from tumorboard.meetings.readiness import update_case_readiness
from tumorboard.meetings.schemas import (
    MeetingCreate,
    MeetingUpdate,
    ParticipantIn,
    ParticipantsPut,
    ReadinessUpdate,
)
from tumorboard.meetings.service import create_meeting, replace_participants, update_meeting
from tumorboard.recommendations.schemas import RecommendationCreate
from tumorboard.recommendations.service import add_recommendation

DEMO_PASSWORD = "tumorboard-demo"  # noqa: S105 (published demo sign-in, README lists it)
BOARD_NAME = "Breast and Thoracic Tumor Board"
# The meeting to run starts this long after the demo data is loaded (its chair may start it at once).
STARTS_IN = timedelta(minutes=30)
LATER_IN = timedelta(days=7)

_PEOPLE = [
    ("admin@example.org", "Alex Admin", [Role.ADMIN], None, "admin"),
    ("coordinator@example.org", "Casey Coordinator", [Role.COORDINATOR], None, "coordinator"),
    (
        "presenter@example.org",
        "Dr. Priya Presenter",
        [Role.PRESENTER],
        Discipline.MEDICAL_ONCOLOGY,
        "presenter",
    ),
    (
        "chair@example.org",
        "Dr. Chen Chair",
        [Role.REVIEWER],
        Discipline.MEDICAL_ONCOLOGY,
        "chair (medical oncology): runs the meeting starting within the hour",
    ),
    (
        "surgeon@example.org",
        "Dr. Sam Surgeon",
        [Role.REVIEWER],
        Discipline.SURGICAL_ONCOLOGY,
        "surgical oncology",
    ),
    (
        "radiation@example.org",
        "Dr. Rae Radiation",
        [Role.REVIEWER],
        Discipline.RADIATION_ONCOLOGY,
        "radiation oncology",
    ),
    ("pathologist@example.org", "Dr. Pat Pathologist", [Role.REVIEWER], Discipline.PATHOLOGY, "pathology"),
]

_BREAST_PLAN = ["systemic_therapy", "surgery", "radiation"]
_CONSERVING_PLAN = ["surgery", "radiation"]
_CHEMORADIATION = ["systemic_therapy", "radiation"]
_TRIMODALITY = ["systemic_therapy", "surgery"]

# (reviewer's email, intent, modalities, summary) per case of the meeting to run, in agenda order.
_RECOMMENDATIONS: list[list[tuple[str, str, list[str], str]]] = [
    [
        (
            "chair@example.org",
            "curative",
            _BREAST_PLAN,
            "Node-positive HR-positive disease: neoadjuvant chemotherapy, then surgery, then radiotherapy.",
        ),
        (
            "surgeon@example.org",
            "curative",
            _BREAST_PLAN,
            "Agree: neoadjuvant therapy first to downstage; breast-conserving surgery and axillary staging.",
        ),
        (
            "radiation@example.org",
            "curative",
            _BREAST_PLAN,
            "Whole-breast and regional nodal irradiation after surgery.",
        ),
    ],
    [
        (
            "chair@example.org",
            "curative",
            _CHEMORADIATION,
            "Unresectable N2 disease: concurrent chemoradiotherapy, then consolidation with osimertinib.",
        ),
        (
            "radiation@example.org",
            "curative",
            _CHEMORADIATION,
            "Definitive chemoradiotherapy, 60 Gy in 30 fractions.",
        ),
        (
            "surgeon@example.org",
            "curative",
            _TRIMODALITY,
            "Single-station N2: neoadjuvant systemic therapy, then lobectomy if the nodes respond.",
        ),
    ],
    [
        (
            "surgeon@example.org",
            "curative",
            _CONSERVING_PLAN,
            "Small screen-detected tumour: wide local excision with sentinel node biopsy.",
        ),
        (
            "radiation@example.org",
            "curative",
            _CONSERVING_PLAN,
            "Whole-breast radiotherapy after excision, 26 Gy in 5 fractions.",
        ),
    ],
]


@dataclass
class DemoLogins:
    """The demo users to print after start-up."""

    password: str = DEMO_PASSWORD
    users: list[tuple[str, str]] = field(default_factory=list)


async def load_demo_data(database_url: str) -> DemoLogins:
    """Create the demo data once; later runs leave the database as it is."""
    logins = DemoLogins(users=[(email, description) for email, _, _, _, description in _PEOPLE])
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn, conn.transaction():
            if await conn.fetchval("SELECT count(*) FROM app_user") == 0:
                await _create(conn)
    finally:
        await pool.close()
    return logins


async def _create(conn: asyncpg.Connection) -> None:
    users: dict[str, User] = {}
    for email, full_name, roles, discipline, _ in _PEOPLE:
        data = UserCreate(
            email=email, full_name=full_name, password=DEMO_PASSWORD, roles=roles, discipline=discipline
        )
        users[email] = await create_user(conn, None, data)
    coordinator = users["coordinator@example.org"]
    board = await create_board(
        conn,
        coordinator,
        BoardCreate(name=BOARD_NAME, disease_sites=[DiseaseSite.BREAST, DiseaseSite.THORACIC]),
    )
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    participants = ParticipantsPut(
        participants=[
            ParticipantIn(user_id=users["chair@example.org"].id, role=ParticipantRole.CHAIR),
            *(
                ParticipantIn(user_id=users[email].id, role=ParticipantRole.REVIEWER)
                for email in ("surgeon@example.org", "radiation@example.org", "pathologist@example.org")
            ),
        ]
    )
    # The meeting to run is scheduled the day after tomorrow so that its cases are placed and prepared
    # by the ordinary rules, then brought forward to start within the hour with its agenda locked.
    meetings = []
    for starts_at, deadline in ((now + timedelta(days=2), now + timedelta(hours=1)), (now + LATER_IN, None)):
        meeting = await create_meeting(
            conn,
            coordinator,
            MeetingCreate(
                board_id=board.id,
                starts_at=starts_at,
                submission_deadline=deadline,
                location="Conference room 4B",
                video_url="https://video.example.org/tumor-board",
            ),
        )
        await replace_participants(conn, coordinator, meeting.id, participants)
        meetings.append(meeting)
    soon, _ = meetings
    presenter = await get_user(conn, users["presenter@example.org"].id) or users["presenter@example.org"]
    today = now.date()
    cases = _demo_cases(today)
    for number, (body, recommendations) in enumerate(zip(cases, _RECOMMENDATIONS, strict=False), start=3):
        # Discuss-by dates a day apart keep the agenda in this order (they were all submitted at once).
        body = {**body, "discuss_by": (today + timedelta(days=number)).isoformat()}
        case_id = await _submit(conn, presenter, body, today)
        for email, intent, modalities, summary in recommendations:
            reviewer = users[email]
            proposal = RecommendationCreate(
                intent=Intent(intent), modalities=[Modality(m) for m in modalities], summary=summary
            )
            await add_recommendation(conn, reviewer, case_id, proposal)
    await update_meeting(conn, coordinator, soon.id, MeetingUpdate(starts_at=now + STARTS_IN))
    await lock_agenda(conn, soon.id)  # due at once: the worker sends the agenda and the meeting pack
    for body in cases[len(_RECOMMENDATIONS) :]:  # the later meeting's cases, still being prepared
        case_id = await _submit(conn, presenter, body, today)
        await add_recommendation(
            conn,
            users["radiation@example.org"],
            case_id,
            RecommendationCreate(
                intent=Intent.PALLIATIVE,
                modalities=[Modality.RADIATION, Modality.SYSTEMIC_THERAPY],
                summary="Palliative radiotherapy to the painful bone metastasis, then systemic therapy.",
            ),
        )


async def _submit(conn: asyncpg.Connection, presenter: User, body: dict[str, Any], today: date) -> Any:
    """Submit a case with its reports dated (so it is ready) and place it on the earliest fitting meeting."""
    mrn = body["patient"]["mrn"]
    case = await submit_case(
        conn, presenter, msgspec.convert(body, CaseCreate), body=mrn.encode(), idempotency_key=None
    )
    reports = ReadinessUpdate(
        pathology_report_on=today - timedelta(days=6), imaging_on=today - timedelta(days=9)
    )
    await update_case_readiness(conn, presenter, case.id, reports)
    await assign_case(conn, case.id)
    return case.id


def _demo_cases(today: date) -> list[dict[str, Any]]:
    """The demo patients with their structured clinical data, as POST /cases bodies: three for the
    meeting to run, then the later meeting's."""

    def days_ago(days: int) -> str:
        return (today - timedelta(days=days)).isoformat()

    def patient(mrn: str, given: str, family: str, born: str, sex: str) -> dict[str, str]:
        return {"mrn": mrn, "given_name": given, "family_name": family, "birth_date": born, "sex": sex}

    def stage(t: str, n: str, m: str, group: str) -> dict[str, str]:
        return {"system": "AJCC8", "type": "clinical", "t": t, "n": n, "m": m, "group": group}

    def ihc(name: str, value: str, loinc: str | None = None, tested: int = 10) -> dict[str, str]:
        marker = {"name": name, "value": value, "method": "IHC", "tested_on": days_ago(tested)}
        return marker | ({"loinc": loinc} if loinc else {})

    return [
        {
            "patient": patient("DEMO-0001", "Maria", "Jensen", "1968-04-02", "female"),
            "disease_site": DiseaseSite.BREAST,
            "diagnosis": {
                "code": "C50.411",
                "system": "ICD-10-CM",
                "display": "Malignant neoplasm of upper-outer quadrant of right female breast",
                "diagnosed_on": days_ago(12),
                "laterality": "right",
                "topography": {"code": "C50.4", "display": "Upper-outer quadrant of breast"},
                "morphology": {"code": "8500/3", "display": "Infiltrating duct carcinoma, NOS"},
            },
            "histology": "Invasive ductal carcinoma, grade 2",
            "stage": stage("cT2", "cN1", "cM0", "IIB"),
            "ecog": 0,
            "biomarkers": [
                ihc("ER", "positive (90%)", "85337-4"),
                ihc("PR", "positive (40%)", "85339-0"),
                ihc("HER2", "negative (1+)", "85319-2"),
                ihc("Ki-67", "25") | {"unit": "%"},
            ],
            "comorbidities": [{"name": "Essential (primary) hypertension", "code": "I10"}],
            "treatment_started": False,
            "summary": "Palpable 3 cm mass in the right breast, one suspicious axillary node "
            "(biopsy positive). Staging CT without distant disease.",
            "question": "Neoadjuvant systemic therapy before surgery, or surgery first?",
        },
        {
            "patient": patient("DEMO-0002", "Thomas", "Okafor", "1957-11-23", "male"),
            "disease_site": DiseaseSite.THORACIC,
            "diagnosis": {
                "code": "C34.11",
                "system": "ICD-10-CM",
                "display": "Malignant neoplasm of upper lobe, right bronchus or lung",
                "diagnosed_on": days_ago(20),
                "laterality": "right",
                "topography": {"code": "C34.1", "display": "Upper lobe, lung"},
                "morphology": {"code": "8140/3", "display": "Adenocarcinoma, NOS"},
            },
            "stage": stage("cT2a", "cN2", "cM0", "IIIA"),
            "ecog": 1,
            "biomarkers": [
                {"name": "EGFR", "value": "exon 19 deletion", "method": "NGS", "tested_on": days_ago(6)},
                ihc("ALK", "negative", tested=8),
                ihc("PD-L1 TPS", "5", "83053-9", tested=8) | {"unit": "%"},
            ],
            "prior_treatments": [
                {
                    "modality": "further_workup",
                    "description": "EBUS-TBNA of station 4R and 7",
                    "started_on": days_ago(15),
                    "ended_on": days_ago(15),
                },
            ],
            "comorbidities": [
                {"name": "Chronic obstructive pulmonary disease, unspecified", "code": "J44.9"},
                {"name": "Nicotine dependence, cigarettes, uncomplicated", "code": "F17.210"},
            ],
            "treatment_started": False,
            "summary": "Right upper lobe mass with station 4R involvement on EBUS. COPD, FEV1 62% predicted.",
            "question": "Definitive chemoradiotherapy, or neoadjuvant therapy and resection?",
        },
        {
            "patient": patient("DEMO-0003", "Aiko", "Tanaka", "1974-09-14", "female"),
            "disease_site": DiseaseSite.BREAST,
            "diagnosis": {
                "code": "C50.212",
                "system": "ICD-10-CM",
                "display": "Malignant neoplasm of upper-inner quadrant of left female breast",
                "diagnosed_on": days_ago(9),
                "laterality": "left",
                "topography": {"code": "C50.2", "display": "Upper-inner quadrant of breast"},
                "morphology": {"code": "8520/3", "display": "Lobular carcinoma, NOS"},
            },
            "histology": "Invasive lobular carcinoma, grade 1",
            "stage": stage("cT1c", "cN0", "cM0", "IA"),
            "ecog": 0,
            "biomarkers": [
                ihc("ER", "positive (95%)", "85337-4", tested=7),
                ihc("HER2", "negative (0)", "85319-2", tested=7),
            ],
            "treatment_started": False,
            "summary": "Screen-detected 14 mm lesion, clinically node-negative.",
            "question": "Is breast-conserving surgery with sentinel node biopsy appropriate?",
        },
        {
            "patient": patient("DEMO-0004", "Luis", "Ortega", "1949-02-07", "male"),
            "disease_site": DiseaseSite.THORACIC,
            "diagnosis": {
                "code": "C34.31",
                "system": "ICD-10-CM",
                "display": "Malignant neoplasm of lower lobe, right bronchus or lung",
                "diagnosed_on": days_ago(14),
                "laterality": "right",
                "topography": {"code": "C34.3", "display": "Lower lobe, lung"},
                "morphology": {"code": "8070/3", "display": "Squamous cell carcinoma, NOS"},
            },
            "histology": "Squamous cell carcinoma",
            "stage": stage("cT3", "cN1", "cM1b", "IVA"),
            "ecog": 2,
            "biomarkers": [ihc("PD-L1 TPS", "60", "83053-9", tested=5) | {"unit": "%"}],
            "treatment_started": False,
            "summary": "Right lower lobe tumour with a single painful rib metastasis.",
            "question": "Palliative radiotherapy to the rib and first-line immunotherapy?",
        },
    ]

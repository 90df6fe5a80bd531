"""Demo data for `tumorboard dev`: one board, its clinicians, two meetings and a few cases."""

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
from tumorboard.enums import Discipline, DiseaseSite, ParticipantRole, Role
from tumorboard.meetings.schemas import MeetingCreate, ParticipantIn, ParticipantsPut
from tumorboard.meetings.service import create_meeting, replace_participants

DEMO_PASSWORD = "tumorboard-demo"  # noqa: S105 (published demo sign-in, README lists it)

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
        "chair, medical oncology",
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
    coordinator, presenter = users["coordinator@example.org"], users["presenter@example.org"]
    board = await create_board(
        conn,
        coordinator,
        BoardCreate(
            name="Breast and Thoracic Tumor Board", disease_sites=[DiseaseSite.BREAST, DiseaseSite.THORACIC]
        ),
    )
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for days in (3, 10):
        meeting = await create_meeting(
            conn,
            coordinator,
            MeetingCreate(
                board_id=board.id, starts_at=now + timedelta(days=days), location="Conference room 4B"
            ),
        )
        participants = [
            ParticipantIn(user_id=users["chair@example.org"].id, role=ParticipantRole.CHAIR),
            *(
                ParticipantIn(user_id=users[email].id, role=ParticipantRole.REVIEWER)
                for email in ("surgeon@example.org", "radiation@example.org", "pathologist@example.org")
            ),
        ]
        await replace_participants(conn, coordinator, meeting.id, ParticipantsPut(participants=participants))
    presenter = await get_user(conn, presenter.id) or presenter
    for body in _demo_cases(now.date()):
        mrn = body["patient"]["mrn"]
        await submit_case(
            conn, presenter, msgspec.convert(body, CaseCreate), body=mrn.encode(), idempotency_key=None
        )


def _demo_cases(today: date) -> list[dict[str, Any]]:
    """Two newly diagnosed patients with their structured clinical data, as POST /cases bodies."""

    def days_ago(days: int) -> str:
        return (today - timedelta(days=days)).isoformat()

    common = {
        "ecog": 1,
        "treatment_started": False,
        "summary": "Newly diagnosed; staging complete. Imaging and pathology reports are in the record.",
        "question": "What is the recommended treatment sequence?",
    }
    return [
        {
            **common,
            "patient": {
                "mrn": "DEMO-0001",
                "given_name": "Maria",
                "family_name": "Jensen",
                "birth_date": "1968-04-02",
                "sex": "female",
            },
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
            "stage": {
                "system": "AJCC8",
                "type": "clinical",
                "t": "cT2",
                "n": "cN1",
                "m": "cM0",
                "group": "IIB",
            },
            "biomarkers": [
                {
                    "name": "ER",
                    "value": "positive (90%)",
                    "loinc": "85337-4",
                    "method": "IHC",
                    "tested_on": days_ago(10),
                },
                {
                    "name": "PR",
                    "value": "positive (40%)",
                    "loinc": "85339-0",
                    "method": "IHC",
                    "tested_on": days_ago(10),
                },
                {
                    "name": "HER2",
                    "value": "negative (1+)",
                    "loinc": "85319-2",
                    "method": "IHC",
                    "tested_on": days_ago(10),
                },
                {"name": "Ki-67", "value": "25", "unit": "%", "method": "IHC", "tested_on": days_ago(10)},
            ],
            "comorbidities": [{"name": "Essential (primary) hypertension", "code": "I10"}],
        },
        {
            **common,
            "patient": {
                "mrn": "DEMO-0002",
                "given_name": "Thomas",
                "family_name": "Okafor",
                "birth_date": "1957-11-23",
                "sex": "male",
            },
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
            "stage": {
                "system": "AJCC8",
                "type": "clinical",
                "t": "cT2a",
                "n": "cN2",
                "m": "cM0",
                "group": "IIIA",
            },
            "biomarkers": [
                {"name": "EGFR", "value": "exon 19 deletion", "method": "NGS", "tested_on": days_ago(6)},
                {"name": "ALK", "value": "negative", "method": "IHC", "tested_on": days_ago(8)},
                {
                    "name": "PD-L1 TPS",
                    "value": "5",
                    "unit": "%",
                    "loinc": "83053-9",
                    "method": "IHC",
                    "tested_on": days_ago(8),
                },
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
        },
    ]

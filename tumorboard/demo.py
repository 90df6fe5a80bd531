"""Demo data for `tumorboard dev`: one board, its clinicians, two meetings and a few cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import asyncpg

from tumorboard.auth.schemas import User, UserCreate
from tumorboard.auth.service import create_user, get_user
from tumorboard.boards.schemas import BoardCreate
from tumorboard.boards.service import create_board
from tumorboard.cases.schemas import CaseCreate, Diagnosis, Patient, Stage
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
    for mrn, given, family, born, site, code, display in (
        (
            "DEMO-0001",
            "Maria",
            "Jensen",
            date(1968, 4, 2),
            DiseaseSite.BREAST,
            "C50.411",
            "Malignant neoplasm of upper-outer quadrant of right female breast",
        ),
        (
            "DEMO-0002",
            "Thomas",
            "Okafor",
            date(1957, 11, 23),
            DiseaseSite.THORACIC,
            "C34.11",
            "Malignant neoplasm of upper lobe, right bronchus or lung",
        ),
    ):
        await submit_case(
            conn,
            presenter,
            CaseCreate(
                patient=Patient(
                    mrn=mrn,
                    given_name=given,
                    family_name=family,
                    birth_date=born,
                    sex="female" if given == "Maria" else "male",
                ),
                disease_site=site,
                diagnosis=Diagnosis(code=code, system="ICD-10-CM", display=display),
                stage=Stage(system="AJCC8", t="cT2", n="cN1", m="cM0", group="IIB"),
                ecog=1,
                summary="Newly diagnosed; staging complete. Imaging and pathology reports are in the record.",
                question="What is the recommended treatment sequence?",
            ),
            body=mrn.encode(),
            idempotency_key=None,
        )

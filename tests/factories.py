"""Small factories: users with tokens, boards, meetings and cases, made through the real API."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
import httpx
from argon2 import PasswordHasher

from tumorboard.auth.service import API, issue_token

PASSWORD = "correct horse battery staple"
_PASSWORD_HASH = PasswordHasher().hash(PASSWORD)
_serial = itertools.count(1)
T = TypeVar("T")


@dataclass(frozen=True)
class Actor:
    """A user with a bearer token."""

    id: UUID
    email: str
    full_name: str
    discipline: str | None
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """Authorization header for this user."""
        return {"Authorization": f"Bearer {self.token}"}


def case_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /cases body; overrides replace top-level fields."""
    number = next(_serial)
    body: dict[str, Any] = {
        "patient": {
            "mrn": f"MRN-{number:06d}",
            "given_name": "Ada",
            "family_name": f"Testpatient{number}",
            "birth_date": "1961-05-17",
            "sex": "female",
        },
        "disease_site": "breast",
        "diagnosis": {"code": "C50.911", "system": "ICD-10-CM", "display": "Malignant neoplasm of breast"},
        "histology": "Invasive ductal carcinoma",
        "stage": {"system": "AJCC8", "t": "cT2", "n": "cN1", "m": "cM0", "group": "IIB"},
        "ecog": 1,
        "biomarkers": [{"name": "HER2", "value": "positive"}],
        "summary": "Palpable mass, biopsy-proven.",
        "question": "Neoadjuvant therapy before surgery?",
    }
    body.update(overrides)
    return body


def recommendation_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /cases/{id}/recommendations body."""
    body: dict[str, Any] = {
        "intent": "curative",
        "modalities": ["systemic_therapy", "surgery", "radiation"],
        "summary": "Neoadjuvant chemotherapy, then surgery, then radiotherapy.",
        "guideline": {"name": "NCCN Breast", "version": "2026.1", "concordant": True},
    }
    body.update(overrides)
    return body


def decision_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /cases/{id}/decision body: the plan recommendation_body() proposes."""
    body: dict[str, Any] = {
        "outcome": "plan",
        "intent": "curative",
        "modalities": ["systemic_therapy", "surgery", "radiation"],
        "summary": "Neoadjuvant chemotherapy, then surgery, then radiotherapy.",
        "rationale": "HER2-positive, node-positive disease.",
        "guideline": {"name": "NCCN Breast", "version": "2026.1", "concordant": True},
        "trial": {"status": "not_considered"},
        "stage_discussed": True,
    }
    body.update(overrides)
    return body


async def eventually(check: Callable[[], Awaitable[T | None]], within: float = 20.0) -> T:
    """Poll until check returns something truthy (background jobs finish on their own time)."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.1)


class Factory:
    """Creates what tests need; users go straight to the database, the rest through the API."""

    def __init__(self, client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
        self.client = client
        self.pool = pool

    async def user(self, *roles: str, discipline: str | None = None, name: str | None = None) -> Actor:
        """A user holding the roles, with a fresh bearer token."""
        number = next(_serial)
        email = f"user{number}@example.org"
        full_name = name or f"Dr. Test {number}"
        async with self.pool.acquire() as conn:
            user_id = await conn.fetchval(
                "INSERT INTO app_user (email, full_name, password_hash, roles, discipline)"
                " VALUES ($1, $2, $3, $4, $5) RETURNING id",
                email,
                full_name,
                _PASSWORD_HASH,
                list(roles),
                discipline,
            )
            token = await issue_token(conn, user_id, API, timedelta(hours=1))
        return Actor(user_id, email, full_name, discipline, token.access_token)

    async def team(self) -> Team:
        """A coordinator, a presenter, a chair and the three oncology reviewers."""
        return Team(
            coordinator=await self.user("coordinator"),
            presenter=await self.user("presenter", discipline="medical_oncology"),
            chair=await self.user("reviewer", discipline="medical_oncology", name="Dr. Chair"),
            surgeon=await self.user("reviewer", discipline="surgical_oncology", name="Dr. Surgeon"),
            radiation=await self.user("reviewer", discipline="radiation_oncology", name="Dr. Radiation"),
        )

    async def board(self, coordinator: Actor, **overrides: Any) -> dict[str, Any]:
        """A board covering breast cases unless told otherwise."""
        body = {"name": f"Board {next(_serial)}", "disease_sites": ["breast"], **overrides}
        return await self.ok(self.client.post("/boards", json=body, headers=coordinator.headers), 201)

    async def meeting(
        self,
        coordinator: Actor,
        board_id: str,
        participants: list[tuple[Actor, str]] = (),  # type: ignore[assignment]
        starts_in: timedelta = timedelta(days=7),
        **overrides: Any,
    ) -> dict[str, Any]:
        """A meeting of the board with the given (actor, role) participants."""
        body = {"board_id": board_id, "starts_at": (datetime.now(UTC) + starts_in).isoformat(), **overrides}
        meeting = await self.ok(self.client.post("/meetings", json=body, headers=coordinator.headers), 201)
        if participants:
            listed = [{"user_id": str(actor.id), "role": role} for actor, role in participants]
            meeting = await self.ok(
                self.client.put(
                    f"/meetings/{meeting['id']}/participants",
                    json={"participants": listed},
                    headers=coordinator.headers,
                ),
                200,
            )
        return meeting

    async def board_meeting_soon(self, team: Team, **overrides: Any) -> dict[str, Any]:
        """A board whose agendas lock at the start (so the background agenda lock never takes a
        test's routine cases off), and its meeting with the team starting within the hour."""
        board = await self.board(team.coordinator, agenda_lock_hours=0)
        return await self.meeting_soon(team.coordinator, board["id"], team.participants, **overrides)

    async def meeting_soon(
        self, coordinator: Actor, board_id: str, participants: list[tuple[Actor, str]], **overrides: Any
    ) -> dict[str, Any]:
        """A meeting starting within the hour (so its chair may start it), still open to routine cases."""
        now = datetime.now(UTC)
        deadline = (now + timedelta(minutes=5)).isoformat()
        return await self.meeting(
            coordinator,
            board_id,
            participants,
            starts_in=timedelta(minutes=30),
            **{"submission_deadline": deadline, **overrides},
        )

    async def series(
        self,
        coordinator: Actor,
        board_id: str,
        participants: list[tuple[Actor, str]] = (),  # type: ignore[assignment]
        **overrides: Any,
    ) -> dict[str, Any]:
        """A weekly series of the board's meetings, the first in a week, with the given participants."""
        body = {
            "recurrence_rule": "FREQ=WEEKLY",
            "starts_on": (datetime.now(UTC) + timedelta(days=7)).date().isoformat(),
            "start_time": "16:00",
            "participants": [{"user_id": str(actor.id), "role": role} for actor, role in participants],
            **overrides,
        }
        return await self.ok(
            self.client.post(f"/boards/{board_id}/series", json=body, headers=coordinator.headers), 201
        )

    async def place(self, coordinator: Actor, case_id: str, meeting_id: str) -> dict[str, Any]:
        """The coordinator puts a case on a meeting by hand."""
        return await self.ok(
            self.client.put(
                f"/cases/{case_id}/meeting", json={"meeting_id": meeting_id}, headers=coordinator.headers
            ),
            200,
        )

    async def start(self, actor: Actor, meeting_id: str) -> dict[str, Any]:
        """The chair (or a coordinator) starts the meeting."""
        return await self.ok(self.client.post(f"/meetings/{meeting_id}/start", headers=actor.headers), 200)

    async def attendance(self, actor: Actor, meeting_id: str, **statuses: list[Actor]) -> dict[str, Any]:
        """Record attendance: `present=[...]`, `absent=[...]`, `excused=[...]`."""
        listed = [
            {"user_id": str(a.id), "status": status} for status, people in statuses.items() for a in people
        ]
        return await self.ok(
            self.client.put(
                f"/meetings/{meeting_id}/attendance", json={"attendance": listed}, headers=actor.headers
            ),
            200,
        )

    async def decide(self, chair: Actor, case_id: str, **overrides: Any) -> httpx.Response:
        """The chair records the board's decision (a plan unless told otherwise)."""
        return await self.client.post(
            f"/cases/{case_id}/decision", json=decision_body(**overrides), headers=chair.headers
        )

    async def sign(
        self, chair: Actor, case_id: str, *, password: str = PASSWORD, version: int | None = None
    ) -> httpx.Response:
        """The chair signs the latest draft, re-authenticating with their password."""
        body: dict[str, Any] = {"password": password}
        if version is not None:
            body["version"] = version
        return await self.client.post(f"/cases/{case_id}/care-plan/sign", json=body, headers=chair.headers)

    async def case(self, presenter: Actor, **overrides: Any) -> dict[str, Any]:
        """A submitted case."""
        return await self.ok(
            self.client.post("/cases", json=case_body(**overrides), headers=presenter.headers), 201
        )

    async def case_on_meeting(self, presenter: Actor, meeting_id: str, **overrides: Any) -> dict[str, Any]:
        """A case, waited for until the assignment worker puts it on the meeting."""
        case = await self.case(presenter, **overrides)

        async def scheduled() -> dict[str, Any] | None:
            current = await self.ok(self.client.get(f"/cases/{case['id']}", headers=presenter.headers), 200)
            return current if current["meeting_id"] == meeting_id else None

        return await eventually(scheduled)

    @staticmethod
    async def ok(request: Awaitable[httpx.Response], status: int) -> Any:
        """The JSON body of a response that must have the given status."""
        response = await request
        assert response.status_code == status, (response.status_code, response.text)
        return response.json()


@dataclass(frozen=True)
class Team:
    """The people of one board."""

    coordinator: Actor
    presenter: Actor
    chair: Actor
    surgeon: Actor
    radiation: Actor

    @property
    def participants(self) -> list[tuple[Actor, str]]:
        """Chair plus the surgical and radiation reviewers: the three oncology disciplines."""
        return [(self.chair, "chair"), (self.surgeon, "reviewer"), (self.radiation, "reviewer")]

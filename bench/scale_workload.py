"""The scale benchmark's workload: the operations it measures and who asks what.

Every request names generated rows by their ordinal (bench/scale_data.py gives each row the md5 of
its ordinal as id), so the same users, patients and meetings are asked for at both sizes: all from
the present and the newest ten thousand cases. Only the cases read differ (any case of the size).
"""

from __future__ import annotations

import hashlib
import random
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg

from bench import scale_data
from tumorboard.auth.service import API, issue_token


@dataclass(frozen=True)
class Operation:
    """One measured operation; `list` ones (lists and searches) also have the p50 target."""

    key: str
    label: str
    is_list: bool = False
    direct: bool = False  # measured by calling the service in this process, not over HTTP


OPERATIONS = (
    Operation("case_read", "GET /cases/{id} (its meeting's chair)"),
    Operation("list_presenter", "GET /cases, a presenter", is_list=True),
    Operation("list_reviewer", "GET /cases, a reviewer", is_list=True),
    Operation("list_coordinator", "GET /cases, a coordinator", is_list=True),
    Operation("search", "GET /cases?q=given family, a coordinator", is_list=True),
    Operation("search_mrn", "GET /cases?q=MRN, a coordinator", is_list=True),
    Operation("search_filters", "GET /cases?disease_site&status&from&to, a coordinator", is_list=True),
    Operation("search_presenter", "GET /cases?q=family name, a presenter", is_list=True),
    Operation("meeting_agenda", "GET /meetings/{id}/agenda (a booked coming meeting)"),
    Operation("assignment_pass", "assign_waiting_cases (200 waiting cases; rolled back)", direct=True),
    Operation("outbox_sweep", "outbox.sweep (a week of finished jobs)", direct=True),
    Operation("quality_report", "GET /reports/quality, a board's last four weeks"),
)


def md5_uuid(text: str) -> UUID:
    """The id the generator gives a row (md5 of its ordinal, as in bench/scale_data.py)."""
    return UUID(hashlib.md5(text.encode()).hexdigest())  # noqa: S324 - an id, not a secret


def user(ordinal: int) -> UUID:
    """A generated user's id."""
    return md5_uuid(f"u{ordinal}")


def chair_of_case(case: int) -> UUID:
    """The chair of the meeting a generated case is on."""
    meeting = scale_data.FIRST_BOOKED_MEETING + case // scale_data.CASES_PER_MEETING
    board, turn = meeting % scale_data.BOARDS, meeting // scale_data.BOARDS
    return user(board * scale_data.POOL + turn % 6)


COORDINATOR = user(scale_data.REVIEWERS + scale_data.PRESENTERS)


class Workload:
    """Who asks what: the same users, patients and meetings at both sizes; `requests` per operation."""

    def __init__(self, requests: int, seed: int = 20_261_130) -> None:
        self.requests = requests
        self.rng = random.Random(seed)
        rng = self.rng
        self.presenters = [
            user(scale_data.REVIEWERS + i) for i in rng.sample(range(scale_data.PRESENTERS), 40)
        ]
        self.reviewers = [user(i) for i in rng.sample(range(scale_data.REVIEWERS), 40)]
        self.patients = [md5_uuid(f"p{p}") for p in rng.sample(range(3000), 200)]
        booked = range(scale_data.FIRST_BOOKED_MEETING, scale_data.FIRST_BOOKED_MEETING + 130)
        self.meetings = [md5_uuid(f"m{j}") for j in rng.sample(booked, 100)]

    async def requests_for(
        self, conn: asyncpg.Connection, key: str, cases: int
    ) -> list[tuple[str, str]] | None:
        """(path, bearer token) of each request of an HTTP operation on the database of `conn`, which
        holds `cases` cases; None for an operation without requests (a slot for a future one)."""
        tokens = Tokens(conn)
        n = self.requests
        if key == "case_read":
            ordinals = [self.rng.randrange(scale_data.WAITING_CASES, cases) for _ in range(n)]
            reads = [(md5_uuid(f"c{k}"), chair_of_case(k)) for k in ordinals]
            return [(f"/api/v1/cases/{case}", await tokens.of(chair)) for case, chair in reads]
        if key == "meeting_agenda":
            paths = [f"/api/v1/meetings/{meeting}/agenda" for meeting in self.meetings]
            return await self._spread(tokens, paths, [COORDINATOR])
        if key in ("list_presenter", "list_reviewer", "list_coordinator"):
            users = {"list_presenter": self.presenters, "list_reviewer": self.reviewers}.get(
                key, [COORDINATOR]
            )
            return await self._spread(tokens, ["/api/v1/cases?limit=50"], users)
        if key in ("search", "search_mrn"):
            rows = await conn.fetch(
                "SELECT mrn, given_name, family_name FROM patient WHERE id = ANY ($1::uuid[]) ORDER BY id",
                self.patients,
            )
            terms = [
                r["mrn"] if key == "search_mrn" else f"{r['given_name']} {r['family_name']}" for r in rows
            ]
            return await self._spread(tokens, [cases_path(q=term) for term in terms], [COORDINATOR])
        if key == "search_filters":
            today = datetime.now(UTC).date()
            window = {"from": str(today - timedelta(days=21)), "to": str(today - timedelta(days=7))}
            paths = [cases_path(disease_site=site, status="finalized", **window) for site in scale_data.CODES]
            return await self._spread(tokens, paths, [COORDINATOR])
        if key == "quality_report":
            today = datetime.now(UTC).date()
            period = {"from": str(today - timedelta(days=28)), "to": str(today - timedelta(days=1))}
            boards = [md5_uuid(f"b{b}") for b in range(scale_data.BOARDS)]
            paths = [
                f"/api/v1/reports/quality?{urllib.parse.urlencode({'board_id': b, **period})}" for b in boards
            ]
            return await self._spread(tokens, paths, [COORDINATOR])
        if key == "search_presenter":
            requests = []
            for presenter in self.presenters:
                family = await conn.fetchval(
                    "SELECT p.family_name FROM patient_case c JOIN patient p ON p.id = c.patient_id"
                    " WHERE c.presenter_id = $1 ORDER BY c.created_at DESC LIMIT 1",
                    presenter,
                )
                requests.append((cases_path(q=family or "Ada"), await tokens.of(presenter)))
            return [requests[i % len(requests)] for i in range(n)]
        return None

    async def _spread(self, tokens: Tokens, paths: list[str], users: list[UUID]) -> list[tuple[str, str]]:
        """`requests` requests going round the paths and, independently, round the users."""
        issued = [await tokens.of(user_id) for user_id in users]
        return [(paths[i % len(paths)], issued[i % len(issued)]) for i in range(self.requests)]


@dataclass
class Tokens:
    """Bearer tokens of generated users in one database, issued once each."""

    conn: asyncpg.Connection
    issued: dict[UUID, str] = field(default_factory=dict)

    async def of(self, user_id: UUID) -> str:
        """The user's token."""
        if user_id not in self.issued:
            token = await issue_token(self.conn, user_id, API, timedelta(hours=3))
            self.issued[user_id] = token.access_token
        return self.issued[user_id]


def cases_path(**parameters: str) -> str:
    """A case list path with its query."""
    return "/api/v1/cases?limit=50&" + urllib.parse.urlencode(parameters)

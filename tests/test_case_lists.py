"""The case list and search at 20,000 cases: exactly the cases case_visible_to allows, in order.

The data is the scale benchmark's (bench/scale_data.py) at a fiftieth of its size. These tests check
results, not speed: bench.scale measures the speed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from bench import scale_data
from tumorboard.auth.schemas import User
from tumorboard.cases.search import CaseSearch
from tumorboard.cases.service import list_cases
from tumorboard.enums import CaseStatus
from tumorboard.meetings.assignment import assign_waiting_cases

CASES = 20_000
PAGE = 200

# The list as it was before it took the three paths: one predicate, case_visible_to, over every case.
REFERENCE = """
SELECT c.id FROM patient_case c
WHERE case_visible_to(c.presenter_id, c.meeting_id, $1, $2)
  AND (NOT $3 OR c.presenter_id = $1)
  AND ($4::text IS NULL OR c.status = $4)
  AND ($5::uuid IS NULL OR c.meeting_id = $5)
ORDER BY c.created_at DESC, c.id DESC
"""
# case_participant as its definition says.
PARTICIPANTS_DRIFT = """
SELECT count(*) FROM (
    (SELECT case_id, user_id, case_created_at FROM case_participant
     EXCEPT ALL
     SELECT c.id, mp.user_id, c.created_at FROM patient_case c
     JOIN meeting_participant mp ON mp.meeting_id = c.meeting_id AND mp.user_id <> c.presenter_id)
    UNION ALL
    (SELECT c.id, mp.user_id, c.created_at FROM patient_case c
     JOIN meeting_participant mp ON mp.meeting_id = c.meeting_id AND mp.user_id <> c.presenter_id
     EXCEPT ALL
     SELECT case_id, user_id, case_created_at FROM case_participant)
) AS drift
"""


@pytest.fixture
async def network(pool: asyncpg.Pool) -> AsyncIterator[datetime]:
    """A regional network with 20,000 cases (no audit history); the clock it was generated at."""
    clock = datetime.now(UTC).replace(microsecond=0)
    async with pool.acquire() as conn:
        await scale_data.create_present(conn, clock, "not-a-password-hash")
        await scale_data.grow(conn, clock, CASES, audit_events=False)
    yield clock


async def _user(conn: asyncpg.Connection, ordinal: int) -> User:
    row = await conn.fetchrow(
        "SELECT id, email, full_name, roles, discipline, created_at FROM app_user WHERE email = $1",
        f"user{ordinal}@scale.invalid",
    )
    return User(**dict(row))


async def _all_pages(
    conn: asyncpg.Connection,
    user: User,
    *,
    status: CaseStatus | None = None,
    meeting_id: UUID | None = None,
    mine: bool = False,
    search: CaseSearch | None = None,
    pages: int = 1000,
) -> list[UUID]:
    """Every case the list shows the user, following next_cursor (at most `pages` pages)."""
    found: list[UUID] = []
    cursor = None
    for _ in range(pages):
        page = await list_cases(
            conn,
            user,
            status=status,
            meeting_id=meeting_id,
            mine=mine,
            limit=PAGE,
            cursor=cursor,
            search=search or CaseSearch(),
        )
        found += [case.id for case in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    return found


async def _reference(
    conn: asyncpg.Connection,
    user: User,
    *,
    status: str | None = None,
    meeting_id: UUID | None = None,
    mine: bool = False,
) -> list[UUID]:
    rows = await conn.fetch(REFERENCE, user.id, user.has_role("coordinator"), mine, status, meeting_id)
    return [row["id"] for row in rows]


async def test_each_role_sees_exactly_what_the_visibility_rule_allows(
    pool: asyncpg.Pool, network: datetime
) -> None:
    async with pool.acquire() as conn:
        presenters = [await _user(conn, scale_data.REVIEWERS + i) for i in (0, 517, 1203)]
        reviewers = [await _user(conn, i) for i in (0, 7, 40, 1439)]
        coordinator = await _user(conn, scale_data.REVIEWERS + scale_data.PRESENTERS)
        admin = await _user(conn, scale_data.USERS - 1)
        # A reviewer who also presents: some of their cases are on meetings they sit on, so the
        # presenter's path and the participant's path overlap and the list must not repeat them.
        both = reviewers[1]
        await conn.execute("UPDATE app_user SET roles = '{reviewer,presenter}' WHERE id = $1", both.id)
        await conn.execute(
            "UPDATE patient_case SET presenter_id = $1 WHERE id IN (SELECT case_id FROM case_participant"
            " WHERE user_id = $1 ORDER BY case_id LIMIT 15) OR id IN (SELECT id FROM patient_case"
            " WHERE meeting_id IS NULL ORDER BY id LIMIT 5)",
            both.id,
        )
        both = await _user(conn, 7)
        assert await conn.fetchval(PARTICIPANTS_DRIFT) == 0

        for user in (*presenters, *reviewers, both, admin):
            expected = await _reference(conn, user)
            assert await _all_pages(conn, user) == expected, user.email
            assert len(expected) > 0 or user is admin
        assert await _all_pages(conn, both, mine=True) == await _reference(conn, both, mine=True)
        assert len(await _reference(conn, both, mine=True)) == 20
        # Coordinators see every case: the first five pages, and pages deep in the history.
        everything = await _reference(conn, coordinator)
        assert len(everything) == CASES
        assert await _all_pages(conn, coordinator, pages=5) == everything[: 5 * PAGE]
        meeting = await conn.fetchval(
            "SELECT meeting_id FROM patient_case WHERE meeting_id IS NOT NULL ORDER BY created_at LIMIT 1"
        )
        for user in (coordinator, reviewers[0], presenters[0]):
            for status in (CaseStatus.SCHEDULED, CaseStatus.WITHDRAWN, CaseStatus.SUBMITTED):
                expected = await _reference(conn, user, status=status)
                assert await _all_pages(conn, user, status=status) == expected, (user.email, status)
            expected = await _reference(conn, user, meeting_id=meeting)
            assert await _all_pages(conn, user, meeting_id=meeting) == expected


async def test_case_participant_follows_every_change_of_meetings_and_participants(
    pool: asyncpg.Pool, network: datetime
) -> None:
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM case_participant") > 5 * CASES
        assert await conn.fetchval(PARTICIPANTS_DRIFT) == 0
        # The assignment pass places the waiting cases on coming meetings.
        assert await assign_waiting_cases(conn) > 0
        assert await conn.fetchval(PARTICIPANTS_DRIFT) == 0
        # Participants change: one leaves a booked meeting, another joins, a role changes.
        meeting = await conn.fetchval(
            "SELECT id FROM meeting WHERE status = 'scheduled' AND case_count > 0 ORDER BY starts_at LIMIT 1"
        )
        leaving = await conn.fetchval(
            "SELECT user_id FROM meeting_participant WHERE meeting_id = $1 AND role = 'reviewer' LIMIT 1",
            meeting,
        )
        joining = (await _user(conn, scale_data.REVIEWERS - 1)).id
        async with conn.transaction():
            await conn.execute(
                "DELETE FROM meeting_participant WHERE meeting_id = $1 AND user_id = $2", meeting, leaving
            )
            await conn.execute(
                "INSERT INTO meeting_participant (meeting_id, user_id, role) VALUES ($1, $2, 'reviewer')",
                meeting,
                joining,
            )
        await conn.execute(
            "UPDATE meeting_participant SET role = 'reviewer' WHERE meeting_id = $1 AND role = 'chair'",
            meeting,
        )
        assert await conn.fetchval(PARTICIPANTS_DRIFT) == 0
        on_meeting = await conn.fetchval("SELECT count(*) FROM patient_case WHERE meeting_id = $1", meeting)
        seen = await conn.fetchval("SELECT count(*) FROM case_participant WHERE user_id = $1", joining)
        assert seen >= on_meeting > 0
        # Cases leave their meeting (back to waiting) and move to another one.
        other = await conn.fetchval(
            "SELECT id FROM meeting WHERE status = 'scheduled' AND id <> $1 AND case_count < capacity - 2"
            " ORDER BY starts_at LIMIT 1",
            meeting,
        )
        moved = await conn.fetch(
            "SELECT id FROM patient_case WHERE meeting_id = $1 ORDER BY id LIMIT 3", meeting
        )
        await conn.execute(
            "UPDATE patient_case SET status = 'submitted', meeting_id = NULL WHERE id = $1", moved[0]["id"]
        )
        await conn.execute(
            "UPDATE patient_case SET meeting_id = $2 WHERE id = ANY ($1::uuid[])",
            [row["id"] for row in moved[1:]],
            other,
        )
        assert await conn.fetchval(PARTICIPANTS_DRIFT) == 0
        assert not await conn.fetchval(
            "SELECT count(*) FROM case_participant WHERE case_id = $1", moved[0]["id"]
        )
        # A meeting that goes, goes with its participants' rows.
        empty = await conn.fetchval("SELECT id FROM meeting WHERE case_count = 0 LIMIT 1")
        await conn.execute("DELETE FROM meeting WHERE id = $1", empty)
        assert await conn.fetchval(PARTICIPANTS_DRIFT) == 0


def _words(text: str) -> list[str]:
    """Lower case, accents off, split at anything but letters and digits (as search_words does)."""
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return re.findall(r"[^\W_]+", plain.lower())


def _matches(query: str, row: dict[str, Any]) -> bool:
    """Whether every word of the query begins a word of the case's MRN, names or diagnosis code."""
    words = _words(" ".join((row["mrn"], row["given_name"], row["family_name"], row["code"])))
    return all(any(word.startswith(term) for word in words) for term in _words(query))


async def test_a_search_finds_every_visible_match_and_nothing_else(
    pool: asyncpg.Pool, network: datetime
) -> None:
    async with pool.acquire() as conn:
        coordinator = await _user(conn, scale_data.REVIEWERS + scale_data.PRESENTERS)
        presenter = await _user(conn, scale_data.REVIEWERS + 3)
        reviewer = await _user(conn, 40)
        cases = [
            dict(row)
            for row in await conn.fetch(
                "SELECT c.id, c.created_at, c.status, c.disease_site, c.presenter_id, c.meeting_id,"
                " c.diagnosis ->> 'code' AS code, p.mrn, p.given_name, p.family_name, m.board_id"
                " FROM patient_case c JOIN patient p ON p.id = c.patient_id"
                " LEFT JOIN meeting m ON m.id = c.meeting_id"
                " ORDER BY c.created_at DESC, c.id DESC"
            )
        ]
        sample = cases[1234]
        accented = next(case for case in cases if "ö" in case["family_name"])
        board = await conn.fetchval("SELECT board_id FROM meeting WHERE id = $1", cases[5000]["meeting_id"])
        searches = [
            CaseSearch(q=sample["family_name"]),
            CaseSearch(q=f"{sample['given_name']} {sample['family_name']}"),
            CaseSearch(q=f"{sample['family_name'].upper()}, {sample['given_name'][:2]}"),
            CaseSearch(q=sample["mrn"]),
            CaseSearch(q=sample["mrn"][:8].lower()),
            CaseSearch(q="C50"),
            CaseSearch(q="c50.9"),
            CaseSearch(q="jose"),  # José, written without its accent
            CaseSearch(q=accented["family_name"].replace("ö", "o")),  # ...ström, written without its accent
            CaseSearch(q='"Ada" 100% _x'),  # quotes and wildcards are literal text
            CaseSearch(q="ab", disease_site="breast"),
            CaseSearch(board_id=board, submitted_from=date.today() - timedelta(days=30)),
            CaseSearch(
                q="a",
                submitted_from=date.today() - timedelta(days=20),
                submitted_to=date.today() - timedelta(days=10),
            ),
        ]
        visible = {
            coordinator.id: {case["id"] for case in cases},
            presenter.id: set(await _reference(conn, presenter)),
            reviewer.id: set(await _reference(conn, reviewer)),
        }
        for search in searches:
            for user in (coordinator, presenter, reviewer):
                expected = [
                    case["id"] for case in cases if case["id"] in visible[user.id] and _fits(search, case)
                ]
                found = await _all_pages(conn, user, search=search)
                assert found == expected, (search, user.email)
        assert await _all_pages(conn, coordinator, search=CaseSearch(q="jose"))
        unaccented = accented["family_name"].replace("ö", "o")
        assert accented["id"] in await _all_pages(conn, coordinator, search=CaseSearch(q=unaccented))


def _fits(search: CaseSearch, case: dict[str, Any]) -> bool:
    day = case["created_at"].astimezone(UTC).date()
    return (
        (search.q is None or _matches(search.q, case))
        and (search.disease_site is None or case["disease_site"] == search.disease_site)
        and (
            search.board_id is None
            or (case["board_id"] == search.board_id and case["meeting_id"] is not None)
        )
        and (search.submitted_from is None or day >= search.submitted_from)
        and (search.submitted_to is None or day <= search.submitted_to)
    )

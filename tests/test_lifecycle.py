"""The case lifecycle: the transition table, the database holding the same rule, and the generated docs."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from tumorboard.cases.lifecycle import (
    OPEN_STATUSES,
    TRANSITIONS,
    UNDER_DISCUSSION,
    CaseEvent,
    IllegalTransition,
    allowed_pairs,
    event_sources,
    event_target,
    mermaid,
    next_status,
    statement,
)
from tumorboard.enums import CaseStatus as S

E = CaseEvent
DOC = Path(__file__).resolve().parent.parent / "docs" / "lifecycle.md"

# Every (status, event) pair: what it leads to, or None when the lifecycle refuses it.
EXPECTED = [
    (S.SUBMITTED, E.ASSIGN, S.SCHEDULED),
    (S.SUBMITTED, E.MOVE, S.SCHEDULED),
    (S.SCHEDULED, E.MOVE, S.SCHEDULED),
    (S.SCHEDULED, E.ASSIGN, None),
    (S.SCHEDULED, E.MEETING_CANCELLED, S.SUBMITTED),
    (S.SCHEDULED, E.QUORUM_LOST, S.SUBMITTED),
    (S.SCHEDULED, E.MEETING_MOVED_LATE, S.SUBMITTED),
    (S.SCHEDULED, E.NOT_READY_AT_LOCK, S.SUBMITTED),
    (S.SCHEDULED, E.DECIDE, S.DISCUSSED),
    (S.SCHEDULED, E.DEFER, S.SUBMITTED),
    (S.SCHEDULED, E.MEETING_CLOSED, S.SUBMITTED),
    (S.SCHEDULED, E.SIGN, None),  # nothing is signed before the board decided
    (S.SCHEDULED, E.CORRECT, None),
    (S.SUBMITTED, E.DECIDE, None),  # only a case on a meeting is decided
    (S.SUBMITTED, E.DEFER, None),
    (S.DISCUSSED, E.CORRECT, S.DISCUSSED),
    (S.DISCUSSED, E.DEFER, None),  # a discussed case can no longer be deferred
    (S.DISCUSSED, E.DECIDE, None),
    (S.DISCUSSED, E.MEETING_CLOSED, None),  # decided cases stay discussed when the meeting closes
    (S.DISCUSSED, E.MEETING_CANCELLED, None),
    (S.DISCUSSED, E.MOVE, None),
    (S.DISCUSSED, E.SIGN, S.FINALIZED),
    (S.FINALIZED, E.SIGN, None),
    (S.FINALIZED, E.AMEND, S.DISCUSSED),
    (S.FINALIZED, E.WITHDRAW, None),
    (S.FINALIZED, E.DEFER, None),
    (S.SUBMITTED, E.WITHDRAW, S.WITHDRAWN),
    (S.SCHEDULED, E.WITHDRAW, S.WITHDRAWN),
    (S.DISCUSSED, E.WITHDRAW, S.WITHDRAWN),
    (S.WITHDRAWN, E.WITHDRAW, None),
    (S.WITHDRAWN, E.ASSIGN, None),
    (S.WITHDRAWN, E.AMEND, None),
]


@pytest.mark.parametrize(("status", "event", "expected"), EXPECTED)
def test_transition_table(status: S, event: CaseEvent, expected: S | None) -> None:
    if expected is None:
        with pytest.raises(IllegalTransition) as refused:
            next_status(status, event)
        assert refused.value.status_code == 409 and str(status) in refused.value.detail
    else:
        assert next_status(status, event) == expected


def test_every_transition_is_covered_by_the_cases_above() -> None:
    listed = {(status, event): target for status, event, target in EXPECTED if target is not None}
    assert listed == dict(TRANSITIONS)


def test_each_event_leads_to_one_status_and_set_statements_use_its_sources() -> None:
    for event in CaseEvent:
        targets = {target for (_, each), target in TRANSITIONS.items() if each == event}
        assert targets == {event_target(event)}, event
    assert statement(E.MEETING_CLOSED) == {"from_statuses": ["scheduled"], "to_status": "submitted"}
    assert event_sources(E.WITHDRAW) == ["discussed", "scheduled", "submitted"]


def test_open_statuses_are_defined_by_the_table() -> None:
    assert {S.SUBMITTED, S.SCHEDULED, S.DISCUSSED} == OPEN_STATUSES
    assert {S.SCHEDULED, S.DISCUSSED} == UNDER_DISCUSSION


async def test_the_database_allows_exactly_the_tables_status_changes(pool: asyncpg.Pool) -> None:
    rows = await pool.fetch("SELECT from_status, to_status FROM case_status_transition")
    assert {(row["from_status"], row["to_status"]) for row in rows} == allowed_pairs()


async def test_the_database_refuses_an_illegal_status_change(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        user_id = await conn.fetchval(
            "INSERT INTO app_user (email, full_name, password_hash, roles)"
            " VALUES ($1, 'P', 'x', '{presenter}') RETURNING id",
            "lifecycle@example.org",
        )
        patient_id = await conn.fetchval(
            "INSERT INTO patient (mrn, given_name, family_name, birth_date, sex)"
            " VALUES ('LC-1', 'A', 'B', '1960-01-01', 'female') RETURNING id"
        )
        case_id = await conn.fetchval(
            "INSERT INTO patient_case (patient_id, presenter_id, disease_site, diagnosis, summary, question)"
            " VALUES ($1, $2, 'breast', '{}', 's', 'q') RETURNING id",
            patient_id,
            user_id,
        )
        with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="from nothing to withdrawn"):
            await conn.execute(
                "INSERT INTO patient_case (patient_id, presenter_id, disease_site, diagnosis, summary,"
                " question, status) VALUES ($1, $2, 'breast', '{}', 's', 'q', 'withdrawn')",
                patient_id,
                user_id,
            )
        await conn.execute("UPDATE patient_case SET status = 'withdrawn' WHERE id = $1", case_id)
        with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="from withdrawn to submitted"):
            await conn.execute("UPDATE patient_case SET status = 'submitted' WHERE id = $1", case_id)
        assert await conn.fetchval("SELECT status FROM patient_case WHERE id = $1", case_id) == "withdrawn"


def test_the_docs_show_exactly_the_generated_diagram() -> None:
    text = DOC.read_text()
    assert f"```mermaid\n{mermaid()}\n```" in text
    assert text.count("stateDiagram-v2") == 1
    for (status, event), target in TRANSITIONS.items():
        assert f"| `{status}` | `{event}` | `{target}` |" in text

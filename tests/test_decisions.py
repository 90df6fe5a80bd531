"""The board decides at its meeting: the chair records a plan or a deferral while the meeting runs,
quorum counts those present, corrections make new revisions, and a refused decision changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tests.care_plan_helpers import consolidate, discussed_case, meeting_under_way, prepared_case, sign
from tests.factories import Factory, Team, decision_body, recommendation_body
from tumorboard.meetings.assignment import assign_waiting_cases


async def _case_at_running_meeting(api: Factory, team: Team) -> dict[str, Any]:
    case, _ = await prepared_case(api, team)
    await meeting_under_way(api, team, case)
    return case


async def _rows(pool: asyncpg.Pool, case_id: str) -> tuple[Any, ...]:
    """Everything a decision would change, to prove a refused one changed nothing."""
    case = await pool.fetchrow(
        "SELECT status, meeting_id, assignment_note, requeued_at, absent_disciplines, updated_at"
        " FROM patient_case WHERE id = $1",
        case_id,
    )
    decisions = await pool.fetchval("SELECT count(*) FROM board_decision WHERE case_id = $1", case_id)
    jobs = await pool.fetchval("SELECT count(*) FROM outbox WHERE subject_id = $1", case_id)
    return tuple(case), decisions, jobs


async def test_preparation_shows_which_required_disciplines_recommended(api: Factory) -> None:
    team = await api.team()
    meeting = await api.board_meeting_soon(team)
    case = await api.case(team.presenter)
    assert case["preparation"] is None  # not on a meeting
    placed = await api.place(team.coordinator, case["id"], meeting["id"])
    assert placed["preparation"] == {
        "recommended": [],
        "missing": ["medical_oncology", "surgical_oncology", "radiation_oncology"],
    }
    await api.ok(
        api.client.post(
            f"/cases/{case['id']}/recommendations", json=recommendation_body(), headers=team.surgeon.headers
        ),
        201,
    )
    prepared = await api.ok(api.client.get(f"/cases/{case['id']}", headers=team.presenter.headers), 200)
    # Recommendations before the meeting are preparation: the case stays scheduled, no care plan exists.
    assert prepared["status"] == "scheduled"
    assert prepared["preparation"] == {
        "recommended": ["surgical_oncology"],
        "missing": ["medical_oncology", "radiation_oncology"],
    }
    for reviewer in (team.chair, team.radiation):
        await api.ok(
            api.client.post(
                f"/cases/{case['id']}/recommendations", json=recommendation_body(), headers=reviewer.headers
            ),
            201,
        )
    complete = await api.ok(api.client.get(f"/cases/{case['id']}", headers=team.presenter.headers), 200)
    assert complete["status"] == "scheduled" and complete["preparation"]["missing"] == []
    care_plan = await api.client.get(f"/cases/{case['id']}/care-plan", headers=team.presenter.headers)
    assert care_plan.status_code == 404


async def test_the_chair_records_the_plan_at_the_meeting(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case = await _case_at_running_meeting(api, team)
    decided = await api.ok(api.decide(team.chair, case["id"]), 200)
    assert decided["status"] == "discussed" and decided["meeting_id"] == case["meeting_id"]
    (decision,) = await api.ok(
        api.client.get(f"/cases/{case['id']}/decisions", headers=team.presenter.headers), 200
    )
    assert (decision["outcome"], decision["revision"], decision["intent"]) == ("plan", 1, "curative")
    assert decision["modalities"] == ["systemic_therapy", "surgery", "radiation"]
    assert decision["trial"] == {"status": "not_considered", "id": None}
    assert decision["quorum"]["missing"] == [] and decision["quorum_override"] is None
    assert {a["full_name"]: a["attendance"] for a in decision["attendance"]} == {
        "Dr. Chair": "present",
        "Dr. Surgeon": "present",
        "Dr. Radiation": "present",
    }
    assert decision["decided_by"] == str(team.chair.id)
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM outbox WHERE job = 'consolidate_care_plan' AND subject_id = $1", case["id"]
        )
        == 1
    )
    audited = await pool.fetchval(
        "SELECT count(*) FROM audit_event WHERE action = 'decide' AND subject_type = 'decision'"
        " AND subject_id = $1 AND actor_id = $2",
        decision["id"],
        team.chair.id,
    )
    assert audited == 1


@pytest.mark.parametrize("who", ["surgeon", "coordinator", "presenter", "outsider", "other_chair"])
async def test_only_the_chair_of_the_cases_meeting_decides(
    api: Factory, pool: asyncpg.Pool, who: str
) -> None:
    team = await api.team()
    case = await _case_at_running_meeting(api, team)
    if who == "outsider":
        actor = await api.user("reviewer", discipline="pathology")
    elif who == "other_chair":
        other = await api.team()
        await api.board_meeting_soon(other)
        actor = other.chair
    else:
        actor = getattr(team, who)
    before = await _rows(pool, case["id"])
    refused = await api.decide(actor, case["id"])
    assert refused.status_code == 403
    assert "chair" in refused.json()["detail"]
    assert await _rows(pool, case["id"]) == before
    denied = await pool.fetchval(
        "SELECT count(*) FROM audit_event WHERE actor_id = $1 AND action = 'decide' AND outcome = 'denied'",
        actor.id,
    )
    assert denied == 1


async def test_no_decision_before_the_meeting_starts_or_after_it_closed(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    case, _ = await prepared_case(api, team)
    before = await _rows(pool, case["id"])
    early = await api.decide(team.chair, case["id"])
    assert early.status_code == 409 and "in progress" in early.json()["detail"]
    assert await _rows(pool, case["id"]) == before

    await meeting_under_way(api, team, case)
    await api.ok(api.decide(team.chair, case["id"]), 200)
    await api.ok(api.client.post(f"/meetings/{case['meeting_id']}/close", headers=team.chair.headers), 200)
    before = await _rows(pool, case["id"])
    late = await api.decide(team.chair, case["id"], summary="A correction after the meeting.")
    assert late.status_code == 409 and "closed" in late.json()["detail"]
    assert await _rows(pool, case["id"]) == before


async def test_a_plan_without_quorum_needs_the_chairs_reason(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case, _ = await prepared_case(api, team)
    await api.start(team.chair, case["meeting_id"])
    # Invited is not present: quorum counts those recorded present.
    await api.attendance(
        team.chair, case["meeting_id"], present=[team.chair, team.surgeon], absent=[team.radiation]
    )
    before = await _rows(pool, case["id"])
    refused = await api.decide(team.chair, case["id"])
    assert refused.status_code == 409
    assert "radiation oncology" in refused.json()["detail"] and "quorum_override" in refused.json()["detail"]
    assert await _rows(pool, case["id"]) == before

    decided = await api.ok(
        api.decide(team.chair, case["id"], quorum_override="Radiation agreed in writing."), 200
    )
    assert decided["status"] == "discussed"
    row = await pool.fetchrow(
        "SELECT quorum_missing, quorum_override FROM board_decision WHERE case_id = $1", case["id"]
    )
    assert (row["quorum_missing"], row["quorum_override"]) == (
        ["radiation_oncology"],
        "Radiation agreed in writing.",
    )


async def test_an_override_sent_while_quorum_is_met_is_ignored(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case = await _case_at_running_meeting(api, team)
    await api.ok(api.decide(team.chair, case["id"], quorum_override="Not needed."), 200)
    assert (
        await pool.fetchval("SELECT quorum_override FROM board_decision WHERE case_id = $1", case["id"])
        is None
    )


async def test_a_deferral_without_quorum_needs_no_override(api: Factory) -> None:
    team = await api.team()
    case, _ = await prepared_case(api, team)
    await api.start(team.chair, case["meeting_id"])
    deferred = await api.ok(
        api.client.post(
            f"/cases/{case['id']}/decision",
            json=defer_body("Radiology review first."),
            headers=team.chair.headers,
        ),
        200,
    )
    assert deferred["status"] == "submitted"


def defer_body(reason: str) -> dict[str, Any]:
    """A deferral's whole body."""
    return {"outcome": "defer", "summary": reason}


async def test_corrections_make_revisions_and_an_identical_one_changes_nothing(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    case = await _case_at_running_meeting(api, team)
    await api.ok(api.decide(team.chair, case["id"]), 200)
    await consolidate(pool, case["id"])
    first = await _rows(pool, case["id"])
    again = await api.ok(api.decide(team.chair, case["id"]), 200)  # the same decision once more
    assert again["status"] == "discussed"
    assert await _rows(pool, case["id"]) == first
    assert await consolidate(pool, case["id"]) is None

    corrected = await api.ok(
        api.decide(team.chair, case["id"], modalities=["surgery", "systemic_therapy", "radiation"]), 200
    )
    assert corrected["status"] == "discussed"
    assert await consolidate(pool, case["id"]) == 2
    decisions = await api.ok(
        api.client.get(f"/cases/{case['id']}/decisions", headers=team.chair.headers), 200
    )
    assert [(d["revision"], d["modalities"][0]) for d in decisions] == [
        (1, "systemic_therapy"),
        (2, "surgery"),
    ]
    plan = await api.ok(api.client.get(f"/cases/{case['id']}/care-plan", headers=team.chair.headers), 200)
    assert (plan["version"], plan["modalities"][0], plan["decision"]["revision"]) == (2, "surgery", 2)
    assert plan["consensus"] is False and len(plan["differing_views"]) == 3

    refused = await api.client.post(
        f"/cases/{case['id']}/decision", json=defer_body("Too late for that."), headers=team.chair.headers
    )
    assert refused.status_code == 409 and "can no longer be deferred" in refused.json()["detail"]


async def test_a_deferred_case_waits_first_in_line_for_another_meeting_and_keeps_the_reason(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    case = await _case_at_running_meeting(api, team)
    reason = "Needs a PET-CT before the board can decide."
    deferred = await api.ok(
        api.client.post(f"/cases/{case['id']}/decision", json=defer_body(reason), headers=team.chair.headers),
        200,
    )
    assert (deferred["status"], deferred["meeting_id"]) == ("submitted", None)
    assert reason in deferred["assignment_note"] and deferred["preparation"] is None
    assert await pool.fetchval("SELECT requeued_at IS NOT NULL FROM patient_case WHERE id = $1", case["id"])

    # Deciding again on a case that left the meeting: the chair is told it is not on it.
    again = await api.decide(team.chair, case["id"])
    assert again.status_code == 409 and "not on this meeting" in again.json()["detail"]

    later = await api.meeting(
        team.coordinator, case["board_id"], team.participants, starts_in=timedelta(days=8)
    )
    async with pool.acquire() as conn:
        assert await assign_waiting_cases(conn) >= 1
    placed = await api.ok(api.client.get(f"/cases/{case['id']}", headers=team.presenter.headers), 200)
    assert placed["status"] == "scheduled" and placed["meeting_id"] == later["id"] != case["meeting_id"]
    history = await api.ok(
        api.client.get(f"/cases/{case['id']}/decisions", headers=team.presenter.headers), 200
    )
    assert [(d["outcome"], d["summary"], d["meeting_id"]) for d in history] == [
        ("defer", reason, case["meeting_id"])
    ]


async def test_closing_the_meeting_returns_undecided_cases_first_in_line(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    decided, _ = await prepared_case(api, team)
    undecided = await api.case(team.presenter)
    await api.place(team.coordinator, undecided["id"], decided["meeting_id"])
    await meeting_under_way(api, team, decided)
    await api.ok(api.decide(team.chair, decided["id"]), 200)
    # A newer case with an earlier discuss-by date waits too (no meeting fits it yet).
    newer = await api.case(team.presenter, discuss_by=(date.today() + timedelta(days=20)).isoformat())

    closed = await api.ok(
        api.client.post(f"/meetings/{decided['meeting_id']}/close", headers=team.chair.headers), 200
    )
    assert closed["status"] == "closed"
    returned = await api.ok(api.client.get(f"/cases/{undecided['id']}", headers=team.presenter.headers), 200)
    assert (returned["status"], returned["meeting_id"]) == ("submitted", None)
    assert "Not decided at the board's meeting" in returned["assignment_note"]
    still = await api.ok(api.client.get(f"/cases/{decided['id']}", headers=team.presenter.headers), 200)
    assert still["status"] == "discussed"
    inbox = await api.ok(api.client.get("/me/notifications", headers=team.presenter.headers), 200)
    notices = [n for n in inbox["items"] if n["kind"] == "case_returned"]
    assert [(n["case_id"], n["meeting_id"], n["link"]) for n in notices] == [
        (undecided["id"], decided["meeting_id"], f"/cases/{undecided['id']}")
    ]
    assert "waits" in notices[0]["title"] and returned["patient"]["family_name"] not in notices[0]["title"]

    # The decided case may still be signed after the meeting closed.
    await consolidate(pool, decided["id"])
    assert (await sign(api, team.chair, decided["id"]))["status"] == "final"

    # One seat at the next meeting: the returned case gets it, ahead of the newer case.
    await api.meeting(
        team.coordinator, decided["board_id"], team.participants, starts_in=timedelta(days=9), capacity=1
    )
    async with pool.acquire() as conn:
        await assign_waiting_cases(conn)
    statuses = {
        row["id"]: row["status"]
        for row in await pool.fetch(
            "SELECT id::text, status FROM patient_case WHERE id = ANY($1::uuid[])",
            [undecided["id"], newer["id"]],
        )
    }
    assert statuses == {undecided["id"]: "scheduled", newer["id"]: "submitted"}


async def test_decisions_on_final_withdrawn_or_unplaced_cases_are_refused(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    case, _ = await discussed_case(api, team)
    await consolidate(pool, case["id"])
    await sign(api, team.chair, case["id"])
    before = await _rows(pool, case["id"])
    final = await api.decide(team.chair, case["id"])
    assert final.status_code == 409 and "signed" in final.json()["detail"]
    assert await _rows(pool, case["id"]) == before

    other = await api.case(team.presenter)
    waiting = await api.decide(team.chair, other["id"])
    assert waiting.status_code == 403  # never on a meeting: it has no chair

    withdrawn, _ = await prepared_case(api, team)
    await meeting_under_way(api, team, withdrawn)
    await api.ok(api.client.post(f"/cases/{withdrawn['id']}/withdraw", headers=team.presenter.headers), 200)
    refused = await api.decide(team.chair, withdrawn["id"])
    assert refused.status_code == 409 and "withdrawn" in refused.json()["detail"]


async def test_unknown_case_is_404(api: Factory) -> None:
    team = await api.team()
    missing = await api.decide(team.chair, "00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404


BAD_BODIES = [
    ({"outcome": "approve"}, "outcome", "is not one of the allowed values"),
    ({"modalities": []}, "modalities", "must have at least 1 item(s)"),
    ({"modalities": ["surgery", "magic"]}, "modalities.1", "is not one of the allowed values"),
    ({"intent": None}, "intent", "intent is required for a plan"),
    ({"modalities": None}, "modalities", "modalities is required for a plan: the whole plan, in order"),
    ({"summary": "x" * 20_001}, "summary", "must be at most 20000 characters"),
    ({"summary": ""}, "summary", "must not be empty"),
    ({"rationale": "bad\u0000byte"}, "rationale", "must not contain NUL characters"),
    ({"quorum_override": "o" * 20_001}, "quorum_override", "must be at most 20000 characters"),
    ({"trial": {"status": "maybe"}}, "trial.status", "is not one of the allowed values"),
    ({"trial": {"status": "eligible", "id": "12345"}}, "trial.id", "is not in the expected format"),
    ({"stage_discussed": "yes"}, "stage_discussed", "must be bool | null"),
    ({"meeting_id": "x"}, "meeting_id", "is not a known field"),
]


@pytest.mark.parametrize(("overrides", "key", "message"), BAD_BODIES)
async def test_bad_decisions_name_the_field_and_change_nothing(
    api: Factory, pool: asyncpg.Pool, overrides: dict[str, Any], key: str, message: str
) -> None:
    team = await api.team()
    case = await _case_at_running_meeting(api, team)
    before = await _rows(pool, case["id"])
    body = {k: v for k, v in decision_body(**overrides).items() if v is not None}
    response = await api.client.post(f"/cases/{case['id']}/decision", json=body, headers=team.chair.headers)
    assert response.status_code == 400, response.text
    assert [(e["key"], e["message"]) for e in response.json()["extra"]] == [(key, message)]
    assert "magic" not in response.text and "approve" not in response.text
    assert await _rows(pool, case["id"]) == before


async def test_a_deferral_gives_its_reason_only(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case = await _case_at_running_meeting(api, team)
    before = await _rows(pool, case["id"])
    body = {"outcome": "defer", "summary": "More imaging.", "intent": "curative"}
    response = await api.client.post(f"/cases/{case['id']}/decision", json=body, headers=team.chair.headers)
    assert response.status_code == 400
    assert response.json()["extra"][0]["key"] == "intent"
    assert await _rows(pool, case["id"]) == before
    not_json = await api.client.post(
        f"/cases/{case['id']}/decision",
        content=b'{"outcome": "plan"}',
        headers={**team.chair.headers, "Content-Type": "text/plain"},
    )
    assert not_json.status_code == 415


async def test_the_database_holds_the_decision_rules(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case = await _case_at_running_meeting(api, team)
    await api.ok(api.decide(team.chair, case["id"]), 200)
    insert = (
        "INSERT INTO board_decision (case_id, meeting_id, revision, outcome, intent, modalities, summary,"
        " quorum_required, quorum_covered, quorum_missing, quorum_override, attendance, decided_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, 's', '{}', '{}', $7, $8, '[]', $9)"
    )
    ids = (case["id"], case["meeting_id"])
    with pytest.raises(asyncpg.CheckViolationError, match="plan_is_complete"):
        await pool.execute(insert, *ids, 2, "plan", None, None, [], None, team.chair.id)
    with pytest.raises(asyncpg.CheckViolationError, match="override_when_quorum_missing"):
        await pool.execute(
            insert, *ids, 2, "plan", "curative", ["surgery"], ["pathology"], None, team.chair.id
        )
    with pytest.raises(asyncpg.CheckViolationError, match="override_when_quorum_missing"):
        await pool.execute(insert, *ids, 2, "defer", None, None, [], "why", team.chair.id)
    with pytest.raises(asyncpg.UniqueViolationError):
        await pool.execute(insert, *ids, 1, "plan", "curative", ["surgery"], [], None, team.chair.id)
    with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="cannot change"):
        await pool.execute("UPDATE board_decision SET summary = 'rewritten' WHERE case_id = $1", case["id"])


async def test_recording_a_decision_is_timed_on_the_database_clock(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case = await _case_at_running_meeting(api, team)
    started = datetime.now(UTC)
    await api.ok(api.decide(team.chair, case["id"]), 200)
    row = await pool.fetchrow(
        "SELECT decided_at, discussion_closed_at FROM board_decision d"
        " JOIN patient_case c ON c.id = d.case_id WHERE d.case_id = $1",
        case["id"],
    )
    assert row["decided_at"] >= started - timedelta(seconds=5)
    assert row["discussion_closed_at"] == row["decided_at"]

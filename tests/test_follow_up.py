"""Follow-up on implementation: the presenter records it, coordinators see a board's report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from tests.care_plan_helpers import consolidate, discussed_case, signed_case
from tests.factories import Factory, Team


def _follow_up_url(case: dict) -> str:
    return f"/cases/{case['id']}/care-plan/follow-up"


async def _record(api: Factory, team: Team, case: dict, body: dict) -> dict:
    return await api.ok(api.client.put(_follow_up_url(case), json=body, headers=team.presenter.headers), 200)


def _period(days_before: int = 1, days_after: int = 30) -> str:
    today = datetime.now(UTC).date()
    return f"from={today - timedelta(days=days_before)}&to={today + timedelta(days=days_after)}"


async def test_presenter_records_and_corrects_implementation(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case = await signed_case(api, pool, team)
    url = _follow_up_url(case)
    assert (await api.client.get(url, headers=team.presenter.headers)).status_code == 404

    recorded = await _record(api, team, case, {"implementation": "fully"})
    assert (recorded["implementation"], recorded["reason"], recorded["version"]) == ("fully", None, 1)
    assert recorded["recorded_by"] == str(team.presenter.id)
    corrected = await _record(
        api,
        team,
        case,
        {"implementation": "partly", "reason": "other", "reason_text": "Radiotherapy declined."},
    )
    assert (corrected["implementation"], corrected["reason"]) == ("partly", "other")
    read = await api.ok(api.client.get(url, headers=team.chair.headers), 200)
    assert read == corrected
    rows = await pool.fetchval(
        "SELECT count(*) FROM care_plan_follow_up f JOIN care_plan cp ON cp.id = f.care_plan_id"
        " WHERE cp.case_id = $1",
        case["id"],
    )
    assert rows == 1


async def test_follow_up_needs_a_reason_from_the_list(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case = await signed_case(api, pool, team)
    url = _follow_up_url(case)
    for body, field in (
        ({"implementation": "not"}, "reason"),
        ({"implementation": "fully", "reason": "patient_choice"}, "reason"),
        ({"implementation": "partly", "reason": "other"}, "reason_text"),
        ({"implementation": "not", "reason": "patient_choice", "reason_text": "x"}, "reason_text"),
        ({"implementation": "not", "reason": "cost"}, "reason"),
        ({"implementation": "maybe"}, "implementation"),
    ):
        response = await api.client.put(url, json=body, headers=team.presenter.headers)
        assert response.status_code == 400, body
        assert [e["key"] for e in response.json()["extra"]] == [field], (body, response.json())


async def test_only_the_presenter_records_and_only_after_signing(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case, _ = await discussed_case(api, team)
    await consolidate(pool, case["id"])
    body = {"implementation": "fully"}
    early = await api.client.put(_follow_up_url(case), json=body, headers=team.presenter.headers)
    assert early.status_code == 409
    await api.ok(api.sign(team.chair, case["id"]), 200)
    refused = await api.client.put(_follow_up_url(case), json=body, headers=team.chair.headers)
    assert refused.status_code == 403
    denial = await pool.fetchval(
        "SELECT count(*) FROM audit_event WHERE actor_id = $1 AND action = 'record_follow_up'"
        " AND outcome = 'denied' AND subject_id = $2",
        team.chair.id,
        case["id"],
    )
    assert denial == 1


async def test_report_lists_missing_follow_ups_and_the_non_implementation_rate(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    cases = [await signed_case(api, pool, team) for _ in range(4)]
    # The four cases sit on four meetings of four boards; move them onto the first board's meetings.
    board_id = cases[0]["board_id"]
    await pool.execute(
        "UPDATE meeting SET board_id = $1 WHERE id = ANY($2::uuid[])",
        board_id,
        [c["meeting_id"] for c in cases],
    )
    await _record(api, team, cases[0], {"implementation": "fully"})
    await _record(api, team, cases[1], {"implementation": "not", "reason": "patient_choice"})
    await _record(api, team, cases[2], {"implementation": "partly", "reason": "comorbidity_or_fitness"})

    url = f"/reports/care-plan-follow-up?board_id={board_id}&{_period()}"
    report = await api.ok(api.client.get(url, headers=team.coordinator.headers), 200)
    assert (report["signed_plans"], report["followed_up"]) == (4, 3)
    assert report["implementation"] == {"fully": 1, "partly": 1, "not": 1}
    assert report["non_implementation_rate"] == round(2 / 3, 4)
    assert report["reasons"] == {
        "patient_choice": 1,
        "comorbidity_or_fitness": 1,
        "disease_changed": 0,
        "other": 0,
    }
    (missing,) = report["without_follow_up"]
    assert missing["case_id"] == cases[3]["id"] and missing["presenter_name"] == team.presenter.full_name
    read = await pool.fetchval(
        "SELECT count(*) FROM audit_event WHERE actor_id = $1 AND action = 'read_follow_up_report'"
        " AND subject_id = $2",
        team.coordinator.id,
        board_id,
    )
    assert read == 1

    later = f"/reports/care-plan-follow-up?board_id={board_id}&{_period(days_before=-60, days_after=90)}"
    empty = await api.ok(api.client.get(later, headers=team.coordinator.headers), 200)
    assert (empty["signed_plans"], empty["non_implementation_rate"], empty["without_follow_up"]) == (
        0,
        None,
        [],
    )


async def test_report_is_for_coordinators_of_a_known_board(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case = await signed_case(api, pool, team)
    url = f"/reports/care-plan-follow-up?board_id={case['board_id']}&{_period()}"
    assert (await api.client.get(url, headers=team.presenter.headers)).status_code == 403
    unknown = f"/reports/care-plan-follow-up?board_id=00000000-0000-0000-0000-000000000000&{_period()}"
    assert (await api.client.get(unknown, headers=team.coordinator.headers)).status_code == 404
    today = datetime.now(UTC).date()
    backwards = (
        f"/reports/care-plan-follow-up?board_id={case['board_id']}&from={today}&to={today - timedelta(1)}"
    )
    response = await api.client.get(backwards, headers=team.coordinator.headers)
    assert response.status_code == 400 and response.json()["extra"][0]["key"] == "to"
    no_period = f"/reports/care-plan-follow-up?board_id={case['board_id']}"
    assert (await api.client.get(no_period, headers=team.coordinator.headers)).status_code == 400

"""The board quality report: figures on a seeded month, CSV, an end-to-end case, access and bad input."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import asyncpg
import pytest

from tests.care_plan_helpers import signed_case
from tests.factories import Factory
from tests.report_seed import EXPECTED, PERIOD, seed_march
from tumorboard.auth.service import get_user
from tumorboard.errors import TooSlow
from tumorboard.reports import service
from tumorboard.reports.schemas import QualityQuery, spans_too_long

URL = "/reports/quality"


def _query(board_id: str, **period: str) -> dict[str, str]:
    return {"board_id": board_id, **PERIOD, **period}


async def _audited(pool: asyncpg.Pool, actor_id: UUID, outcome: str) -> int:
    return int(
        await pool.fetchval(
            "SELECT count(*) FROM audit_event WHERE actor_id = $1 AND action = 'read_quality_report'"
            " AND subject_type = 'board' AND outcome = $2",
            actor_id,
            outcome,
        )
    )


async def test_the_seeded_month_gives_the_hand_computed_figures(api: Factory, pool: asyncpg.Pool) -> None:
    seeded = await seed_march(api, pool)
    response = await api.client.get(URL, params=_query(seeded.board_id), headers=seeded.coordinator.headers)
    assert response.status_code == 200, response.text
    assert response.json() == EXPECTED
    assert list(response.json()) == list(EXPECTED)  # the contract's fields, in its order
    assert response.headers["cache-control"] == "no-store"
    assert await _audited(pool, seeded.coordinator.id, "allowed") == 1


async def test_csv_gives_the_same_figures_one_per_row(api: Factory, pool: asyncpg.Pool) -> None:
    seeded = await seed_march(api, pool)
    headers = {**seeded.coordinator.headers, "Accept": "text/csv"}
    response = await api.client.get(URL, params=_query(seeded.board_id), headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="quality-{seeded.board_id}-2026-03-01-to-2026-03-31.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows == [
        ["figure", "value"],
        ["cases_presented", "8"],
        ["prospective_share", "0.625"],
        ["stage_discussed_share", "0.8333"],
        ["guideline_concordant_share", "0.6667"],
        ["trial_discussed_share", "0.6667"],
        ["attendance_by_discipline.medical_oncology", "0.8333"],
        ["attendance_by_discipline.surgical_oncology", "0.6667"],
        ["attendance_by_discipline.radiation_oncology", "0.6667"],
        ["attendance_by_discipline.pathology", "0.5"],
        ["median_days_submission_to_decision", "7.5"],
        ["median_hours_decision_to_signature", "24.0"],
        ["follow_up.recorded_share", "0.8"],
        ["follow_up.not_implemented_share", "0.5"],
    ]
    json_preferred = {**seeded.coordinator.headers, "Accept": "application/json, text/csv;q=0.5"}
    preferred = await api.client.get(URL, params=_query(seeded.board_id), headers=json_preferred)
    assert preferred.headers["content-type"].startswith("application/json")


async def test_a_period_without_cases_has_null_shares(api: Factory, pool: asyncpg.Pool) -> None:
    seeded = await seed_march(api, pool)
    params = _query(seeded.board_id, **{"from": "2025-01-01", "to": "2025-12-31"})
    report = await api.ok(api.client.get(URL, params=params, headers=seeded.coordinator.headers), 200)
    assert report == {
        "cases_presented": 0,
        "prospective_share": None,
        "stage_discussed_share": None,
        "guideline_concordant_share": None,
        "trial_discussed_share": None,
        "attendance_by_discipline": dict.fromkeys(EXPECTED["attendance_by_discipline"]),  # type: ignore[arg-type]
        "median_days_submission_to_decision": None,
        "median_hours_decision_to_signature": None,
        "follow_up": {"recorded_share": None, "not_implemented_share": None},
    }
    # One day: only P8 (decided 31 March at 23:30 in Berlin) and meeting M6.
    last_day = _query(seeded.board_id, **{"from": "2026-03-31", "to": "2026-03-31"})
    day = await api.ok(api.client.get(URL, params=last_day, headers=seeded.coordinator.headers), 200)
    assert (day["cases_presented"], day["median_hours_decision_to_signature"]) == (1, 60.0)
    assert set(day["attendance_by_discipline"].values()) == {1.0}
    assert day["follow_up"] == {"recorded_share": 1.0, "not_implemented_share": 1.0}


async def test_a_case_decided_and_signed_through_the_api_is_counted(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case = await signed_case(api, pool, team)
    await pool.execute("UPDATE patient_case SET treatment_started = false WHERE id = $1", case["id"])
    follow_up = {"implementation": "not", "reason": "patient_choice"}
    await api.ok(
        api.client.put(
            f"/cases/{case['id']}/care-plan/follow-up", json=follow_up, headers=team.presenter.headers
        ),
        200,
    )
    today = datetime.now(UTC).date()
    params = {
        "board_id": case["board_id"],
        "from": str(today - timedelta(days=1)),
        "to": str(today + timedelta(1)),
    }
    report = await api.ok(api.client.get(URL, params=params, headers=team.coordinator.headers), 200)
    assert report["cases_presented"] == 1
    assert report["prospective_share"] == 1.0
    assert (report["stage_discussed_share"], report["guideline_concordant_share"]) == (1.0, 1.0)
    assert report["trial_discussed_share"] == 0.0  # factories' decision: trial not considered
    assert report["attendance_by_discipline"] == {
        "medical_oncology": 1.0,
        "surgical_oncology": 1.0,
        "radiation_oncology": 1.0,
    }
    assert report["median_days_submission_to_decision"] == 0.0
    assert report["median_hours_decision_to_signature"] is not None
    assert report["median_hours_decision_to_signature"] < 1
    assert report["follow_up"] == {"recorded_share": 1.0, "not_implemented_share": 1.0}


async def test_only_coordinators_and_admins_read_it_and_refusals_are_audited(
    api: Factory, pool: asyncpg.Pool
) -> None:
    seeded = await seed_march(api, pool)
    admin = await api.user("admin")
    assert (
        await api.client.get(URL, params=_query(seeded.board_id), headers=admin.headers)
    ).status_code == 200
    for actor in (seeded.presenter, seeded.chair):
        refused = await api.client.get(URL, params=_query(seeded.board_id), headers=actor.headers)
        assert refused.status_code == 403
        assert refused.json()["detail"] == "The board quality report needs the coordinator or admin role"
        assert await _audited(pool, actor.id, "denied") == 1
    assert (await api.client.get(URL, params=_query(seeded.board_id))).status_code == 401
    unknown = _query("5d9c2f64-0000-4000-8000-000000000000")
    missing = await api.client.get(URL, params=unknown, headers=seeded.coordinator.headers)
    assert (missing.status_code, missing.json()["detail"]) == (404, "No such board")


@pytest.mark.parametrize(
    ("period", "field", "message"),
    [
        ({"from": "2026-03-31", "to": "2026-03-01"}, "to", "to must not be before from"),
        ({"from": "2016-01-01", "to": "2026-01-01"}, "to", "to must be less than 10 years after from"),
        ({"from": "2016-02-29", "to": "2026-03-01"}, "to", "to must be less than 10 years after from"),
        ({"from": "2026-02-30"}, "from", "must be a date (YYYY-MM-DD)"),
        ({"from": "2026-3-1"}, "from", "must be a date (YYYY-MM-DD)"),
        ({"to": "2026-03-31T00:00:00"}, "to", "must be a date (YYYY-MM-DD)"),
        ({"from": "1" * 10_000}, "from", "must be a date (YYYY-MM-DD)"),
        ({"from": "2026-03-01\x00"}, "from", "must not contain NUL characters"),
        ({"board_id": "not-a-board"}, "board_id", "must be a UUID"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(
    api: Factory, period: dict[str, str], field: str, message: str
) -> None:
    coordinator = await api.user("coordinator")
    params = {"board_id": "5d9c2f64-0000-4000-8000-000000000000", **PERIOD, **period}
    response = await api.client.get(URL, params=params, headers=coordinator.headers)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["extra"] == [{"key": field, "message": message, "source": "query"}]
    assert body["detail"] == f"Invalid query parameters: {field}"
    bad = period.get(field, "")
    assert len(bad) < 5 or bad not in response.text  # never echoed


async def test_missing_parameters_are_each_named(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    response = await api.client.get(URL, headers=coordinator.headers)
    assert response.status_code == 400
    assert [(e["key"], e["message"]) for e in response.json()["extra"]] == [
        ("board_id", "is required"),
        ("from", "is required"),
        ("to", "is required"),
    ]


async def test_ten_years_is_the_longest_period(api: Factory, pool: asyncpg.Pool) -> None:
    seeded = await seed_march(api, pool)
    longest = _query(seeded.board_id, **{"from": "2016-04-01", "to": "2026-03-31"})
    report = await api.ok(api.client.get(URL, params=longest, headers=seeded.coordinator.headers), 200)
    assert report["cases_presented"] == 9  # March's eight and 28 February's (1 April's is after)
    assert spans_too_long(date(2016, 2, 29), date(2026, 3, 1))
    assert not spans_too_long(date(2016, 2, 29), date(2026, 2, 28))
    assert not spans_too_long(date(1, 1, 1), date(1, 1, 1)) and spans_too_long(
        date(1, 1, 1), date(9999, 12, 31)
    )


async def test_a_report_that_runs_past_its_time_limit_is_stopped(
    api: Factory, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded = await seed_march(api, pool)
    monkeypatch.setattr(service, "TIME_LIMIT_MS", 300)
    query = QualityQuery(
        board_id=UUID(seeded.board_id), period_start=date(2026, 3, 1), period_end=date(2026, 3, 31)
    )
    async with pool.acquire() as blocker, pool.acquire() as conn:
        user = await get_user(conn, seeded.coordinator.id)
        assert user is not None
        async with blocker.transaction():
            # Another session holds the decisions locked: the report's read waits, and is stopped.
            await blocker.execute("LOCK TABLE board_decision IN ACCESS EXCLUSIVE MODE")
            with pytest.raises(TooSlow):
                await service.board_quality(conn, user, query)
        assert not conn.is_in_transaction()
        assert (await service.board_quality(conn, user, query)).figures.cases_presented == 8

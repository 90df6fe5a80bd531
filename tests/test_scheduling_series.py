"""Meeting series: RRULE occurrences in the board's time zone, generated ahead, changed one by one."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from tests.factories import Actor, Factory, Team
from tumorboard.meetings.series import generate_all_occurrences

BERLIN = ZoneInfo("Europe/Berlin")


def next_weekday(weekday: int) -> date:
    """The next date (after today) that falls on the weekday (Monday is 0)."""
    today = datetime.now(UTC).date()
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


async def create_series(api: Factory, coordinator: Actor, board_id: str, **body: Any) -> Any:
    return await api.client.post(f"/boards/{board_id}/series", json=body, headers=coordinator.headers)


def participants(team: Team) -> list[dict[str, str]]:
    return [{"user_id": str(actor.id), "role": role} for actor, role in team.participants]


async def test_weekly_tuesday_0730_berlin_stays_0730_across_daylight_saving(api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator, time_zone="Europe/Berlin")
    response = await create_series(
        api,
        team.coordinator,
        board["id"],
        recurrence_rule="FREQ=WEEKLY;BYDAY=TU",
        starts_on=next_weekday(1).isoformat(),
        start_time="07:30",
        horizon_days=366,
        participants=participants(team),
    )
    assert response.status_code == 201, response.text
    series = response.json()
    assert series["time_zone"] == "Europe/Berlin" and series["recurrence_rule"] == "FREQ=WEEKLY;BYDAY=TU"
    starts = [datetime.fromisoformat(m["starts_at"]) for m in series["occurrences"]]
    assert len(starts) in (52, 53)
    local = [moment.astimezone(BERLIN) for moment in starts]
    assert all((t.weekday(), t.hour, t.minute) == (1, 7, 30) for t in local)
    assert all((b.date() - a.date()).days == 7 for a, b in itertools.pairwise(local))
    # A year of Tuesdays spans both the late-October and the late-March change.
    assert {t.utcoffset() for t in local} == {timedelta(hours=1), timedelta(hours=2)}
    assert {(moment.hour, moment.minute) for moment in starts} == {(5, 30), (6, 30)}
    first = series["occurrences"][0]
    assert first["series_id"] == series["id"] and first["occurrence_on"] == local[0].date().isoformat()
    # Each occurrence is a meeting with the series' participants and the board's settings.
    meeting = await api.ok(api.client.get(f"/meetings/{first['id']}", headers=team.coordinator.headers), 200)
    assert meeting["quorum"]["missing"] == [] and meeting["time_zone"] == "Europe/Berlin"
    assert datetime.fromisoformat(meeting["submission_deadline"]) == starts[0] - timedelta(hours=48)
    assert datetime.fromisoformat(meeting["agenda_locks_at"]) == starts[0] - timedelta(hours=24)


async def test_generation_is_idempotent_and_extends_the_horizon(api: Factory, pool: asyncpg.Pool) -> None:
    coordinator = await api.user("coordinator")
    board = await api.board(coordinator)
    series = await api.ok(
        create_series(
            api,
            coordinator,
            board["id"],
            recurrence_rule="RRULE:FREQ=DAILY;INTERVAL=2",
            starts_on=(datetime.now(UTC).date() + timedelta(days=1)).isoformat(),
            start_time="16:00",
            horizon_days=7,
        ),
        201,
    )
    count = "SELECT count(*) FROM meeting WHERE series_id = $1"
    initial = await pool.fetchval(count, series["id"])
    assert initial in (3, 4) and initial == len(series["occurrences"])

    async with pool.acquire() as conn:
        assert await generate_all_occurrences(conn) == 0  # nothing new within the horizon
        await conn.execute("UPDATE meeting_series SET horizon_days = 21 WHERE id = $1", series["id"])
        added = await generate_all_occurrences(conn)
        assert await generate_all_occurrences(conn) == 0
    assert added > 0 and await pool.fetchval(count, series["id"]) == initial + added
    dates = await pool.fetch("SELECT occurrence_on FROM meeting WHERE series_id = $1", series["id"])
    assert len({row["occurrence_on"] for row in dates}) == len(dates)


async def test_one_occurrence_moves_or_is_cancelled_without_touching_the_others(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    board = await api.board(team.coordinator, time_zone="Europe/Berlin")
    series = await api.ok(
        create_series(
            api,
            team.coordinator,
            board["id"],
            recurrence_rule="FREQ=WEEKLY;BYDAY=TU",
            starts_on=next_weekday(1).isoformat(),
            start_time="07:30",
            horizon_days=28,
            participants=participants(team),
        ),
        201,
    )
    first, second, *rest = series["occurrences"]
    moved_to = datetime.fromisoformat(first["starts_at"]) + timedelta(days=1, hours=2)
    moved = await api.ok(
        api.client.patch(
            f"/meetings/{first['id']}",
            json={"starts_at": moved_to.isoformat(), "location": "Room 2"},
            headers=team.coordinator.headers,
        ),
        200,
    )
    assert datetime.fromisoformat(moved["starts_at"]) == moved_to and moved["location"] == "Room 2"
    assert moved["sequence"] == 1
    # The deadline and the agenda lock moved with it.
    assert datetime.fromisoformat(moved["submission_deadline"]) == moved_to - timedelta(hours=48)
    assert datetime.fromisoformat(moved["agenda_locks_at"]) == moved_to - timedelta(hours=24)
    cancelled = await api.ok(
        api.client.post(f"/meetings/{second['id']}/cancel", headers=team.coordinator.headers), 200
    )
    assert cancelled["status"] == "cancelled"

    async with pool.acquire() as conn:
        await generate_all_occurrences(conn)  # neither comes back
    again = await api.ok(api.client.get(f"/series/{series['id']}", headers=team.presenter.headers), 200)
    by_id = {m["id"]: m for m in again["occurrences"]}
    assert len(again["occurrences"]) == len(series["occurrences"])
    assert datetime.fromisoformat(by_id[first["id"]]["starts_at"]) == moved_to
    assert by_id[first["id"]]["occurrence_on"] == first["occurrence_on"]
    assert by_id[second["id"]]["status"] == "cancelled"
    for untouched in rest:
        assert by_id[untouched["id"]] == untouched


async def test_series_participants_follow_to_occurrences_not_set_by_hand(api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    series = await api.ok(
        create_series(
            api,
            team.coordinator,
            board["id"],
            recurrence_rule="FREQ=WEEKLY;BYDAY=MO,TH",
            starts_on=(datetime.now(UTC).date() + timedelta(days=1)).isoformat(),
            start_time="12:15",
            horizon_days=14,
        ),
        201,
    )
    first, *others = series["occurrences"]
    assert others
    # One occurrence gets its own list; then the series gets the whole team.
    await api.ok(
        api.client.put(
            f"/meetings/{first['id']}/participants",
            json={"participants": [{"user_id": str(team.chair.id), "role": "chair"}]},
            headers=team.coordinator.headers,
        ),
        200,
    )
    updated = await api.ok(
        api.client.put(
            f"/series/{series['id']}/participants",
            json={"participants": participants(team)},
            headers=team.coordinator.headers,
        ),
        200,
    )
    assert {p["user_id"] for p in updated["participants"]} == {str(a.id) for a, _ in team.participants}
    kept = await api.ok(api.client.get(f"/meetings/{first['id']}", headers=team.coordinator.headers), 200)
    assert [p["user_id"] for p in kept["participants"]] == [str(team.chair.id)]
    for occurrence in others:
        seen = await api.ok(
            api.client.get(f"/meetings/{occurrence['id']}", headers=team.coordinator.headers), 200
        )
        assert seen["quorum"]["missing"] == []

    ended = await api.ok(
        api.client.post(f"/series/{series['id']}/end", headers=team.coordinator.headers), 200
    )
    assert ended["ended_at"] is not None
    assert {m["status"] for m in ended["occurrences"]} == {"cancelled"}
    listed = await api.ok(
        api.client.get(f"/boards/{board['id']}/series", headers=team.presenter.headers), 200
    )
    assert [s["id"] for s in listed] == [series["id"]]


async def test_bad_series_are_refused_with_the_field_named(api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    base = {"starts_on": tomorrow, "start_time": "07:30"}
    for rule, words in (
        ("FREQ=HOURLY", "FREQ must be"),
        ("FREQ=WEEKLY;BYHOUR=7,9", "BYHOUR"),
        ("FREQ=WEEKLY;BYDAY=XX", "BYDAY values must be weekdays"),
        ("FREQ=WEEKLY;UNTIL=20300101", "UNTIL must be a UTC date-time"),
        ("FREQ=WEEKLY;UNTIL=20000101T000000Z", "produces no meeting"),
        # Rules that match nothing, or not for decades, are refused before anything walks them.
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "none of the months has"),
        ("FREQ=MONTHLY;BYDAY=MO,-1SU", "cannot mix numbered weekdays"),
        ("FREQ=MONTHLY;INTERVAL=12;BYMONTH=3", "cannot have BYMONTH"),
        ("FREQ=DAILY;INTERVAL=7;BYDAY=TU", "cannot have BYDAY"),
        ("FREQ=MONTHLY;BYDAY=2TH;BYSETPOS=-5", "BYSETPOS is for MONTHLY rules with plain weekdays"),
        ("FREQ=WEEKLY;BYYEARDAY=100", "must not contain BYYEARDAY"),
        ("FREQ=WEEKLY;INTERVAL=1000", "INTERVAL"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", "produces no meeting within a year"),
    ):
        response = await create_series(api, team.coordinator, board["id"], recurrence_rule=rule, **base)
        assert response.status_code == 400, (rule, response.text)
        assert response.json()["extra"][0]["key"] == "recurrence_rule"
        assert words in response.json()["detail"], (rule, response.text)
    long_ago = await create_series(
        api,
        team.coordinator,
        board["id"],
        recurrence_rule="FREQ=DAILY",
        starts_on="2001-01-01",
        start_time="07:30",
    )
    assert long_ago.status_code == 400 and long_ago.json()["extra"][0]["key"] == "starts_on"
    zone = await create_series(
        api, team.coordinator, board["id"], recurrence_rule="FREQ=DAILY", time_zone="Mars/Olympus", **base
    )
    assert zone.status_code == 400 and zone.json()["extra"][0]["key"] == "time_zone"
    denied = await create_series(api, team.presenter, board["id"], recurrence_rule="FREQ=DAILY", **base)
    assert denied.status_code == 403
    unknown = await create_series(
        api, team.coordinator, "00000000-0000-4000-8000-000000000000", recurrence_rule="FREQ=DAILY", **base
    )
    assert unknown.status_code == 404

"""Who sees which meetings (GET /meetings, docs/security.md): presenters only the meetings of their own
cases, video links only participants and coordinators; series participants only coordinators and
the series' participants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.factories import Actor, Factory

VIDEO = "https://video.hospital.example/board-room"


async def listed(api: Factory, actor: Actor) -> dict[str, dict[str, Any]]:
    page = await api.ok(api.client.get("/meetings", params={"limit": 200}, headers=actor.headers), 200)
    return {meeting["id"]: meeting for meeting in page["items"]}


async def test_each_user_sees_only_the_meetings_they_may_and_video_links_only_when_in_them(
    api: Factory,
) -> None:
    team = await api.team()
    presenter, other_presenter = team.presenter, await api.user("presenter")
    bystander = await api.user("reviewer", discipline="pathology")
    admin = await api.user("admin")
    board = await api.board(team.coordinator)
    with_case = await api.meeting(team.coordinator, board["id"], team.participants, video_url=VIDEO)
    without_case = await api.meeting(
        team.coordinator, board["id"], [(team.chair, "chair")], starts_in=timedelta(days=9), video_url=VIDEO
    )
    case = await api.case(presenter)
    await api.ok(
        api.client.put(
            f"/cases/{case['id']}/meeting",
            json={"meeting_id": with_case["id"]},
            headers=team.coordinator.headers,
        ),
        200,
    )
    both = {with_case["id"], without_case["id"]}

    coordinator_view = await listed(api, team.coordinator)
    assert both <= coordinator_view.keys()
    assert all(coordinator_view[m]["video_url"] == VIDEO for m in both)

    chair_view = await listed(api, team.chair)
    assert chair_view.keys() == both and all(m["video_url"] == VIDEO for m in chair_view.values())
    surgeon_view = await listed(api, team.surgeon)
    assert surgeon_view.keys() == {with_case["id"]} and surgeon_view[with_case["id"]]["video_url"] == VIDEO

    presenter_view = await listed(api, presenter)
    assert presenter_view.keys() == {with_case["id"]}
    assert presenter_view[with_case["id"]]["video_url"] is None
    assert presenter_view[with_case["id"]]["starts_at"] == with_case["starts_at"]

    for outsider in (other_presenter, bystander, admin):
        assert await listed(api, outsider) == {}
    # Withdrawn, the case no longer shows its presenter the meeting.
    await api.ok(api.client.post(f"/cases/{case['id']}/withdraw", headers=presenter.headers), 200)
    assert await listed(api, presenter) == {}


async def test_series_participants_and_video_links_only_for_coordinators_and_participants(
    api: Factory,
) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    outsider = await api.user("presenter")
    series = await api.series(
        team.coordinator,
        board["id"],
        team.participants,
        recurrence_rule="FREQ=WEEKLY;BYDAY=TU",
        starts_on=(datetime.now(UTC).date() + timedelta(days=1)).isoformat(),
        start_time="07:30",
        video_url=VIDEO,
    )
    for insider in (team.coordinator, team.chair):
        seen = await api.ok(api.client.get(f"/series/{series['id']}", headers=insider.headers), 200)
        assert len(seen["participants"]) == 3 and seen["video_url"] == VIDEO
        assert seen["occurrences"] and all(o["video_url"] == VIDEO for o in seen["occurrences"])
    seen = await api.ok(api.client.get(f"/series/{series['id']}", headers=outsider.headers), 200)
    assert seen["participants"] == [] and seen["video_url"] is None
    assert seen["occurrences"] and all(o["video_url"] is None for o in seen["occurrences"])
    for name in (team.chair.full_name, team.surgeon.full_name):
        assert name not in str(seen)
    board_series = await api.ok(
        api.client.get(f"/boards/{board['id']}/series", headers=outsider.headers), 200
    )
    assert board_series[0]["participants"] == [] and board_series[0]["video_url"] is None

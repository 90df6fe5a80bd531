"""iCalendar: a meeting invite and a personal subscription feed, parsed back with the icalendar library."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import icalendar

from tests.factories import Factory


def events(ics: bytes) -> list[icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(ics)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    return list(calendar.walk("VEVENT"))


async def test_meeting_invite_is_a_valid_event_in_the_board_time_zone(api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator, time_zone="Europe/Berlin")
    meeting = await api.meeting(
        team.coordinator,
        board["id"],
        team.participants,
        duration_minutes=90,
        location="Room 4B",
        video_url="https://video.example.org/tb",
    )
    case = await api.case(team.presenter)
    await api.ok(
        api.client.put(
            f"/cases/{case['id']}/meeting",
            json={"meeting_id": meeting["id"]},
            headers=team.coordinator.headers,
        ),
        200,
    )
    response = await api.client.get(f"/meetings/{meeting['id']}/invite.ics", headers=team.surgeon.headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    (event,) = events(response.content)
    starts = datetime.fromisoformat(meeting["starts_at"]).replace(microsecond=0)  # iCalendar has seconds
    assert event["UID"] == f"meeting-{meeting['id']}@tumorboard"
    assert event.decoded("DTSTART") == starts and event.decoded("DTSTART").tzinfo == ZoneInfo("Europe/Berlin")
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=90)
    assert (event["SUMMARY"], event["LOCATION"], event["STATUS"]) == (board["name"], "Room 4B", "CONFIRMED")
    assert (
        event["URL"] == "https://video.example.org/tb" and "Cases on the agenda: 1." in event["DESCRIPTION"]
    )
    # Calendars leave the hospital: no patient data in the invite.
    for value in (case["patient"]["family_name"], case["patient"]["mrn"]):
        assert value.encode() not in response.content
    assert (
        await api.client.get(f"/meetings/{meeting['id']}/invite.ics", headers=team.presenter.headers)
    ).status_code == 403

    cancelled = await api.client.post(f"/meetings/{meeting['id']}/cancel", headers=team.coordinator.headers)
    assert cancelled.status_code == 200
    again = await api.client.get(f"/meetings/{meeting['id']}/invite.ics", headers=team.coordinator.headers)
    (event,) = events(again.content)
    assert event["STATUS"] == "CANCELLED" and int(event["SEQUENCE"]) == 1


async def test_personal_feed_lists_my_meetings_without_a_bearer_token(api: Factory, server: str) -> None:
    team = await api.team()
    board = await api.board(team.coordinator, time_zone="America/New_York")
    mine = await api.meeting(team.coordinator, board["id"], team.participants)
    cancelled = await api.meeting(
        team.coordinator, board["id"], team.participants, starts_in=timedelta(days=9)
    )
    await api.ok(
        api.client.post(f"/meetings/{cancelled['id']}/cancel", headers=team.coordinator.headers), 200
    )
    await api.meeting(team.coordinator, board["id"], [(team.chair, "chair")])  # the surgeon is not in it

    feed = await api.ok(api.client.post("/me/calendar-feed", headers=team.surgeon.headers), 201)
    assert feed["url"].startswith(f"{server}/api/v1/calendar/") and feed["url"].endswith(".ics")
    async with httpx.AsyncClient() as calendar_client:  # a calendar app: no Authorization header
        response = await calendar_client.get(feed["url"])
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
        listed = {str(e["UID"]): e for e in events(response.content)}
        assert set(listed) == {f"meeting-{mine['id']}@tumorboard", f"meeting-{cancelled['id']}@tumorboard"}
        assert listed[f"meeting-{cancelled['id']}@tumorboard"]["STATUS"] == "CANCELLED"
        assert listed[f"meeting-{mine['id']}@tumorboard"].decoded("DTSTART").tzinfo == ZoneInfo(
            "America/New_York"
        )

        # A new URL replaces the old one; revoking ends it; unknown secrets are 404.
        renewed = await api.ok(api.client.post("/me/calendar-feed", headers=team.surgeon.headers), 201)
        assert (await calendar_client.get(feed["url"])).status_code == 404
        assert (await calendar_client.get(renewed["url"])).status_code == 200
        assert (await api.client.delete("/me/calendar-feed", headers=team.surgeon.headers)).status_code == 204
        assert (await calendar_client.get(renewed["url"])).status_code == 404
        assert (await calendar_client.get(renewed["url"].removesuffix(".ics"))).status_code == 404
    read = await api.pool.fetchval(
        "SELECT count(*) FROM audit_event"
        " WHERE action = 'read' AND subject_type = 'calendar_feed' AND actor_id = $1",
        team.surgeon.id,
    )
    assert read == 2

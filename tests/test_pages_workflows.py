"""Pages of the workflows the API has: the inbox and its header badge, care plan versions with the
amendment and the diff between two versions, readiness, meeting series and board settings."""

from __future__ import annotations

import re
from datetime import date, timedelta

import asyncpg

from tests.browser.support import field_error, flash_of, page_client, text_of
from tests.care_plan_helpers import consolidate, discussed_case, revise, sign
from tests.factories import Factory


def badge_of(html: str) -> str | None:
    """The unread count the header's inbox badge shows, if any."""
    match = re.search(r'data-testid="unread-badge">(\d+)<', html)
    return match.group(1) if match else None


# ---------------------------------------------------------------------------------------------------------
# Inbox


async def test_the_inbox_lists_notices_and_the_header_counts_the_unread_ones(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    first, _ = await discussed_case(api, team)
    second, _ = await discussed_case(api, team)
    await consolidate(pool, first["id"])
    await consolidate(pool, second["id"])
    async with page_client(server, team.presenter) as presenter:
        home = await presenter.get("/")
        assert badge_of(home.text) == "2"
        inbox = await presenter.get("/notifications")
        assert inbox.status_code == 200
        text = text_of(inbox)
        assert "2 unread notices." in text
        assert inbox.text.count(">Care plan draft ready (version 1)</a>") == 2
        assert first["patient"]["family_name"] not in text  # notices name no patient

        ids = re.findall(r'action="/notifications/([0-9a-f-]{36})/read"', inbox.text)
        assert len(ids) == 2
        marked = await presenter.post(f"/notifications/{ids[0]}/read", {"back": "unread"})
        assert marked.status_code == 303 and marked.headers["location"] == "/notifications?unread=true"
        unread = await presenter.get(marked.headers["location"])
        assert flash_of(unread) == "Notice marked as read."
        assert badge_of(unread.text) == "1"
        assert len(re.findall(r'action="/notifications/[0-9a-f-]{36}/read"', unread.text)) == 1

        opened = await presenter.post(f"/notifications/{ids[1]}/read", {"open": "1"})
        assert opened.status_code == 303
        assert re.fullmatch(r"/api/v1/cases/[0-9a-f-]{36}/care-plans/1\.html", opened.headers["location"])
        after = await presenter.get("/notifications")
        assert badge_of(after.text) is None and "Nothing unread." in text_of(after)
        assert "No unread notice." in text_of(await presenter.get("/notifications?unread=true"))

    async with page_client(server, team.surgeon) as surgeon:
        # Another user's notice is not theirs to mark: not found, and nothing changes.
        refused = await surgeon.post(f"/notifications/{ids[0]}/read")
        assert refused.status_code == 404
        assert "No notice yet." in text_of(await surgeon.get("/notifications"))
    async with page_client(server, team.chair) as chair:
        assert badge_of((await chair.get("/meetings")).text) == "2"  # the drafts they sign
        all_read = await chair.post("/notifications/read-all", {"back": "all"})
        assert all_read.headers["location"] == "/notifications"
        shown = await chair.get("/notifications")
        assert flash_of(shown) == "2 notice(s) marked as read." and badge_of(shown.text) is None
    assert await pool.fetchval("SELECT count(*) FROM notification WHERE read_at IS NULL") == 0


async def test_the_inbox_pages_through_older_notices(server: str, api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    presenter_id = team.presenter.id
    case, _ = await discussed_case(api, team)
    await consolidate(pool, case["id"])
    # Thirty older notices (one per meeting) fill more than a page.
    for day in range(30):
        meeting = await api.meeting(team.coordinator, case["board_id"], starts_in=timedelta(days=day + 2))
        await pool.execute(
            "INSERT INTO notification (user_id, kind, case_id, meeting_id, created_at)"
            " VALUES ($1, 'case_returned', $2, $3, now() - make_interval(days => $4 + 1))",
            presenter_id,
            case["id"],
            meeting["id"],
            day,
        )
    async with page_client(server, team.presenter) as presenter:
        first = await presenter.get("/notifications")
        assert badge_of(first.text) == "31"
        older = re.search(r'href="(/notifications\?cursor=[^"]+)"', first.text)
        assert older is not None
        rest = await presenter.get(older.group(1).replace("&amp;", "&"))
        assert rest.status_code == 200
        assert len(re.findall(r'action="/notifications/[0-9a-f-]{36}/read"', rest.text)) == 6


# ---------------------------------------------------------------------------------------------------------
# Care plan versions, amendment and diff


async def test_the_chair_amends_a_signed_plan_and_everyone_reads_what_changed(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    case, recommendations = await discussed_case(api, team)
    await consolidate(pool, case["id"])
    await sign(api, team.chair, case["id"])
    care_plan = f"/cases/{case['id']}/care-plan"
    async with page_client(server, team.surgeon) as surgeon:
        page = await surgeon.get(care_plan)
        assert "Reopen for amendment" not in page.text
        denied = await surgeon.post(f"{care_plan}/amend", {"reason": "I disagree."})
        assert denied.status_code == 403
        assert "Only the chair of the case's meeting may do this" in text_of(denied)
    async with page_client(server, team.chair) as chair:
        page = await chair.get(care_plan)
        assert "Reopen for amendment" in page.text
        empty = await chair.post(f"{care_plan}/amend", {"reason": "  "})
        assert empty.status_code == 400
        assert field_error(empty, "reason") == "Is required"
        reason = "Pathology review upgraded the tumour; surgery first."
        amended = await chair.post(f"{care_plan}/amend", {"reason": reason})
        assert amended.status_code == 303
        shown = await chair.get(amended.headers["location"])
        assert flash_of(shown) == (
            "Care plan version 1 reopened for amendment. "
            "The new draft is being prepared; sign it to replace the signed version."
        )
        again = await chair.post(f"{care_plan}/amend", {"reason": reason})
        assert again.status_code == 303
        refused = await chair.get(again.headers["location"])
        assert flash_of(refused) == (
            "Only a signed care plan can be amended; the current draft can still change"
        )

    summary = "Surgery first, then adjuvant radiotherapy to the breast."
    plan = {"modalities": ["surgery", "radiation"], "summary": summary}
    await revise(api, team.chair, recommendations[0]["id"], 1, **plan)
    await api.ok(api.decide(team.chair, case["id"], **plan), 200)
    assert await consolidate(pool, case["id"]) == 2

    async with page_client(server, team.presenter) as presenter:
        page = await presenter.get(care_plan)
        assert f"This version amends signed version 1: “{reason}”" in text_of(page)
        history = await presenter.get(f"{care_plan}/versions")
        assert history.status_code == 200
        rows = text_of(history)
        assert "Amends version 1" in rows and reason in rows
        assert f'href="/api/v1/cases/{case["id"]}/care-plans/2.pdf"' in history.text
        diff = await presenter.get(f"{care_plan}/diff?from=1&to=2")
        assert diff.status_code == 200
        text = text_of(diff)
        assert "What changed from version 1 to version 2" in text
        assert re.search(r"<th scope=\"row\">Modalities</th>", diff.text)
        # Word by word: the removed steps struck through, the new words marked as added.
        removed = r"<del><span class=\"visually-hidden\">\[removed: </span>Systemic therapy → "
        assert re.search(removed, diff.text)
        assert "[added: to the breast ]" in text and "[removed: Neoadjuvant chemotherapy ]" in text
        same = await presenter.get(f"{care_plan}/diff?from=2&to=2")
        assert "Nothing in the plan differs between version 2 and version 2." in text_of(same)
        missing = await presenter.get(f"{care_plan}/diff?from=1&to=9")
        assert missing.status_code == 404
        bad = await presenter.get(f"{care_plan}/diff?to=abc")
        assert bad.status_code == 400
        first = await presenter.get(f"{care_plan}/diff?to=1")
        assert first.status_code == 400
    outsider = await api.user("presenter")
    async with page_client(server, outsider) as other:
        assert (await other.get(f"{care_plan}/diff?from=1&to=2")).status_code == 403
        assert (await other.get(f"{care_plan}/versions")).status_code == 403


# ---------------------------------------------------------------------------------------------------------
# Readiness


async def test_the_presenter_completes_what_the_checklist_finds_missing(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    await api.board(team.coordinator)  # the default checklist: stage, pathology report, imaging, ECOG
    case = await api.case(team.presenter, stage=None, ecog=None)
    path = f"/cases/{case['id']}/readiness"
    async with page_client(server, team.presenter) as presenter:
        shown = await presenter.get(path)
        assert shown.status_code == 200
        text = text_of(shown)
        assert "Readiness Not ready" in text
        assert "no pathology report recorded" in text and "no stage recorded" in text
        case_page = await presenter.get(f"/cases/{case['id']}")
        assert "Complete the checklist" in case_page.text

        tomorrow = (date.today() + timedelta(days=1)).isoformat()
        future = await presenter.post(path, {"pathology_report_on": tomorrow, "stage.system": "AJCC8"})
        assert future.status_code == 400
        assert field_error(future, "pathology_report_on") == "Must not be in the future"
        half_stage = await presenter.post(path, {"stage.system": "AJCC8", "stage.t": "cT2"})
        assert half_stage.status_code == 400
        assert field_error(half_stage, "stage.n") == "Is required"

        report_on = (date.today() - timedelta(days=3)).isoformat()
        partly = await presenter.post(path, {"pathology_report_on": report_on, "stage.system": "AJCC8"})
        assert partly.status_code == 303
        after = await presenter.get(partly.headers["location"])
        assert flash_of(after) == (
            "Readiness updated. Still missing: no stage recorded; no imaging recorded; "
            "no ECOG performance status recorded."
        )
        assert f"dated {report_on}" in text_of(after)
        complete = {
            "stage.system": "AJCC8",
            "stage.t": "cT2",
            "stage.n": "cN0",
            "stage.m": "cM0",
            "stage.group": "IIA",
            "ecog": "0",
            "imaging_on": (date.today() - timedelta(days=10)).isoformat(),
        }
        ready = await presenter.post(path, complete)
        assert ready.status_code == 303
        shown = await presenter.get(path)
        assert flash_of(shown) == "Readiness updated. The case is ready for its board."
        assert "Readiness Ready" in text_of(shown)
    row = await pool.fetchrow("SELECT stage->>'n' AS n, ecog FROM patient_case WHERE id = $1", case["id"])
    assert (row["n"], row["ecog"]) == ("cN0", 0)

    other = await api.user("presenter")
    async with page_client(server, other) as stranger:
        assert (await stranger.get(path)).status_code == 403
        refused = await stranger.post(path, {"ecog": "2"})
        assert refused.status_code == 403
    async with page_client(server, team.coordinator) as coordinator:
        assert "Complete the case" in text_of(await coordinator.get(path))


# ---------------------------------------------------------------------------------------------------------
# Boards and meeting series


async def test_the_coordinator_sets_up_a_board_its_checklist_and_a_meeting_series(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    board = await api.board(team.coordinator, name="Thoracic Board")
    path = f"/boards/{board['id']}"
    async with page_client(server, team.coordinator) as coordinator:
        boards = await coordinator.get("/boards")
        assert f'href="{path}"' in boards.text
        shown = await coordinator.get(path)
        assert shown.status_code == 200 and "Thoracic Board" in text_of(shown)

        bad_zone = await coordinator.post(path, {"time_zone": "Mars/Olympus", "minutes_per_case": "8"})
        assert bad_zone.status_code == 400
        assert "not a known IANA time zone" in (field_error(bad_zone, "settings-time_zone") or "")
        assert 'href="#settings-time_zone"' in bad_zone.text  # the summary leads to this form's field
        saved = await coordinator.post(
            path, {"time_zone": "Europe/Berlin", "minutes_per_case": "8", "agenda_lock_hours": "12"}
        )
        assert saved.status_code == 303
        assert flash_of(await coordinator.get(path)) == "Board settings saved."

        too_young = await coordinator.post(
            f"{path}/checklist", [("items", "stage"), ("items", "imaging"), ("max_age_days.imaging", "0")]
        )
        assert too_young.status_code == 400
        assert field_error(too_young, "max_age_days-imaging") is not None
        checklist = await coordinator.post(
            f"{path}/checklist", [("items", "stage"), ("items", "imaging"), ("max_age_days.imaging", "30")]
        )
        assert checklist.status_code == 303
        assert flash_of(await coordinator.get(path)) == "Checklist saved: cases need stage, imaging."

        series_form = {
            "recurrence_rule": "freq=weekly;byday=tu",
            "starts_on": date.today().isoformat(),
            "start_time": "07:30",
            "duration_minutes": "60",
            "capacity": "8",
            "deadline_hours": "48",
            "horizon_days": "28",
            "location": "Tumor board room",
        }
        hourly = await coordinator.post(f"{path}/series", {**series_form, "recurrence_rule": "FREQ=HOURLY"})
        assert hourly.status_code == 400
        assert field_error(hourly, "recurrence_rule") == "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY"
        assert 'value="Tumor board room"' in hourly.text
        created = await coordinator.post(f"{path}/series", series_form)
        assert created.status_code == 303
        participants_path = created.headers["location"]
        series_path = participants_path.removesuffix("/participants")
        chosen = await coordinator.get(participants_path)
        assert flash_of(chosen).startswith("Meeting series created with 4 meeting(s) ahead")  # type: ignore[union-attr]
        saved = await coordinator.post(
            participants_path,
            [
                ("chair", str(team.chair.id)),
                ("reviewers", str(team.surgeon.id)),
                ("reviewers", str(team.radiation.id)),
            ],
        )
        assert saved.status_code == 303
        series_page = await coordinator.get(series_path)
        assert flash_of(series_page) == "Participants saved for the series and its 4 coming meeting(s)."
        text = text_of(series_page)
        assert f"{team.chair.full_name} — Medical oncology (chair)" in text
        assert len(re.findall(r'href="/meetings/[0-9a-f-]{36}"', series_page.text)) == 4
        first = re.search(r'href="(/meetings/[0-9a-f-]{36})"', series_page.text)
        assert first is not None
        occurrence = await coordinator.get(first.group(1))
        assert f'href="{series_path}"' in occurrence.text  # "one meeting of a series"
    series_id = series_path.rsplit("/", 1)[-1]
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM meeting_participant p JOIN meeting m ON m.id = p.meeting_id"
            " WHERE m.series_id = $1",
            series_id,
        )
        == 12
    )

    async with page_client(server, team.presenter) as presenter:
        read_only = await presenter.get(path)
        assert read_only.status_code == 200
        assert "Save settings" not in read_only.text and "12 h before the meeting" in text_of(read_only)
        assert (await presenter.post(path, {"minutes_per_case": "5"})).status_code == 403
        assert (await presenter.get(f"{series_path}/participants")).status_code == 403
        seen = await presenter.get(series_path)
        assert seen.status_code == 200 and team.chair.full_name not in text_of(seen)
        assert (await presenter.post(f"{series_path}/end")).status_code == 403

    async with page_client(server, team.coordinator) as coordinator:
        ended = await coordinator.post(f"{series_path}/end")
        assert ended.status_code == 303
        after = await coordinator.get(series_path)
        assert (
            flash_of(after) == "Series ended. Its future meetings are cancelled and their cases placed again."
        )
        assert "Meeting series Ended" in text_of(after)
    statuses = await pool.fetch("SELECT DISTINCT status FROM meeting WHERE series_id = $1", series_id)
    assert [row["status"] for row in statuses] == ["cancelled"]


async def test_the_coordinator_moves_one_meeting(server: str, api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"], location="Room 1")
    path = f"/meetings/{meeting['id']}/edit"
    before = await pool.fetchrow("SELECT starts_at, submission_deadline FROM meeting")
    async with page_client(server, team.coordinator) as coordinator:
        assert 'href="' + path + '"' in (await coordinator.get(f"/meetings/{meeting['id']}")).text
        form = await coordinator.get(path)
        assert form.status_code == 200
        shown_start = re.search(r'name="starts_at" type="datetime-local" value="([^"]+)"', form.text)
        assert shown_start is not None
        unchanged = {"starts_at": shown_start.group(1), "duration_minutes": "90", "capacity": "10"}
        too_small = await coordinator.post(path, {**unchanged, "duration_minutes": "2", "location": "Room 1"})
        assert too_small.status_code == 400
        assert field_error(too_small, "duration_minutes") == "Must be at least 5"
        assert 'value="Room 1"' in too_small.text

        kept = await coordinator.post(path, {**unchanged, "minutes_per_case": "6", "location": "Room 9"})
        assert kept.status_code == 303
        assert flash_of(await coordinator.get(kept.headers["location"])) == "Meeting changed."
        row = await pool.fetchrow("SELECT starts_at, duration_minutes, location FROM meeting")
        assert row["starts_at"] == before["starts_at"]  # shown to the minute, kept to the second
        assert (row["duration_minutes"], row["location"]) == (90, "Room 9")

        moved = (before["starts_at"] + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")  # the tests run in UTC
        later = await coordinator.post(path, {**unchanged, "starts_at": moved, "minutes_per_case": "6"})
        assert later.status_code == 303
        row = await pool.fetchrow("SELECT starts_at, submission_deadline, location FROM meeting")
        assert row["starts_at"].strftime("%Y-%m-%dT%H:%M") == moved
        shift = row["starts_at"] - before["starts_at"]
        assert row["submission_deadline"] == before["submission_deadline"] + shift  # moved with the start
        assert row["location"] is None  # left empty: cleared
    async with page_client(server, team.chair) as chair:
        assert (await chair.get(path)).status_code == 403
        assert (await chair.post(path, {"duration_minutes": "30"})).status_code == 403


async def test_a_user_issues_and_revokes_their_calendar_subscription(server: str, api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    await api.meeting(team.coordinator, board["id"], [(team.chair, "chair")], location="Room 7")
    async with page_client(server, team.chair) as chair:
        issued = await chair.post("/account/calendar-feed")
        assert issued.status_code == 200
        match = re.search(r'data-testid="feed-url"', issued.text) and re.search(
            r'value="(https?://[^"]+/api/v1/calendar/([^"/]+)\.ics)"', issued.text
        )
        assert match, issued.text
        assert match.group(2) not in issued.headers.get("set-cookie", "")
        feed = await chair.client.get(f"/api/v1/calendar/{match.group(2)}.ics")
        assert feed.status_code == 200 and "Room 7" in feed.text
        revoked = await chair.post("/account/calendar-feed/revoke")
        assert revoked.status_code == 303
        assert flash_of(await chair.get("/account")) == "Your calendar subscription URL no longer works."
        assert (await chair.client.get(f"/api/v1/calendar/{match.group(2)}.ics")).status_code == 404

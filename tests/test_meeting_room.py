"""The meeting room over the API: the case on a running meeting's screen, the running order presenters
see, the meeting pack, and the notices the agenda lock delivers through the inbox."""

from __future__ import annotations

import io
import subprocess
from typing import Any

import asyncpg
import pytest
from pypdf import PdfReader

from tests.browser.scenarios import case_placed_on
from tests.browser.support import flash_of, page_client, text_of
from tests.factories import Factory, eventually
from tests.meeting_room import meeting_to_run, recommend, start_with_everyone_present
from tests.test_notifications import Mailbox, _smtp_settings, smtp_server
from tests.test_scheduling_agenda import ready_case, soon_meeting
from tumorboard.meetings.agenda import lock_due_agendas
from tumorboard.notifications.email import send_notification_email
from workers import jobs

__all__ = ["smtp_server"]  # the SMTP fixture, shared with the notification tests


async def _present(api: Factory, actor: Any, meeting_id: str, case_id: str | None) -> Any:
    return await api.client.put(
        f"/meetings/{meeting_id}/current-case", json={"case_id": case_id}, headers=actor.headers
    )


async def _next(api: Factory, actor: Any, meeting_id: str) -> dict[str, Any]:
    return await api.ok(api.client.post(f"/meetings/{meeting_id}/next-case", headers=actor.headers), 200)


async def test_the_chair_puts_cases_on_screen_and_moves_on_to_the_undecided_ones(
    api: Factory, pool: asyncpg.Pool
) -> None:
    run = await meeting_to_run(api)
    team, meeting_id = run.team, run.meeting["id"]
    first, second, third = (case["id"] for case in run.cases)

    early = await _present(api, team.chair, meeting_id, first)
    assert early.status_code == 409 and "presented while it is in progress" in early.json()["detail"]
    await start_with_everyone_present(api, run)
    refused = await _present(api, team.surgeon, meeting_id, first)
    assert refused.status_code == 403
    assert await pool.fetchval(
        "SELECT count(*) FROM audit_event WHERE actor_id = $1 AND action = 'present' AND outcome = 'denied'",
        team.surgeon.id,
    )

    shown = await _present(api, team.chair, meeting_id, first)
    assert shown.status_code == 200
    assert shown.json()["current_case_id"] == first and shown.json()["current_case_since"]
    elsewhere = await api.case(team.presenter)
    off_agenda = await _present(api, team.chair, meeting_id, elsewhere["id"])
    assert (
        off_agenda.status_code == 409
        and off_agenda.json()["detail"] == "The case is not on this meeting's agenda"
    )
    for body, field in (({"case_id": "case one"}, "case_id"), ({"case_id": first, "extra": 1}, "extra")):
        bad = await api.client.put(
            f"/meetings/{meeting_id}/current-case", json=body, headers=team.chair.headers
        )
        assert bad.status_code == 400 and field in bad.text and "case one" not in bad.text
    seen = await api.ok(api.client.get(f"/meetings/{meeting_id}", headers=team.radiation.headers), 200)
    assert seen["current_case_id"] == first

    assert (await _next(api, team.chair, meeting_id))["current_case_id"] == second
    await api.ok(api.decide(team.chair, second), 200)
    assert (await _present(api, team.chair, meeting_id, first)).status_code == 200
    assert (await _next(api, team.chair, meeting_id))[
        "current_case_id"
    ] == third  # the decided one is skipped
    assert (await _next(api, team.chair, meeting_id))["current_case_id"] == first  # round to the start
    await api.ok(api.decide(team.chair, first), 200)
    await api.ok(api.decide(team.chair, third), 200)
    assert (await _next(api, team.coordinator, meeting_id))["current_case_id"] is None  # all decided
    assert (await _present(api, team.chair, meeting_id, second)).json()["current_case_id"] == second
    cleared = await _present(api, team.chair, meeting_id, None)
    assert cleared.json()["current_case_id"] is None and cleared.json()["current_case_since"] is None


async def test_a_case_leaving_the_meeting_leaves_its_screen_and_a_closed_meeting_shows_nothing(
    api: Factory, pool: asyncpg.Pool
) -> None:
    run = await meeting_to_run(api)
    team, meeting_id = run.team, run.meeting["id"]
    first, second, third = (case["id"] for case in run.cases)
    await start_with_everyone_present(api, run)
    await _present(api, team.chair, meeting_id, first)

    deferral = {"outcome": "defer", "summary": "Needs a biopsy of the node."}
    await api.ok(api.client.post(f"/cases/{first}/decision", json=deferral, headers=team.chair.headers), 200)
    current = "SELECT current_case_id::text FROM meeting WHERE id = $1"
    assert await pool.fetchval(current, meeting_id) == second  # the deferred case made way for the next

    await api.ok(api.client.post(f"/cases/{second}/withdraw", headers=team.presenter.headers), 200)
    assert await pool.fetchval(current, meeting_id) is None  # the database clears a case that left

    await _present(api, team.chair, meeting_id, third)
    other = await case_placed_on(api, team, await api.board_meeting_soon(team))
    with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="on the meeting's agenda"):
        await pool.execute("UPDATE meeting SET current_case_id = $1 WHERE id = $2", other["id"], meeting_id)
    await api.ok(api.client.post(f"/meetings/{meeting_id}/close", headers=team.chair.headers), 200)
    row = await pool.fetchrow(
        "SELECT current_case_id, current_case_since FROM meeting WHERE id = $1", meeting_id
    )
    assert tuple(row) == (None, None)


async def test_presenters_see_their_own_cases_in_the_running_order_and_the_others_as_slots(
    api: Factory, pool: asyncpg.Pool, server: str
) -> None:
    team = await api.team()
    meeting = await api.board_meeting_soon(team, video_url="https://video.example.org/board")
    other_presenter = await api.user("presenter", discipline="surgical_oncology")
    mine = [await case_placed_on(api, team, meeting) for _ in range(2)]
    theirs = await api.case(other_presenter)
    await api.place(team.coordinator, theirs["id"], meeting["id"])
    path = f"/meetings/{meeting['id']}/slots"

    slots = await api.ok(api.client.get(path, headers=other_presenter.headers), 200)
    assert [slot["position"] for slot in slots["slots"]] == [1, 2, 3]
    shown = [slot["case"]["id"] for slot in slots["slots"] if slot["case"]]
    assert shown == [theirs["id"]]
    body = str(slots)
    for case in mine:
        assert case["patient"]["family_name"] not in body and case["id"] not in body
    assert slots["meeting"]["video_url"] is None
    reads = await pool.fetch(
        "SELECT subject_id::text FROM audit_event WHERE actor_id = $1 AND action = 'read'", other_presenter.id
    )
    assert [row["subject_id"] for row in reads] == [theirs["id"]]

    everything = await api.ok(api.client.get(path, headers=team.surgeon.headers), 200)
    assert all(slot["case"] for slot in everything["slots"]) and everything["meeting"]["video_url"]
    outsider = await api.user("presenter")
    assert (await api.client.get(path, headers=outsider.headers)).status_code == 403

    async with page_client(server, other_presenter) as browser:
        page = await browser.get(f"/meetings/{meeting['id']}")
        assert page.status_code == 200
        text = text_of(page)
        assert theirs["patient"]["family_name"] in text and text.count("Another presenter's case") == 2
        assert all(case["patient"]["family_name"] not in text for case in mine)
        assert "video.example.org" not in page.text
        case_page = await browser.get(f"/cases/{theirs['id']}")
        assert f'href="/meetings/{meeting["id"]}"' in case_page.text
    async with page_client(server, outsider) as browser:
        assert (await browser.get(f"/meetings/{meeting['id']}")).status_code == 403


@pytest.mark.slow
async def test_the_meeting_pack_is_rendered_by_the_worker_and_every_download_is_audited(
    api: Factory, pool: asyncpg.Pool, worker: subprocess.Popen[bytes]
) -> None:
    run = await meeting_to_run(api)
    team, meeting_id = run.team, run.meeting["id"]
    path = f"/meetings/{meeting_id}/pack.pdf"
    first = await api.client.get(path, headers=team.chair.headers)
    assert first.status_code == 503 and first.headers["retry-after"]

    async def download() -> bytes | None:
        response = await api.client.get(path, headers=team.surgeon.headers)
        if response.status_code == 200:
            assert response.headers["content-type"] == "application/pdf"
            assert response.headers["cache-control"] == "no-store"
            return response.content
        assert response.status_code == 503
        return None

    text = _text(await eventually(download, within=60))
    for case in run.cases:
        assert case["patient"]["family_name"] in text and case["question"] in text
    assert "Neoadjuvant chemotherapy, surgery, radiotherapy." in text  # a recommendation, attributed
    assert "Every recommendation proposes the same plan." in text
    assert "The recommendations differ: 2 different plans." in text
    assert "cT2 cN1 cM0, group IIB" in text and "HER2: positive" in text
    reads = await pool.fetch(
        "SELECT action, subject_type, subject_id::text FROM audit_event WHERE actor_id = $1"
        " AND outcome = 'allowed' ORDER BY occurred_at",
        team.surgeon.id,
    )
    assert ("read_pack", "meeting", meeting_id) in {tuple(row) for row in reads}
    assert {row["subject_id"] for row in reads if row["action"] == "read"} >= {c["id"] for c in run.cases}

    denied = await api.client.get(path, headers=team.presenter.headers)
    assert denied.status_code == 403
    assert await pool.fetchval(
        "SELECT count(*) FROM audit_event"
        " WHERE actor_id = $1 AND action = 'read_pack' AND outcome = 'denied'",
        team.presenter.id,
    )

    # A new recommendation changes the pack: it is rendered again, and only the newest is kept.
    pathologist = await api.user("reviewer", discipline="pathology", name="Dr. Path")
    await api.ok(
        api.client.put(
            f"/meetings/{meeting_id}/participants",
            json={
                "participants": [
                    {"user_id": str(actor.id), "role": role}
                    for actor, role in [*team.participants, (pathologist, "reviewer")]
                ]
            },
            headers=team.coordinator.headers,
        ),
        200,
    )
    await recommend(
        api,
        pathologist,
        run.cases[2]["id"],
        {"intent": "undetermined", "modalities": ["further_workup"]},
        "Review the node cytology first.",
    )
    assert _text(await eventually(download, within=60)).count("Review the node cytology first.") == 1
    assert await pool.fetchval("SELECT count(*) FROM meeting_pack WHERE meeting_id = $1", meeting_id) == 1


async def test_the_agenda_lock_tells_everyone_once_even_when_the_job_runs_twice(
    api: Factory, pool: asyncpg.Pool, server: str
) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await soon_meeting(api, team, board["id"])
    case = await ready_case(api, team)
    await api.place(team.coordinator, case["id"], meeting["id"])
    async with pool.acquire() as conn:
        assert await lock_due_agendas(conn) == 1
    outbox_id = await pool.fetchval(
        "SELECT id FROM outbox WHERE job = 'send_agenda' AND subject_id = $1", meeting["id"]
    )
    for _ in range(2):  # the job runs at least once
        await jobs.send_agenda({"pool": pool}, outbox_id, meeting["id"])

    rows = await pool.fetch(
        "SELECT user_id, kind, case_id::text FROM notification WHERE meeting_id = $1", meeting["id"]
    )
    assert sorted((r["user_id"], r["kind"], r["case_id"]) for r in rows) == sorted(
        [
            *((actor.id, "agenda", None) for actor, _ in team.participants),
            (team.presenter.id, "case_on_agenda", case["id"]),
        ]
    )
    assert await pool.fetchval("SELECT count(*) FROM meeting_pack WHERE meeting_id = $1", meeting["id"]) == 1
    day = await pool.fetchval(
        "SELECT to_char(starts_at AT TIME ZONE 'UTC', 'DD Mon YYYY') FROM meeting WHERE id = $1",
        meeting["id"],
    )
    inbox = await api.ok(api.client.get("/me/notifications", headers=team.surgeon.headers), 200)
    assert [(n["kind"], n["title"], n["link"], n["case_id"]) for n in inbox["items"]] == [
        (
            "agenda",
            f"Agenda and meeting pack ready for the meeting of {day}",
            f"/meetings/{meeting['id']}",
            None,
        )
    ]
    inbox = await api.ok(api.client.get("/me/notifications", headers=team.presenter.headers), 200)
    assert [(n["kind"], n["title"], n["link"]) for n in inbox["items"]] == [
        ("case_on_agenda", f"Your case is on the agenda of the meeting of {day}", f"/cases/{case['id']}")
    ]

    async with page_client(server, team.surgeon) as browser:  # the home page shows the unread notices
        home = await browser.get("/")
        assert (
            f'<a href="/meetings/{meeting["id"]}">Agenda and meeting pack ready for the meeting of {day}</a>'
            in (home.text)
        )
        read = await browser.post("/notifications/read-all")
        home = await browser.get(read.headers["location"])
        assert flash_of(home) == "1 notice(s) marked as read." and 'data-testid="notices"' not in home.text


async def test_a_meeting_notice_email_names_no_patient(
    api: Factory, pool: asyncpg.Pool, smtp_server: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp_server
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await soon_meeting(api, team, board["id"])
    case = await ready_case(api, team)
    await api.place(team.coordinator, case["id"], meeting["id"])
    async with pool.acquire() as conn:
        await lock_due_agendas(conn)
        outbox_id = await conn.fetchval("SELECT id FROM outbox WHERE job = 'send_agenda'")
        await jobs.send_agenda({"pool": pool}, outbox_id, meeting["id"])
    notice = await pool.fetchval("SELECT id FROM notification WHERE kind = 'case_on_agenda'")
    async with pool.acquire() as conn, conn.transaction():
        assert await send_notification_email(conn, notice, _smtp_settings(port))
    (message,) = mailbox.messages
    assert message["To"] == team.presenter.email
    subject = message["Subject"].strip()
    assert subject.startswith("Your case is on the agenda of the meeting of ")
    assert subject.endswith(f": case {case['id'][:8]}")
    text = message.get_body(("plain",)).get_content()
    assert f"https://tumorboard.hospital.example/cases/{case['id']}" in text
    for identifier in (case["patient"]["mrn"], case["patient"]["family_name"], "breast"):
        assert identifier.lower() not in (text + subject).lower()


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)

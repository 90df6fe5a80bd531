"""Presentation mode: the case on screen with its recommendations and where they agree, the chair's
controls (adopt, edit, defer, next case), and the live stream participants follow."""

from __future__ import annotations

import asyncio
import html as html_module
import re

import asyncpg

from tests.browser.support import flash_of, page_client, text_of
from tests.factories import Factory
from tests.meeting_room import meeting_to_run, start_with_everyone_present


async def _next_event(lines: object, within: float) -> str:
    """The data of the next server-sent event on a stream, joined across its data lines."""
    data: list[str] = []

    async def read() -> str:
        async for line in lines:  # type: ignore[attr-defined]
            if line.startswith("data: "):
                data.append(line[6:])
            elif line == "" and data:
                return "\n".join(data)
        raise AssertionError("the stream ended")

    return await asyncio.wait_for(read(), within)


async def test_the_chair_starts_presents_and_sees_the_case_large_with_the_agreement(
    server: str, api: Factory
) -> None:
    run = await meeting_to_run(api)
    first, second, _ = run.cases
    path = f"/meetings/{run.meeting['id']}/present"
    async with page_client(server, run.team.chair) as chair:
        before = await chair.get(path)
        assert before.status_code == 200
        assert "The meeting has not started" in text_of(before)
        started = await chair.post(f"/meetings/{run.meeting['id']}/start", {"back": path})
        assert started.headers["location"] == path
        await start_with_everyone_present_page(chair, run)
        moved = await chair.post(f"/meetings/{run.meeting['id']}/next-case")
        shown = await chair.get(moved.headers["location"])
        assert flash_of(shown) == "Next case on screen."
        text = text_of(shown)
        patient = first["patient"]
        assert f"{patient['family_name']}, {patient['given_name']}" in text
        assert "Case 1 of 3" in text and "of 6 min" in text and "data-timer-since=" in shown.text
        assert "Question for the board Neoadjuvant therapy before surgery?" in text
        assert "cT2 cN1 cM0, group IIB" in text and "HER2: positive" in text
        assert "Every recommendation proposes the same plan." in text
        assert len(re.findall(r'data-testid="rec-card"', shown.text)) == 3
        assert "Adopt plan A" in text and "Quorum Complete" in text

        # The second case: two agree, one differs; the differing card is marked as such.
        await chair.post(f"/meetings/{run.meeting['id']}/present", {"case_id": second["id"]})
        shown = await chair.get(path)
        text = text_of(shown)
        assert "Case 2 of 3" in text
        assert "Most recommendations propose plan A; 1 other plan proposed." in text
        assert "Plan B: Curative: Surgery → Radiation — 1 of 3: Radiation oncology" in text
        assert shown.text.count("rec-card agrees") == 2 and shown.text.count("rec-card differs") == 1


async def start_with_everyone_present_page(chair: object, run: object) -> None:
    """Record the whole team present through the presentation's attendance form."""
    team, meeting = run.team, run.meeting  # type: ignore[attr-defined]
    path = f"/meetings/{meeting['id']}/present"
    fields = {f"attendance.{person.id}": "present" for person in (team.chair, team.surgeon, team.radiation)}
    recorded = await chair.post(f"/meetings/{meeting['id']}/attendance", {**fields, "back": path})  # type: ignore[attr-defined]
    assert recorded.headers["location"] == path


async def test_adopt_defer_and_edit_from_the_presentation_go_through_the_decision_rules(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    run = await meeting_to_run(api)
    first, second, third = run.cases
    await start_with_everyone_present(api, run)
    meeting_id = run.meeting["id"]
    path = f"/meetings/{meeting_id}/present"
    async with page_client(server, run.team.chair) as chair:
        await chair.post(f"/meetings/{meeting_id}/next-case")
        page = await chair.get(path)
        adopt = _form_fields(page.text, "adopt-form")
        assert adopt["intent"] == ["curative"]
        assert adopt["modalities"] == ["systemic_therapy", "surgery", "radiation"]
        assert adopt["summary"] == [
            "Curative intent: systemic therapy, then surgery, then radiation, as recommended by medical "
            "oncology, radiation oncology and surgical oncology."
        ]
        adopted = await chair.post(f"/cases/{first['id']}/decision", _pairs(adopt))
        assert adopted.headers["location"] == path
        shown = await chair.get(path)
        assert flash_of(shown) == "Decision recorded. The care plan draft is being prepared from it."
        assert "The board's decision: Curative: Systemic therapy → Surgery → Radiation" in text_of(shown)
        assert "Correct the decision" in text_of(shown)

        # Next case; the chair defers it with a reason, and the screen moves on by itself.
        await chair.post(f"/meetings/{meeting_id}/next-case")
        deferred = await chair.post(
            f"/cases/{second['id']}/decision",
            {"outcome": "defer", "summary": "Needs a breast MRI first.", "back": path, "agenda": path},
        )
        shown = await chair.get(deferred.headers["location"])
        assert flash_of(shown) == "Deferred: the case waits, first in line, for the next meeting that fits."
        assert f"{third['patient']['family_name']}, {third['patient']['given_name']}" in text_of(shown)
        assert "No plan has more support than the others: edit the decision below." in text_of(shown)

        # The third, split case is decided by editing the plan.
        edited = await chair.post(
            f"/cases/{third['id']}/decision",
            [
                ("outcome", "plan"),
                ("intent", "curative"),
                ("modalities", "further_workup"),
                ("modalities", "surgery"),
                ("summary", "PET-CT, then surgery if the nodes are clear."),
                ("back", path),
            ],
        )
        assert edited.headers["location"] == path
    rows = await pool.fetch(
        "SELECT case_id::text, outcome, modalities, summary, stage_discussed FROM board_decision"
        " ORDER BY decided_at"
    )
    assert [(r["case_id"], r["outcome"]) for r in rows] == [
        (first["id"], "plan"),
        (second["id"], "defer"),
        (third["id"], "plan"),
    ]
    assert rows[0]["stage_discussed"] is True and rows[2]["modalities"] == ["further_workup", "surgery"]
    assert (
        await pool.fetchval("SELECT current_case_id::text FROM meeting WHERE id = $1", meeting_id)
        == third["id"]
    )


async def test_participants_follow_the_screen_live_and_only_the_chair_has_controls(
    server: str, api: Factory
) -> None:
    run = await meeting_to_run(api)
    first, second, _ = run.cases
    await start_with_everyone_present(api, run)
    meeting_id = run.meeting["id"]
    await api.ok(api.client.post(f"/meetings/{meeting_id}/next-case", headers=run.team.chair.headers), 200)
    async with page_client(server, run.team.surgeon) as reviewer:
        page = await reviewer.get(f"/meetings/{meeting_id}/present")
        assert first["patient"]["family_name"] in text_of(page)
        assert 'data-testid="chair-controls"' not in page.text and "Adopt plan" not in page.text
        since = page.text.split("/present/live?since=", 1)[1].split('"', 1)[0]
        async with reviewer.client.stream(
            "GET", f"/meetings/{meeting_id}/present/live", params={"since": since}
        ) as stream:
            assert stream.status_code == 200
            lines = stream.aiter_lines()
            await api.ok(
                api.client.post(f"/meetings/{meeting_id}/next-case", headers=run.team.chair.headers), 200
            )
            redrawn = await _next_event(lines, within=10)
    assert second["patient"]["family_name"] in redrawn and "Case 2 of 3" in redrawn
    assert first["patient"]["family_name"] in redrawn  # still in the running order
    async with page_client(server, run.team.presenter) as presenter:
        assert (await presenter.get(f"/meetings/{meeting_id}/present")).status_code == 403
        refused = await presenter.client.get(f"/meetings/{meeting_id}/present/live")
        assert refused.status_code == 403


async def test_the_chairs_stream_says_when_the_screen_moved_without_its_panel(
    server: str, api: Factory
) -> None:
    run = await meeting_to_run(api)
    first, _, _ = run.cases
    await start_with_everyone_present(api, run)
    meeting_id = run.meeting["id"]
    await api.ok(api.client.post(f"/meetings/{meeting_id}/next-case", headers=run.team.chair.headers), 200)
    async with page_client(server, run.team.chair) as chair:
        url = f"/meetings/{meeting_id}/present/live"
        async with chair.client.stream("GET", url, params={"case": first["id"]}) as stream:
            lines = stream.aiter_lines()
            assert "screen-moved" not in await _next_event(lines, within=10)
            await api.ok(
                api.client.post(f"/meetings/{meeting_id}/next-case", headers=run.team.coordinator.headers),
                200,
            )
            assert "The screen has moved on to another case." in await _next_event(lines, within=10)


def _form_fields(html: str, test_id: str) -> dict[str, list[str]]:
    """The hidden fields of the form marked with a test id."""
    form = html.split(f'data-testid="{test_id}"', 1)[1].split("</form>", 1)[0]
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form):
        fields.setdefault(name, []).append(html_module.unescape(value))
    fields.pop("_csrf_token", None)
    return fields


def _pairs(fields: dict[str, list[str]]) -> list[tuple[str, str]]:
    pairs = [(name, value) for name, values in fields.items() for value in values]
    return [*pairs, ("stage_discussed", "true")]


async def test_adopting_without_quorum_asks_for_the_override_and_refuses_without_it(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    run = await meeting_to_run(api)
    team, meeting_id = run.team, run.meeting["id"]
    first = run.cases[0]
    await api.start(team.chair, meeting_id)
    await api.attendance(team.chair, meeting_id, present=[team.chair, team.surgeon], absent=[team.radiation])
    path = f"/meetings/{meeting_id}/present"
    async with page_client(server, team.chair) as chair:
        await chair.post(f"/meetings/{meeting_id}/next-case")
        page = await chair.get(path)
        assert "Quorum override: why the board decides without radiation oncology" in text_of(page)
        adopt = _form_fields(page.text, "adopt-form")
        refused = await chair.post(f"/cases/{first['id']}/decision", _pairs(adopt))
        shown = await chair.get(refused.headers["location"])
        assert (flash_of(shown) or "").startswith(
            "Quorum is missing: no participant present covers radiation"
        )
        assert await pool.fetchval("SELECT count(*) FROM board_decision") == 0
        reason = "The radiation oncologist agreed by phone before the meeting."
        await chair.post(f"/cases/{first['id']}/decision", [*_pairs(adopt), ("quorum_override", reason)])
    assert await pool.fetchval("SELECT quorum_override FROM board_decision") == reason

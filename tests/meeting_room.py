"""A meeting to run: three cases on the agenda of a meeting starting within the hour, their
recommendations in (the first agreed by all three disciplines, the second with one differing view,
the third split), made through the API like the other factories."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.browser.scenarios import case_placed_on
from tests.factories import Actor, Factory, Team, recommendation_body

AGREED = {"intent": "curative", "modalities": ["systemic_therapy", "surgery", "radiation"]}
SURGERY_FIRST = {"intent": "curative", "modalities": ["surgery", "radiation"]}
WORKUP = {"intent": "undetermined", "modalities": ["further_workup"]}


@dataclass(frozen=True)
class MeetingToRun:
    """A team, its meeting starting within the hour, and the three cases on its agenda in order."""

    team: Team
    meeting: dict[str, Any]
    cases: list[dict[str, Any]]


async def recommend(api: Factory, reviewer: Actor, case_id: str, plan: dict[str, Any], summary: str) -> None:
    """A reviewer's recommendation on a case."""
    body = recommendation_body(**plan, summary=summary)
    await api.ok(
        api.client.post(f"/cases/{case_id}/recommendations", json=body, headers=reviewer.headers), 201
    )


async def meeting_to_run(api: Factory) -> MeetingToRun:
    """Three cases with their recommendations on a meeting its chair may start now."""
    team = await api.team()
    meeting = await api.board_meeting_soon(team)
    cases = [
        await case_placed_on(api, team, meeting, question=question)
        for question in (
            "Neoadjuvant therapy before surgery?",
            "Surgery first, or systemic therapy first?",
            "Is further work-up needed before treatment?",
        )
    ]
    first, second, third = (case["id"] for case in cases)
    for reviewer in (team.chair, team.surgeon, team.radiation):
        await recommend(api, reviewer, first, AGREED, "Neoadjuvant chemotherapy, surgery, radiotherapy.")
    await recommend(api, team.chair, second, AGREED, "Systemic therapy first for node-positive disease.")
    await recommend(api, team.surgeon, second, AGREED, "Agree: neoadjuvant first, then surgery.")
    await recommend(api, team.radiation, second, SURGERY_FIRST, "Upfront surgery, then radiotherapy.")
    await recommend(api, team.surgeon, third, SURGERY_FIRST, "Resectable: operate first.")
    await recommend(api, team.radiation, third, WORKUP, "PET-CT first: the nodes are equivocal.")
    return MeetingToRun(team=team, meeting=meeting, cases=cases)


async def start_with_everyone_present(api: Factory, run: MeetingToRun) -> None:
    """The chair starts the meeting and records the whole team present."""
    team = run.team
    await api.start(team.chair, run.meeting["id"])
    await api.attendance(team.chair, run.meeting["id"], present=[team.chair, team.surgeon, team.radiation])

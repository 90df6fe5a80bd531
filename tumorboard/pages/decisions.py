"""The chair's decision form: record the board's plan for a case, correct it, or defer the case.

The form posts the same fields as POST /cases/{id}/decision and goes through the same service.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, post

from tumorboard.auth.schemas import User
from tumorboard.cases.schemas import Case
from tumorboard.decisions.schemas import Decision, DecisionCreate, Outcome
from tumorboard.decisions.service import record_decision
from tumorboard.enums import CaseStatus
from tumorboard.pages.common import attempt, done_or_refused, safe_next
from tumorboard.pages.forms import compact, decode, flatten, optional, text, texts
from tumorboard.recommendations.agreement import agreement
from tumorboard.recommendations.schemas import Recommendation

MAX_PLAN_STEPS = 10


def decision_body(form: Any) -> dict[str, Any]:
    """The posted form shaped like a decision body; parts left empty are left out (a deferral sends
    its reason only)."""
    outcome = text(form, "outcome")
    body: dict[str, Any] = {"outcome": outcome, "summary": text(form, "summary")}
    if outcome == Outcome.DEFER:
        return compact(body)
    trial_status, trial_id = optional(form, "trial.status"), optional(form, "trial.id")
    stage = text(form, "stage_discussed")
    body |= {
        "intent": text(form, "intent"),
        "modalities": [m for m in texts(form, "modalities") if m][: MAX_PLAN_STEPS + 1],
        "rationale": optional(form, "rationale"),
        "trial": {"status": trial_status, "id": trial_id.upper() if trial_id else None}
        if trial_status
        else None,
        "stage_discussed": {"true": True, "false": False}.get(stage),
        "quorum_override": optional(form, "quorum_override"),
    }
    return compact(body)


def decision_form_values(
    decisions: list[Decision], recommendations: list[Recommendation], meeting_id: UUID | None
) -> dict[str, str]:
    """What the form starts with: the plan recorded at this meeting, else the plan most reviewers proposed
    (the first proposed, when several have as much support)."""
    current = next(
        (d for d in reversed(decisions) if d.meeting_id == meeting_id and d.outcome == Outcome.PLAN), None
    )
    if current is not None:
        values = flatten(
            {
                "intent": current.intent,
                "modalities": current.modalities,
                "summary": current.summary,
                "rationale": current.rationale,
                "trial": current.trial,
                "stage_discussed": current.stage_discussed,
                "quorum_override": current.quorum_override,
            }
        )
        return {**values, "revision": str(current.revision)}
    proposals = agreement(recommendations).proposals
    if not proposals:
        return {}
    lead = proposals[0]
    return flatten({"intent": lead.intent, "modalities": lead.modalities, "summary": lead.summary()})


class DecisionPages(Controller):
    """The board's decision, recorded by the chair during the meeting."""

    include_in_schema = False

    @post("/cases/{case_id:uuid}/decision")
    async def record(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, case_id: UUID
    ) -> Response[Any]:
        """Record the plan, a correction of it, or a deferral; back to the page the form was on."""
        form = await request.form()
        body = decision_body(form)
        back = safe_next(text(form, "back") or f"/cases/{case_id}")

        async def record() -> Case:
            return await record_decision(conn, user, case_id, decode(body, DecisionCreate))

        result = await attempt(conn, record)
        if isinstance(result, Case) and result.status == CaseStatus.SUBMITTED:
            # The case has left the meeting (its participants no longer see it): back to the agenda.
            agenda = safe_next(text(form, "agenda") or "/meetings")
            message = "Deferred: the case waits, first in line, for the next meeting that fits."
            return done_or_refused(request, agenda, result, message)
        message = "Decision recorded. The care plan draft is being prepared from it."
        return done_or_refused(request, back, result, message)

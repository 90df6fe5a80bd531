"""The follow-up page: after signing, the presenter records whether the plan was carried out.

The form posts the fields of PUT /cases/{id}/care-plan/follow-up and goes through the same service,
so the same rules and messages apply.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from tumorboard.auth.schemas import User
from tumorboard.care_plans.follow_up import follow_up_state, record_follow_up
from tumorboard.care_plans.schemas import DeviationReason, FollowUp, FollowUpRecord, Implementation
from tumorboard.cases.policy import CaseFacts, can_record_follow_up
from tumorboard.errors import DomainError
from tumorboard.labels import label
from tumorboard.pages.common import attempt, done, field_errors, form_error, page
from tumorboard.pages.forms import compact, decode, flatten, optional, text

IMPLEMENTATION_CHOICES = [
    (str(Implementation.FULLY), "Fully: the plan was carried out as the board decided"),
    (str(Implementation.PARTLY), "Partly: some of the plan was carried out"),
    (str(Implementation.NOT), "Not: the plan was not carried out"),
]
REASON_CHOICES = [(str(reason), label(reason)) for reason in DeviationReason]


def follow_up_body(form: Any) -> dict[str, Any]:
    """The posted form shaped like a follow-up body; empty fields are left out."""
    return compact(
        {
            "implementation": text(form, "implementation"),
            "reason": optional(form, "reason"),
            "reason_text": optional(form, "reason_text"),
        }
    )


async def _follow_up_page(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    user: User,
    case_id: UUID,
    values: dict[str, Any] | None = None,
    refused: DomainError | None = None,
) -> Template:
    state = await follow_up_state(conn, user, case_id)
    signed = state.signed_version is not None
    recorded = flatten(state.follow_up) if state.follow_up else {}
    return page(
        request,
        "pages/follow_up.html",
        status_code=refused.status_code if refused else 200,
        user=user,
        case=state.case,
        state=state,
        may_record=bool(can_record_follow_up(user, CaseFacts.of(state.case), signed)),
        values=values if values is not None else recorded,
        errors=field_errors(refused) if refused else {},
        error=form_error(refused) if refused else None,
        implementation_choices=IMPLEMENTATION_CHOICES,
        reason_choices=REASON_CHOICES,
    )


class FollowUpPages(Controller):
    """Implementation follow-up of a signed care plan."""

    include_in_schema = False

    @get("/cases/{case_id:uuid}/follow-up")
    async def show(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, case_id: UUID
    ) -> Template:
        """What was recorded for the newest signed version; the presenter's form to record it."""
        return await _follow_up_page(request, conn, user, case_id)

    @post("/cases/{case_id:uuid}/follow-up")
    async def record(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, case_id: UUID
    ) -> Response[Any]:
        """Record (or correct) how far the plan was implemented; the form again with its errors if refused."""
        body = follow_up_body(await request.form())

        async def record() -> FollowUp:
            return await record_follow_up(conn, user, case_id, decode(body, FollowUpRecord))

        result = await attempt(conn, record)
        if isinstance(result, DomainError):
            return await _follow_up_page(request, conn, user, case_id, body, result)
        how = label(result.implementation).lower()
        message = f"Follow-up recorded for care plan version {result.version}: {how} implemented."
        return done(request, f"/cases/{case_id}/follow-up", message)

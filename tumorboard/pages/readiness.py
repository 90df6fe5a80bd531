"""The readiness page: a case against its board's checklist item by item, and the form with which its
presenter (or a coordinator) supplies what is missing.

The form posts the fields of PATCH /cases/{id}/readiness and goes through the same service
(`meetings.readiness.update_case_readiness`); whether the form is offered is the policy the service
enforces (`cases.policy.can_complete_readiness`).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from tumorboard.auth.schemas import User
from tumorboard.cases.policy import CaseFacts, can_complete_readiness
from tumorboard.cases.service import get_case
from tumorboard.errors import DomainError
from tumorboard.meetings.readiness import get_case_readiness, update_case_readiness
from tumorboard.meetings.schemas import CaseReadiness, ReadinessUpdate
from tumorboard.pages.case_form import stage_body
from tumorboard.pages.common import attempt, done, field_errors, form_error, page
from tumorboard.pages.forms import compact, decode, flatten, number, optional


def readiness_body(form: Any) -> dict[str, Any]:
    """The posted form shaped like a PATCH /cases/{id}/readiness body; fields left empty stay as they are."""
    return compact(
        {
            "stage": stage_body(form),
            "histology": optional(form, "histology"),
            "ecog": number(form, "ecog"),
            "pathology_report_on": optional(form, "pathology_report_on"),
            "imaging_on": optional(form, "imaging_on"),
        }
    )


async def _readiness_page(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    user: User,
    case_id: UUID,
    values: dict[str, Any] | None = None,
    refused: DomainError | None = None,
) -> Template:
    case = await get_case(conn, user, case_id)
    readiness = await get_case_readiness(conn, user, case_id)
    if values is None:  # what is recorded, so the form shows it
        recorded = {"stage": case.stage, "histology": case.histology, "ecog": case.ecog}
        values = flatten({**recorded, "pathology_report_on": readiness.pathology_report_on})
        values.update(flatten({"imaging_on": readiness.imaging_on}))
        values.setdefault("stage.system", "AJCC8")
    else:
        values = flatten(values)
    return page(
        request,
        "pages/readiness.html",
        status_code=refused.status_code if refused else 200,
        user=user,
        case=case,
        readiness=readiness,
        may_complete=bool(can_complete_readiness(user, CaseFacts.of(case))),
        values=values,
        errors=field_errors(refused) if refused else {},
        error=form_error(refused) if refused else None,
    )


class ReadinessPages(Controller):
    """Whether a case is ready for its board, and completing it."""

    include_in_schema = False

    @get("/cases/{case_id:uuid}/readiness")
    async def show(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, case_id: UUID
    ) -> Template:
        """The checklist item by item; the form for its presenter and coordinators."""
        return await _readiness_page(request, conn, user, case_id)

    @post("/cases/{case_id:uuid}/readiness")
    async def complete(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, case_id: UUID
    ) -> Response[Any]:
        """Record the missing data; the form again with each field's message if refused."""
        body = readiness_body(await request.form())

        async def complete() -> CaseReadiness:
            return await update_case_readiness(conn, user, case_id, decode(body, ReadinessUpdate))

        url = f"/cases/{case_id}/readiness"
        result = await attempt(conn, complete)
        if isinstance(result, DomainError) and field_errors(result):
            return await _readiness_page(request, conn, user, case_id, body, result)
        if isinstance(result, DomainError):
            return done(request, url, result.detail, "error")
        if result.ready:
            return done(request, url, "Readiness updated. The case is ready for its board.")
        missing = "; ".join(check.detail for check in result.checks if not check.satisfied)
        return done(request, url, f"Readiness updated. Still missing: {missing}.")

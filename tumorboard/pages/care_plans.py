"""The care plan page: the board's decision as consolidated, its documents, the chair's signature, and
the chair's amendment of a signed plan (through `care_plans.service.amend`, as the API)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from tumorboard import audit
from tumorboard.auth.access import participant_role
from tumorboard.auth.schemas import User
from tumorboard.care_plans import service
from tumorboard.care_plans.schemas import Amendment, AmendmentCreate, CarePlanDocument
from tumorboard.cases.policy import CaseFacts, can_amend, can_sign
from tumorboard.cases.service import get_case
from tumorboard.errors import Conflict, DomainError, NotAuthenticated, NotFound
from tumorboard.pages.common import attempt, done, field_errors, form_error, page
from tumorboard.pages.forms import compact, decode, number, text
from tumorboard.validation import InvalidBody


async def _care_plan_page(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    user: User,
    case_id: UUID,
    values: dict[str, Any] | None = None,
    refused: DomainError | None = None,
) -> Template:
    case = await get_case(conn, user, case_id)
    try:
        document: CarePlanDocument | None = await service.get_document(conn, user, case_id)
    except NotFound:
        document = None
    role = await participant_role(conn, case.meeting_id, user.id)
    facts = CaseFacts.of(case)
    return page(
        request,
        "pages/care_plan_page.html",
        status_code=refused.status_code if refused else 200,
        user=user,
        case=case,
        document=document,
        may_sign=bool(can_sign(user, facts, role, document.status if document else None)),
        may_amend=bool(can_amend(user, facts, role)),
        values=values or {},
        errors=field_errors(refused) if refused else {},
        error=form_error(refused) if refused else None,
    )


class CarePlanPages(Controller):
    """A case's care plan."""

    include_in_schema = False

    @get("/cases/{case_id:uuid}/care-plan")
    async def show(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, case_id: UUID
    ) -> Template:
        """The latest version, or why there is none yet; the chair may sign a draft, or amend a signed
        plan, here."""
        return await _care_plan_page(request, conn, user, case_id)

    @post("/cases/{case_id:uuid}/care-plan/amend")
    async def amend(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, case_id: UUID
    ) -> Response[Any]:
        """The chair reopens the signed plan with a reason; the next version replaces it once signed."""
        body = compact({"reason": text(await request.form(), "reason")})

        async def amend() -> Amendment:
            return await service.amend(conn, user, case_id, decode(body, AmendmentCreate))

        url = f"/cases/{case_id}/care-plan"
        result = await attempt(conn, amend)
        if isinstance(result, InvalidBody):  # the reason is shown again with its message
            return await _care_plan_page(request, conn, user, case_id, body, result)
        if isinstance(result, DomainError):  # no longer amendable: said on the page, which shows why
            return done(request, url, result.detail, "error")
        message = (
            f"Care plan version {result.amends_version} reopened for amendment. "
            "The new draft is being prepared; sign it to replace the signed version."
        )
        return done(request, url, message)

    @post("/cases/{case_id:uuid}/care-plan/sign")
    async def sign(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, case_id: UUID
    ) -> Response[Any]:
        """The chair signs the version they were shown, with their password; a newer draft has to be
        read first. A wrong password is refused here (and audited), not by signing the user out."""
        form = await request.form()
        seen, password = number(form, "version"), text(form, "password")

        async def sign() -> CarePlanDocument:
            if not isinstance(seen, int):
                raise Conflict("Open the draft and sign the version it shows")
            return await service.sign(conn, user, case_id, password, seen)

        url = f"/cases/{case_id}/care-plan"
        try:
            result = await attempt(conn, sign)
        except NotAuthenticated as refused:
            if refused.audit:
                await audit.record_refusal(conn, user.id, refused.audit)
            return done(request, url, "The password is not correct; the care plan was not signed.", "error")
        if isinstance(result, DomainError):
            return done(request, url, result.detail, "error")
        return done(request, url, f"Care plan version {result.version} signed. The case is finalized.")

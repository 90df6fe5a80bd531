"""The care plan page: the board's decision as consolidated, its documents, and the chair's signature."""

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
from tumorboard.care_plans.schemas import CarePlanDocument
from tumorboard.cases.policy import CaseFacts, can_sign
from tumorboard.cases.service import get_case
from tumorboard.errors import Conflict, DomainError, NotAuthenticated, NotFound
from tumorboard.pages.common import attempt, done, page
from tumorboard.pages.forms import number, text


class CarePlanPages(Controller):
    """A case's care plan."""

    include_in_schema = False

    @get("/cases/{case_id:uuid}/care-plan")
    async def show(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, case_id: UUID
    ) -> Template:
        """The latest version, or why there is none yet; the chair may sign a draft here."""
        case = await get_case(conn, user, case_id)
        try:
            document: CarePlanDocument | None = await service.get_document(conn, user, case_id)
        except NotFound:
            document = None
        role = await participant_role(conn, case.meeting_id, user.id)
        return page(
            request,
            "pages/care_plan_page.html",
            user=user,
            case=case,
            document=document,
            may_sign=bool(can_sign(user, CaseFacts.of(case), role, document.status if document else None)),
        )

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

"""The care plan page: the consolidated plan, its documents, and the chair's signature."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from tumorboard.auth.access import participant_role
from tumorboard.auth.schemas import User
from tumorboard.care_plans import service
from tumorboard.care_plans.schemas import CarePlanDocument
from tumorboard.cases.service import get_case
from tumorboard.enums import CaseStatus, ParticipantRole
from tumorboard.errors import Conflict, DomainError, NotFound
from tumorboard.pages.common import attempt, done, page
from tumorboard.pages.forms import number


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
            may_sign=role == ParticipantRole.CHAIR
            and document is not None
            and document.status == "draft"
            and case.status == CaseStatus.DISCUSSED,
        )

    @post("/cases/{case_id:uuid}/care-plan/sign")
    async def sign(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, case_id: UUID
    ) -> Response[Any]:
        """The chair signs the version they were shown; a newer draft has to be read first."""
        seen = number(await request.form(), "version")

        async def sign() -> CarePlanDocument:
            if not isinstance(seen, int):
                raise Conflict("Open the draft and sign the version it shows")
            return await service.sign(conn, user, case_id, seen)

        result = await attempt(conn, sign)
        url = f"/cases/{case_id}/care-plan"
        if isinstance(result, DomainError):
            return done(request, url, result.detail, "error")
        return done(request, url, f"Care plan version {result.version} signed. The case is finalized.")

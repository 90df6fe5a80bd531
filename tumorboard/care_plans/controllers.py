"""Care plan endpoints: the plan, its documents and the chair's signature."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from litestar import Controller, MediaType, Response, get, post

from tumorboard.auth.schemas import User
from tumorboard.care_plans import service
from tumorboard.care_plans.documents import build_fhir_bundle, render_html
from tumorboard.care_plans.schemas import CarePlan

FHIR_MEDIA_TYPE = "application/fhir+json"


def _filename(document_case_id: UUID, version: int, extension: str) -> str:
    return f'inline; filename="care-plan-{document_case_id}-v{version}.{extension}"'


class CarePlanController(Controller):
    """The consolidated care plan of a case."""

    path = "/cases/{case_id:uuid}"
    tags = ["care plans"]

    @get("/care-plan", operation_id="GetCarePlan")
    async def get_care_plan(self, conn: asyncpg.Connection, user: User, case_id: UUID) -> CarePlan:
        """The latest version; 404 until the first draft exists."""
        return service.summary(await service.get_document(conn, user, case_id))

    @get("/care-plan.html", operation_id="GetCarePlanHtml", media_type=MediaType.HTML)
    async def get_care_plan_html(self, conn: asyncpg.Connection, user: User, case_id: UUID) -> str:
        """The latest version as an HTML page."""
        return render_html(await service.get_document(conn, user, case_id))

    @get("/care-plan.pdf", operation_id="GetCarePlanPdf", media_type="application/pdf")
    async def get_care_plan_pdf(self, conn: asyncpg.Connection, user: User, case_id: UUID) -> Response[bytes]:
        """The latest version as PDF (503 with Retry-After while a worker renders it)."""
        document, pdf = await service.get_pdf(conn, user, case_id)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": _filename(case_id, document.version, "pdf")},
        )

    @get("/care-plan.fhir.json", operation_id="GetCarePlanFhir", media_type=FHIR_MEDIA_TYPE)
    async def get_care_plan_fhir(self, conn: asyncpg.Connection, user: User, case_id: UUID) -> dict[str, Any]:
        """The latest version as a FHIR R4 Bundle."""
        return build_fhir_bundle(await service.get_document(conn, user, case_id))

    @post("/care-plan/sign", operation_id="SignCarePlan", status_code=200)
    async def sign(self, conn: asyncpg.Connection, user: User, case_id: UUID) -> CarePlan:
        """Sign the latest draft (the meeting's chair): the plan becomes final."""
        return service.summary(await service.sign(conn, user, case_id))

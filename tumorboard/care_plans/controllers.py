"""Care plan endpoints: the plan and its versions, documents, signature, amendment and follow-up."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from litestar import Controller, MediaType, Response, get, post, put
from litestar.params import Parameter

from tumorboard.auth.schemas import User
from tumorboard.care_plans import follow_up, service, versions
from tumorboard.care_plans.schemas import (
    Amendment,
    AmendmentCreate,
    CarePlan,
    CarePlanDiff,
    FollowUp,
    FollowUpRecord,
    FollowUpReport,
    SignatureRequest,
)
from tumorboard.errors import NotFound
from tumorboard.fhir import resources as fhir
from tumorboard.openapi_schema import DOCUMENT_NOT_READY

FHIR_MEDIA_TYPE = fhir.MEDIA_TYPE
PDF_MEDIA_TYPE = "application/pdf"
_VERSION_DOCUMENT = re.compile(r"^(?P<version>[1-9]\d{0,5})(?P<format>\.html|\.pdf|\.fhir\.json)?$")


def _filename(document_case_id: UUID, version: int, extension: str) -> str:
    return f'inline; filename="care-plan-{document_case_id}-v{version}.{extension}"'


class CarePlanController(Controller):
    """The consolidated care plan of a case."""

    path = "/cases/{case_id:uuid}"
    tags = ["care plans"]

    @get("/care-plan", operation_id="GetCarePlan")
    async def get_care_plan(self, conn: asyncpg.Connection, user: User, case_id: UUID) -> CarePlan:
        """The latest version; 404 until the first draft exists."""
        return versions.summary(await service.get_document(conn, user, case_id))

    @get("/care-plan.html", operation_id="GetCarePlanHtml", media_type=MediaType.HTML)
    async def get_care_plan_html(self, conn: asyncpg.Connection, user: User, case_id: UUID) -> str:
        """The latest version as an HTML page."""
        return await service.get_html(conn, user, case_id)

    @get(
        "/care-plan.pdf",
        operation_id="GetCarePlanPdf",
        media_type=PDF_MEDIA_TYPE,
        responses=DOCUMENT_NOT_READY,
    )
    async def get_care_plan_pdf(self, conn: asyncpg.Connection, user: User, case_id: UUID) -> Response[bytes]:
        """The latest version as PDF (503 with Retry-After while a worker renders it)."""
        document, pdf = await service.get_pdf(conn, user, case_id)
        return Response(
            pdf,
            media_type=PDF_MEDIA_TYPE,
            headers={"Content-Disposition": _filename(case_id, document.version, "pdf")},
        )

    @get("/care-plan.fhir.json", operation_id="GetCarePlanFhir", media_type=FHIR_MEDIA_TYPE)
    async def get_care_plan_fhir(
        self, conn: asyncpg.Connection, user: User, case_id: UUID
    ) -> Response[bytes]:
        """The latest version as a FHIR document (Bundle of type document, mCODE profiles)."""
        bundle = await service.get_fhir(conn, user, case_id)
        return Response(fhir.encode(bundle), media_type=FHIR_MEDIA_TYPE)

    @post("/care-plan/sign", operation_id="SignCarePlan", status_code=200)
    async def sign(
        self, conn: asyncpg.Connection, user: User, case_id: UUID, data: SignatureRequest
    ) -> CarePlan:
        """Sign the latest draft (the chair of the meeting that decided), re-authenticating with the
        password: the plan becomes final. `version` refuses with 409 when a newer draft has arrived
        since the chair read it."""
        return versions.summary(await service.sign(conn, user, case_id, data.password, data.version))

    @post("/care-plan/amend", operation_id="AmendCarePlan", status_code=201)
    async def amend(
        self, conn: asyncpg.Connection, user: User, case_id: UUID, data: AmendmentCreate
    ) -> Amendment:
        """Reopen the signed plan (the meeting's chair, with a reason); the chair signs the new version."""
        return await service.amend(conn, user, case_id, data)

    @get("/care-plans", operation_id="ListCarePlanVersions")
    async def list_versions(self, conn: asyncpg.Connection, user: User, case_id: UUID) -> list[CarePlan]:
        """Every version of the care plan, oldest first."""
        return await versions.list_versions(conn, user, case_id)

    @get("/care-plans/{document:str}", operation_id="GetCarePlanVersion", responses=DOCUMENT_NOT_READY)
    async def get_version(
        self, conn: asyncpg.Connection, user: User, case_id: UUID, document: str
    ) -> Response[Any]:
        """One version: `{version}` as JSON, `{version}.html`, `{version}.pdf` or `{version}.fhir.json`."""
        match = _VERSION_DOCUMENT.fullmatch(document)
        if match is None:
            raise NotFound("No such care plan document")
        version = int(match["version"])
        if match["format"] == ".html":
            return Response(await service.get_html(conn, user, case_id, version), media_type=MediaType.HTML)
        if match["format"] == ".pdf":
            found, pdf = await service.get_pdf(conn, user, case_id, version)
            disposition = _filename(case_id, found.version, "pdf")
            return Response(pdf, media_type=PDF_MEDIA_TYPE, headers={"Content-Disposition": disposition})
        if match["format"] == ".fhir.json":
            bundle = await service.get_fhir(conn, user, case_id, version)
            return Response(fhir.encode(bundle), media_type=FHIR_MEDIA_TYPE)
        return Response(versions.summary(await versions.get_version(conn, user, case_id, version)))

    @get("/care-plans/{version:int}/diff", operation_id="DiffCarePlanVersions")
    async def diff(
        self,
        conn: asyncpg.Connection,
        user: User,
        case_id: UUID,
        version: int,
        from_version: Annotated[int | None, Parameter(query="from", ge=1, le=versions.MAX_VERSION)] = None,
    ) -> CarePlanDiff:
        """What changed from version `from` (default: the one before) to this version."""
        return await versions.get_diff(conn, user, case_id, version, from_version)

    @put("/care-plan/follow-up", operation_id="RecordCarePlanFollowUp")
    async def record_follow_up(
        self, conn: asyncpg.Connection, user: User, case_id: UUID, data: FollowUpRecord
    ) -> FollowUp:
        """Record whether the signed plan was implemented (the case's presenter)."""
        return await follow_up.record_follow_up(conn, user, case_id, data)

    @get("/care-plan/follow-up", operation_id="GetCarePlanFollowUp")
    async def get_follow_up(self, conn: asyncpg.Connection, user: User, case_id: UUID) -> FollowUp:
        """The recorded implementation of the signed plan; 404 until recorded."""
        return await follow_up.get_follow_up(conn, user, case_id)


class FollowUpReportController(Controller):
    """Implementation of signed care plans, per board and period."""

    path = "/reports/care-plan-follow-up"
    tags = ["care plans"]

    @get(operation_id="GetCarePlanFollowUpReport")
    async def report(
        self,
        conn: asyncpg.Connection,
        user: User,
        board_id: UUID,
        period_start: Annotated[date, Parameter(query="from")],
        period_end: Annotated[date, Parameter(query="to")],
    ) -> FollowUpReport:
        """Coordinators: plans of the board's meetings from `from` to `to` (UTC dates, inclusive)."""
        return await follow_up.follow_up_report(conn, user, board_id, period_start, period_end)

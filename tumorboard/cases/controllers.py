"""Case endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, get, post, put
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, Reference, Schema
from litestar.params import Parameter

from tumorboard.auth.caller import Caller
from tumorboard.auth.schemas import User
from tumorboard.cases import service
from tumorboard.cases.schemas import Case, CaseCreate, CaseMove, CasePage
from tumorboard.cases.search import CaseSearch, submission_day
from tumorboard.enums import CaseStatus, DiseaseSite
from tumorboard.errors import DomainError, InvalidInput
from tumorboard.fhir import intake
from tumorboard.fhir.resources import MEDIA_TYPE as FHIR_MEDIA_TYPE
from tumorboard.pagination import DEFAULT_LIMIT
from tumorboard.request_body import StrictJSON, refused_body
from tumorboard.validation import NOT_JSON, FieldError, InvalidBody, media_type
from tumorboard.web import ONE_STATEMENT

MAX_IDEMPOTENCY_KEY = 200
SEARCH_HELP = (
    "Words of the patient's MRN, given or family name, or the diagnosis code; the last may be the "
    "beginning of one (case and accents ignored; punctuation separates words); at most 200 "
    "characters and 5 words."
)
FROM_HELP = "Cases submitted on or after this day, YYYY-MM-DD (in the service's time zone)"
TO_HELP = "Cases submitted on or before this day, YYYY-MM-DD (in the service's time zone)"

_BUNDLE = Schema(
    type=OpenAPIType.OBJECT,
    description="An mCODE FHIR R4 Bundle (a Patient, a primary cancer Condition, its stage, ECOG and "
    "tumor markers); see the intake documentation",
)


@dataclass
class CaseSubmissionOperation(Operation):
    """The submission's OpenAPI operation: a case as JSON, or as a FHIR Bundle."""

    def __post_init__(self) -> None:
        if self.request_body is not None and not isinstance(self.request_body, Reference):
            self.request_body.content[FHIR_MEDIA_TYPE] = OpenAPIMediaType(schema=_BUNDLE)


class CaseController(Controller):
    """Patient cases."""

    path = "/cases"
    tags = ["cases"]

    @post(
        operation_id="SubmitCase",
        dto=StrictJSON.accepting(FHIR_MEDIA_TYPE),
        operation_class=CaseSubmissionOperation,
        opt={ONE_STATEMENT: True},
    )
    async def submit_case(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        caller: Caller,
        data: CaseCreate | None = None,
    ) -> Case:
        """Submit a case (presenters) as JSON, or as an mCODE FHIR Bundle (application/fhir+json); an
        Idempotency-Key header makes a retry return the first case."""
        try:
            key = request.headers.get("idempotency-key")
            if key is not None and not (0 < len(key) <= MAX_IDEMPOTENCY_KEY):
                raise InvalidInput("Idempotency-Key", f"must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
            if data is None:  # a FHIR Bundle (StrictJSON decodes JSON only), or a refused body
                body = await request.body()
                if body and media_type(request.headers.get("content-type")) == FHIR_MEDIA_TYPE:
                    return await intake.submit_bundle(conn, await caller.check(), body, key)
                raise refused_body(request) or InvalidBody([FieldError("body", NOT_JSON)])
        except DomainError:
            await caller.check()  # a bad token is refused first, as on every route
            raise
        return await service.submit_case(conn, caller, data, await request.body(), key)

    @get("/{case_id:uuid}", operation_id="GetCase")
    async def get_case(self, conn: asyncpg.Connection, caller: Caller, case_id: UUID) -> Case:
        """A case (its presenter, its meeting's participants, coordinators)."""
        return await service.get_case(conn, caller, case_id)

    @get(operation_id="ListCases")
    async def list_cases(
        self,
        conn: asyncpg.Connection,
        user: User,
        status: CaseStatus | None = None,
        meeting_id: UUID | None = None,
        mine: bool = False,
        limit: Annotated[int, Parameter(ge=1, le=200)] = DEFAULT_LIMIT,
        cursor: Annotated[str | None, Parameter(max_length=500)] = None,
        q: Annotated[str | None, Parameter(description=SEARCH_HELP)] = None,
        disease_site: DiseaseSite | None = None,
        board_id: UUID | None = None,
        submitted_from: Annotated[str | None, Parameter(query="from", description=FROM_HELP)] = None,
        submitted_to: Annotated[str | None, Parameter(query="to", description=TO_HELP)] = None,
    ) -> CasePage:
        """The cases the caller may see, newest first; optionally searched and filtered."""
        search = CaseSearch(
            q=q,
            disease_site=disease_site,
            board_id=board_id,
            submitted_from=submission_day(submitted_from, "from"),
            submitted_to=submission_day(submitted_to, "to"),
        )
        return await service.list_cases(
            conn,
            user,
            status=status,
            meeting_id=meeting_id,
            mine=mine,
            limit=limit,
            cursor=cursor,
            search=search,
        )

    @put("/{case_id:uuid}/meeting", operation_id="MoveCase")
    async def move_case(self, conn: asyncpg.Connection, user: User, case_id: UUID, data: CaseMove) -> Case:
        """Put a case on a meeting by hand (coordinators)."""
        return await service.move_case(conn, user, case_id, data)

    @post("/{case_id:uuid}/withdraw", operation_id="WithdrawCase", status_code=200)
    async def withdraw_case(self, conn: asyncpg.Connection, user: User, case_id: UUID) -> Case:
        """Withdraw a case (its presenter)."""
        return await service.withdraw_case(conn, user, case_id)

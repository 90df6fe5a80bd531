"""Case submission: a form that keeps what was typed and marks each field the API rules refuse."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Template

from tumorboard.auth.schemas import User
from tumorboard.cases.schemas import Case, CaseCreate
from tumorboard.cases.service import submit_case
from tumorboard.enums import Role, Urgency
from tumorboard.errors import DomainError
from tumorboard.pages.common import attempt, done, field_errors, form_error, page
from tumorboard.pages.forms import compact, decode, flatten, number, optional, text

FORM_TEMPLATE = "pages/case_form.html"
ROW_TEMPLATE = "pages/biomarker_fragment.html"
MAX_BIOMARKERS = 50
BLANK_ROWS = 2


def case_body(form: Any) -> dict[str, Any]:
    """The posted form shaped like a POST /cases body; parts left empty are left out."""
    stage = {part: text(form, f"stage.{part}") for part in ("t", "n", "m", "group")}
    biomarkers = []
    for index in range(MAX_BIOMARKERS + 1):
        name, value = text(form, f"biomarkers.{index}.name"), text(form, f"biomarkers.{index}.value")
        if name or value:
            biomarkers.append({"name": name, "value": value})
    body = {
        "patient": {
            "mrn": text(form, "patient.mrn"),
            "given_name": text(form, "patient.given_name"),
            "family_name": text(form, "patient.family_name"),
            "birth_date": text(form, "patient.birth_date"),
            "sex": text(form, "patient.sex"),
        },
        "disease_site": text(form, "disease_site"),
        "diagnosis": {
            "code": text(form, "diagnosis.code"),
            "system": text(form, "diagnosis.system"),
            "display": text(form, "diagnosis.display"),
        },
        "histology": optional(form, "histology"),
        "stage": {"system": "AJCC8", **stage} if any(stage.values()) else None,
        "ecog": number(form, "ecog"),
        "biomarkers": biomarkers,
        "summary": text(form, "summary"),
        "question": text(form, "question"),
        "urgency": text(form, "urgency") or Urgency.ROUTINE,
        "discuss_by": optional(form, "discuss_by"),
    }
    return compact(body)


def _form(
    request: Request[Any, Any, Any],
    user: User,
    values: dict[str, str],
    idempotency_key: str,
    refused: DomainError | None = None,
) -> Template:
    rows = sum(1 for key in values if key.startswith("biomarkers.") and key.endswith(".name"))
    return page(
        request,
        FORM_TEMPLATE,
        status_code=refused.status_code if refused else 200,
        user=user,
        values=values,
        errors=field_errors(refused) if refused else {},
        error=form_error(refused) if refused else None,
        biomarker_rows=min(rows + BLANK_ROWS, MAX_BIOMARKERS),
        max_rows=MAX_BIOMARKERS,
        idempotency_key=idempotency_key,
        may_submit=user.has_role(Role.PRESENTER),
    )


class CaseFormPages(Controller):
    """Submitting a case."""

    include_in_schema = False

    @get("/cases/new")
    async def new_case(self, request: Request[Any, Any, Any], user: User) -> Template:
        """An empty submission form; its key makes a double submission create one case."""
        defaults = {"urgency": str(Urgency.ROUTINE), "diagnosis.system": "ICD-10-CM"}
        return _form(request, user, defaults, str(uuid.uuid4()))

    @get("/cases/new/biomarker-row")
    async def biomarker_row(
        self,
        request: Request[Any, Any, Any],
        user: User,
        index: Annotated[int, Parameter(ge=0, lt=MAX_BIOMARKERS)],
    ) -> Template:
        """One more empty biomarker row (fetched by the form's "Add a biomarker" button)."""
        context = {"index": index, "values": {}, "errors": {}, "max_rows": MAX_BIOMARKERS}
        return Template(ROW_TEMPLATE, context=context)

    @post("/cases/new")
    async def submit(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User
    ) -> Response[Any]:
        """Submit the case and show it, or show the form again with each problem marked."""
        form = await request.form()
        body = case_body(form)
        key = text(form, "idempotency_key")[:200] or str(uuid.uuid4())

        async def create() -> Case:
            data = decode(body, CaseCreate)
            fingerprint = msgspec.json.encode(body, order="sorted")
            return await submit_case(conn, user, data, fingerprint, key)

        result = await attempt(conn, create)
        if isinstance(result, DomainError):
            return _form(request, user, flatten(body), key, result)
        return done(
            request,
            f"/cases/{result.id}",
            "Case submitted. It goes on the earliest meeting that fits; this page shows where it stands.",
        )

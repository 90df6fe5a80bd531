"""Case submission: a form that keeps what was typed and marks each field the API rules refuse.

The form offers pick lists of common codes (tumorboard/cases/codes) and fills in the term of a
listed code left without one; rows of biomarkers, prior treatments and comorbidities grow one at a
time (htmx fetches the next row).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import Parameter
from litestar.response import Template

from tumorboard.auth.schemas import User
from tumorboard.cases.pick_lists import CodeOption, pick_lists, term_of
from tumorboard.cases.schemas import Case, CaseCreate
from tumorboard.cases.service import check_may_submit, submit_case
from tumorboard.enums import Urgency
from tumorboard.errors import DomainError
from tumorboard.pages.common import attempt, done, field_errors, form_error, page
from tumorboard.pages.forms import compact, decode, flatten, number, optional, text

FORM_TEMPLATE = "pages/case_form.html"
ROW_TEMPLATE = "pages/row_fragment.html"
MAX_ROWS = 50
BLANK_ROWS = 2
# The repeated parts of the form: their list in the API body, and their fields (the first ones required).
ROWS = {
    "biomarker": ("biomarkers", ("name", "value"), ("loinc", "unit", "tested_on", "method")),
    "treatment": ("prior_treatments", ("modality",), ("description", "started_on", "ended_on")),
    "comorbidity": ("comorbidities", ("name",), ("code",)),
}
_ANSWERS = {"true": True, "false": False}


def _rows(form: FormMultiDict, kind: str) -> list[dict[str, Any]]:
    """The filled rows of one repeated part; required fields stay (empty) so their error names them."""
    key, required, extra = ROWS[kind]
    rows = []
    for index in range(MAX_ROWS + 1):
        row = {name: text(form, f"{key}.{index}.{name}") for name in (*required, *extra)}
        if any(row.values()):
            rows.append({name: value for name, value in row.items() if value or name in required})
    return rows


def _coded(code: str, options: tuple[CodeOption, ...]) -> dict[str, str] | None:
    """A code with its term when the pick list knows it."""
    if not code:
        return None
    term = term_of(options, code)
    return {"code": code, **({"display": term} if term else {})}


def _diagnosis(form: FormMultiDict) -> dict[str, Any]:
    lists = pick_lists()
    code, system = text(form, "diagnosis.code"), text(form, "diagnosis.system")
    known = lists.icd10cm if system == "ICD-10-CM" else (*lists.topography, *lists.morphology)
    return {
        "code": code,
        "system": system,
        "display": text(form, "diagnosis.display") or term_of(known, code) or "",
        "diagnosed_on": optional(form, "diagnosis.diagnosed_on"),
        "laterality": optional(form, "diagnosis.laterality"),
        "topography": _coded(text(form, "diagnosis.topography.code"), lists.topography),
        "morphology": _coded(text(form, "diagnosis.morphology.code"), lists.morphology),
    }


def stage_body(form: FormMultiDict) -> dict[str, Any] | None:
    """The stage fields shaped like the API's stage, or None when left empty (case and readiness forms)."""
    categories = {part: text(form, f"stage.{part}") for part in ("t", "n", "m", "group")}
    if not any(categories.values()) and not text(form, "stage.type") and not text(form, "stage.edition"):
        return None
    return {
        "system": text(form, "stage.system") or "AJCC8",
        "edition": number(form, "stage.edition"),
        "type": optional(form, "stage.type"),
        **categories,
    }


def case_body(form: FormMultiDict) -> dict[str, Any]:
    """The posted form shaped like a POST /cases body; parts left empty are left out."""
    comorbidities = _rows(form, "comorbidity")
    for row in comorbidities:
        if not row["name"] and (term := term_of(pick_lists().comorbidities, row.get("code", ""))):
            row["name"] = term
    started = text(form, "treatment_started")
    body = {
        "patient": {
            "mrn": text(form, "patient.mrn"),
            "given_name": text(form, "patient.given_name"),
            "family_name": text(form, "patient.family_name"),
            "birth_date": text(form, "patient.birth_date"),
            "sex": text(form, "patient.sex"),
        },
        "disease_site": text(form, "disease_site"),
        "diagnosis": _diagnosis(form),
        "histology": optional(form, "histology"),
        "stage": stage_body(form),
        "ecog": number(form, "ecog"),
        "biomarkers": _rows(form, "biomarker"),
        "prior_treatments": _rows(form, "treatment"),
        "comorbidities": comorbidities,
        "treatment_started": _ANSWERS.get(started, started or None),
        "summary": text(form, "summary"),
        "question": text(form, "question"),
        "urgency": text(form, "urgency") or Urgency.ROUTINE,
        "discuss_by": optional(form, "discuss_by"),
        "referrer": {
            "name": text(form, "referrer.name"),
            "organisation": text(form, "referrer.organisation"),
            "email": text(form, "referrer.email"),
        },
    }
    return compact(body)


def _row_count(values: dict[str, str], key: str) -> int:
    """How many rows of a repeated part the values fill (the highest index plus one)."""
    indexes = [int(name.split(".")[1]) for name in values if name.startswith(f"{key}.")]
    return max(indexes) + 1 if indexes else 0


def _form(
    request: Request[Any, Any, Any],
    user: User,
    values: dict[str, str],
    idempotency_key: str,
    refused: DomainError | None = None,
) -> Template:
    rows = {
        kind: min(_row_count(values, key) + (BLANK_ROWS if kind == "biomarker" else 1), MAX_ROWS)
        for kind, (key, _, _) in ROWS.items()
    }
    return page(
        request,
        FORM_TEMPLATE,
        status_code=refused.status_code if refused else 200,
        user=user,
        values=values,
        errors=field_errors(refused) if refused else {},
        error=form_error(refused) if refused else None,
        rows=rows,
        max_rows=MAX_ROWS,
        lists=pick_lists(),
        idempotency_key=idempotency_key,
    )


def _row(kind: str, index: int) -> Template:
    """One more empty row of a repeated part, with the button that fetches the next one."""
    context = {"kind": kind, "index": index, "values": {}, "errors": {}, "max_rows": MAX_ROWS}
    return Template(ROW_TEMPLATE, context=context)


RowIndex = Annotated[int, Parameter(ge=0, lt=MAX_ROWS)]


class CaseFormPages(Controller):
    """Submitting a case."""

    include_in_schema = False

    @get("/cases/new")
    async def new_case(self, request: Request[Any, Any, Any], user: User) -> Template:
        """An empty submission form; its key makes a double submission create one case."""
        check_may_submit(user)
        defaults = {"urgency": str(Urgency.ROUTINE), "diagnosis.system": "ICD-10-CM", "stage.system": "AJCC8"}
        return _form(request, user, defaults, str(uuid.uuid4()))

    @get("/cases/new/biomarker-row")
    async def biomarker_row(self, user: User, index: RowIndex) -> Template:
        """One more empty biomarker row (fetched by the form's "Add a biomarker" button)."""
        check_may_submit(user)
        return _row("biomarker", index)

    @get("/cases/new/treatment-row")
    async def treatment_row(self, user: User, index: RowIndex) -> Template:
        """One more empty prior treatment row."""
        check_may_submit(user)
        return _row("treatment", index)

    @get("/cases/new/comorbidity-row")
    async def comorbidity_row(self, user: User, index: RowIndex) -> Template:
        """One more empty comorbidity row."""
        check_may_submit(user)
        return _row("comorbidity", index)

    @post("/cases/new")
    async def submit(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User
    ) -> Response[Any]:
        """Submit the case and show it, or show the form again with each problem marked."""
        check_may_submit(user)
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

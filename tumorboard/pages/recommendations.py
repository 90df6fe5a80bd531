"""The recommendation form: a reviewer's first recommendation on a case, or a revision of it."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Template

from tumorboard.auth.schemas import User
from tumorboard.cases.schemas import Case
from tumorboard.cases.service import get_case
from tumorboard.errors import DomainError, InvalidInput
from tumorboard.pages.common import attempt, done, field_errors, form_error, page, safe_next
from tumorboard.pages.forms import compact, decode, flatten, number, optional, text, texts
from tumorboard.recommendations import service
from tumorboard.recommendations.schemas import Recommendation, RecommendationCreate, RecommendationUpdate

FORM_TEMPLATE = "pages/recommendation_form.html"
PLAN_STEPS = 5
MAX_PLAN_STEPS = 10


def recommendation_body(form: Any) -> dict[str, Any]:
    """The posted form shaped like a recommendation body; parts left empty are left out."""
    guideline_name, concordant = text(form, "guideline.name"), text(form, "guideline.concordant")
    guideline: dict[str, Any] | None = None
    if guideline_name or concordant:
        guideline = {"name": guideline_name, "version": optional(form, "guideline.version")}
        guideline["concordant"] = {"true": True, "false": False}.get(concordant, concordant or None)
    trial = optional(form, "trial.id")
    body = {
        "intent": text(form, "intent"),
        "modalities": texts(form, "modalities")[: MAX_PLAN_STEPS + 1],
        "summary": text(form, "summary"),
        "rationale": optional(form, "rationale"),
        "guideline": guideline,
        "trial": {"id": trial.upper()} if trial else None,
    }
    return compact(body)


def _form(
    request: Request[Any, Any, Any],
    user: User,
    case: Case,
    own: Recommendation | None,
    values: dict[str, str],
    back: str,
    refused: DomainError | None = None,
) -> Template:
    steps = sum(1 for key in values if key.startswith("modalities."))
    return page(
        request,
        FORM_TEMPLATE,
        status_code=refused.status_code if refused else 200,
        user=user,
        case=case,
        own=own,
        values=values,
        errors=field_errors(refused) if refused else {},
        error=form_error(refused) if refused else None,
        plan_steps=min(max(PLAN_STEPS, steps + 1), MAX_PLAN_STEPS),
        back=back,
    )


async def _own(conn: asyncpg.Connection, user: User, case_id: UUID) -> Recommendation | None:
    """The caller's recommendation on a case whose access the caller has been checked for."""
    recommendations = await service.recommendations_of(conn, case_id)
    return next((r for r in recommendations if r.author_id == user.id), None)


class RecommendationPages(Controller):
    """Recommending on a case."""

    include_in_schema = False

    @get("/cases/{case_id:uuid}/recommendation")
    async def edit(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        user: User,
        case_id: UUID,
        back: Annotated[str | None, Parameter(max_length=2000)] = None,
    ) -> Template:
        """The form, filled with the reviewer's current recommendation when there is one; offered only
        to whom the service would let save it."""
        case = await get_case(conn, user, case_id)
        own = await _own(conn, user, case_id)
        if own is None:
            await service.check_may_recommend(conn, user, case)
        else:
            await service.check_may_revise(conn, user, own, case)
        values = flatten(own) if own else {}
        return _form(request, user, case, own, values, safe_next(back or f"/cases/{case_id}"))

    @post("/cases/{case_id:uuid}/recommendation")
    async def save(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, case_id: UUID
    ) -> Response[Any]:
        """Record the recommendation, or its new version when the form edited one."""
        form = await request.form()
        body = recommendation_body(form)
        back = safe_next(text(form, "back") or f"/cases/{case_id}")
        recommendation_id = text(form, "recommendation_id")

        async def save() -> Recommendation:
            if not recommendation_id:
                return await service.add_recommendation(
                    conn, user, case_id, decode(body, RecommendationCreate)
                )
            try:
                edited = UUID(recommendation_id)
            except ValueError:
                raise InvalidInput("recommendation_id", "is not valid") from None
            update = decode({**body, "version": number(form, "version")}, RecommendationUpdate)
            return await service.update_recommendation(conn, user, edited, update)

        result = await attempt(conn, save)
        if isinstance(result, DomainError):
            case = await get_case(conn, user, case_id)
            own = await _own(conn, user, case_id)
            values = {**flatten(body), "version": text(form, "version")}
            return _form(request, user, case, own, values, back, result)
        return done(request, back, f"Recommendation saved (version {result.version}).")

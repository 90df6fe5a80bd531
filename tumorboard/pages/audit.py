"""The audit trail page (admins): search by actor (email or id), record and dates, a page at a time,
and the same search as CSV. Every search is itself audited (by the service)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.response import Template

from tumorboard.audit_trail.schemas import AuditPage, AuditQuery
from tumorboard.audit_trail.service import as_csv, search_audit
from tumorboard.auth.schemas import User
from tumorboard.db import queries
from tumorboard.errors import InvalidInput
from tumorboard.pages.common import NO_STORE, field_errors, page

AUDIT_PAGE = 50
Text = Annotated[str | None, Parameter(max_length=200)]


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, "must be a date (YYYY-MM-DD)") from None


async def audit_query(
    conn: asyncpg.Connection,
    zone: ZoneInfo,
    actor: str | None,
    subject: str | None,
    day_from: str | None,
    day_to: str | None,
) -> AuditQuery:
    """The page's filters as a search: the actor by email or id, whole days in the site's time zone."""
    actor_id = None
    if actor:
        try:
            actor_id = UUID(actor)
        except ValueError:
            actor_id = await queries.auth.get_user_id_by_email(conn, email=actor.strip().lower())
            if actor_id is None:
                raise InvalidInput("actor", "no user has this email") from None
    try:
        subject_id = UUID(subject) if subject else None
    except ValueError:
        raise InvalidInput("subject", "must be a record id (a UUID)") from None
    first, last = _day(day_from, "from"), _day(day_to, "to")
    return AuditQuery(
        actor_id=actor_id,
        subject_id=subject_id,
        occurred_from=datetime.combine(first, time(), zone) if first else None,
        occurred_to=datetime.combine(last + timedelta(days=1), time(), zone) if last else None,
    )


class AuditPages(Controller):
    """Who read, changed or was refused what, when and from where."""

    include_in_schema = False

    @get("/admin/audit")
    async def audit(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        user: User,
        state: State,
        actor: Text = None,
        subject: Text = None,
        day_from: Annotated[str | None, Parameter(query="from", max_length=10)] = None,
        day_to: Annotated[str | None, Parameter(query="to", max_length=10)] = None,
        cursor: Annotated[str | None, Parameter(max_length=500)] = None,
    ) -> Template:
        """The search form and a page of matching events, newest first."""
        values = {"actor": actor or "", "subject": subject or "", "from": day_from or "", "to": day_to or ""}
        try:
            query = await audit_query(
                conn, ZoneInfo(state.settings.time_zone), actor, subject, day_from, day_to
            )
        except InvalidInput as refused:
            found, errors = AuditPage(items=[], next_cursor=None), field_errors(refused)
        else:
            found, errors = await search_audit(conn, user, query, AUDIT_PAGE, cursor), {}
        return page(
            request,
            "pages/audit.html",
            status_code=400 if errors else 200,
            user=user,
            events=found.items,
            next_cursor=found.next_cursor,
            values=values,
            errors=errors,
            error="Some filters need attention." if errors else None,
        )

    @get("/admin/audit.csv")
    async def audit_csv(
        self,
        conn: asyncpg.Connection,
        user: User,
        state: State,
        actor: Text = None,
        subject: Text = None,
        day_from: Annotated[str | None, Parameter(query="from", max_length=10)] = None,
        day_to: Annotated[str | None, Parameter(query="to", max_length=10)] = None,
        cursor: Annotated[str | None, Parameter(max_length=500)] = None,
    ) -> Response[str]:
        """The same search as CSV (200 events at a time; the next page's cursor in X-Next-Cursor)."""
        query = await audit_query(conn, ZoneInfo(state.settings.time_zone), actor, subject, day_from, day_to)
        found = await search_audit(conn, user, query, 200, cursor)
        headers = {**NO_STORE, "Content-Disposition": 'attachment; filename="audit.csv"'}
        if found.next_cursor:
            headers["X-Next-Cursor"] = found.next_cursor
        return Response(as_csv(found), media_type="text/csv; charset=utf-8", headers=headers)

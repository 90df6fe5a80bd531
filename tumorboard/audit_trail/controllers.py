"""GET /audit: the audit trail for admins, as JSON or (Accept: text/csv) CSV."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, get
from litestar.params import Parameter

from tumorboard.audit_trail.schemas import AuditPage, AuditQuery
from tumorboard.audit_trail.service import as_csv, search_audit
from tumorboard.auth.schemas import User
from tumorboard.pagination import DEFAULT_LIMIT

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


class AuditController(Controller):
    """Who read, changed or was refused what, when and from where."""

    path = "/audit"
    tags = ["audit"]

    @get(operation_id="SearchAudit")
    async def search(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        user: User,
        actor: UUID | None = None,
        subject: UUID | None = None,
        occurred_from: Annotated[datetime | None, Parameter(query="from")] = None,
        occurred_to: Annotated[datetime | None, Parameter(query="to")] = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = DEFAULT_LIMIT,
        cursor: Annotated[str | None, Parameter(max_length=500)] = None,
    ) -> Response[AuditPage | str]:
        """Audit events by actor, subject (a record id) and time (`to` exclusive), newest first
        (admins); the search is itself audited. With Accept: text/csv, the page as CSV and the next
        page's cursor in the X-Next-Cursor header."""
        query = AuditQuery(
            actor_id=actor, subject_id=subject, occurred_from=occurred_from, occurred_to=occurred_to
        )
        page = await search_audit(conn, user, query, limit, cursor)
        if "text/csv" in request.headers.get("accept", ""):
            headers = {"Content-Disposition": 'attachment; filename="audit.csv"'}
            if page.next_cursor:
                headers["X-Next-Cursor"] = page.next_cursor
            return Response(as_csv(page), media_type=CSV_MEDIA_TYPE, headers=headers)
        return Response(page)

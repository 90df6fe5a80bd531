"""Decision endpoints: the chair records the board's decision; those who may see the case read them."""

from __future__ import annotations

from uuid import UUID

import asyncpg
from litestar import Controller, get, post

from tumorboard.auth.schemas import User
from tumorboard.cases.schemas import Case
from tumorboard.decisions import service
from tumorboard.decisions.schemas import Decision, DecisionCreate


class DecisionController(Controller):
    """The board's decisions on a case."""

    path = "/cases/{case_id:uuid}"
    tags = ["decisions"]

    @post("/decision", operation_id="RecordDecision", status_code=200)
    async def record_decision(
        self, conn: asyncpg.Connection, user: User, case_id: UUID, data: DecisionCreate
    ) -> Case:
        """Record or correct the board's decision (the chair of the case's meeting, while it is in progress):
        a plan makes the case discussed, a deferral sends it back to wait for a later meeting."""
        return await service.record_decision(conn, user, case_id, data)

    @get("/decisions", operation_id="ListDecisions")
    async def list_decisions(self, conn: asyncpg.Connection, user: User, case_id: UUID) -> list[Decision]:
        """Every decision recorded on the case, oldest first (as GET /cases/{id})."""
        return await service.list_decisions(conn, user, case_id)

"""Dead jobs in the API (admins)."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from litestar import Controller, get, post
from litestar.params import Parameter

from tumorboard.auth.schemas import User
from tumorboard.jobs import service
from tumorboard.jobs.schemas import DeadJob, DeadJobList

JobId = Annotated[int, Parameter(ge=1, le=2**63 - 1)]


class DeadJobController(Controller):
    """Jobs that used every attempt and failed."""

    path = "/admin/jobs/dead"
    tags = ["operations"]

    @get(operation_id="ListDeadJobs")
    async def list_dead_jobs(
        self, conn: asyncpg.Connection, user: User, limit: Annotated[int, Parameter(ge=1, le=500)] = 200
    ) -> DeadJobList:
        """The dead jobs, the most recently failed first (admins)."""
        return await service.list_dead_jobs(conn, user, limit)

    @post("/{job_id:int}/retry", operation_id="RetryDeadJob", status_code=202)
    async def retry(self, conn: asyncpg.Connection, user: User, job_id: JobId) -> DeadJob:
        """Run a dead job again with a fresh set of attempts (admins)."""
        return await service.retry_dead_job(conn, user, job_id)

"""Dead jobs for admins: what failed, how often and with which error class, and a retry button."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from tumorboard.auth.schemas import User
from tumorboard.jobs import service
from tumorboard.jobs.controllers import JobId
from tumorboard.pages.common import attempt, done_or_refused, page


class DeadJobPages(Controller):
    """The dead jobs page (admins)."""

    include_in_schema = False

    @get("/admin/jobs")
    async def list_dead_jobs(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User
    ) -> Template:
        """The jobs that used every attempt and failed, the most recent first."""
        found = await service.list_dead_jobs(conn, user)
        return page(request, "pages/dead_jobs.html", user=user, jobs=found.items)

    @post("/admin/jobs/{job_id:int}/retry")
    async def retry(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, job_id: JobId
    ) -> Redirect:
        """Run a dead job again with a fresh set of attempts."""
        result = await attempt(conn, lambda: service.retry_dead_job(conn, user, job_id))
        return done_or_refused(request, "/admin/jobs", result, f"Job {job_id} will run again.")

"""Dead jobs: the list, and a retry that gives a job a fresh set of attempts (admins only)."""

from __future__ import annotations

import asyncpg
import msgspec

from tumorboard import audit, outbox
from tumorboard.auth.access import require_role
from tumorboard.auth.schemas import User
from tumorboard.enums import Role
from tumorboard.errors import NotFound
from tumorboard.jobs.schemas import DeadJob, DeadJobList

SUBJECT = "job"


async def list_dead_jobs(conn: asyncpg.Connection, user: User, limit: int = 200) -> DeadJobList:
    """The dead jobs, the most recently failed first."""
    require_role(user, Role.ADMIN, action="list", subject_type=SUBJECT)
    rows = await outbox.list_dead_jobs(conn, limit)
    return DeadJobList(items=[msgspec.convert(dict(row), DeadJob) for row in rows])


async def retry_dead_job(conn: asyncpg.Connection, user: User, job_id: int) -> DeadJob:
    """Run a dead job again with a fresh set of attempts, once the caller's transaction commits."""
    require_role(user, Role.ADMIN, action="retry", subject_type=SUBJECT)
    row = await outbox.retry_dead_job(conn, job_id)
    if row is None:
        raise NotFound("No dead job with this id (it may have been retried already)")
    await audit.record(conn, user.id, "retry", SUBJECT, row["subject_id"])
    return msgspec.convert({name: row[name] for name in DeadJob.__struct_fields__}, DeadJob)

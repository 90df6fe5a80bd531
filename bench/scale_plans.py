"""The plans the scale benchmark records: EXPLAIN ANALYZE of the queries this work changed, run on
the large database with the values the service would send, planned as the service plans them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from bench import scale_data
from bench.scale_workload import COORDINATOR, chair_of_case, md5_uuid, user
from tumorboard.cases.search import CaseSearch, query_parameters
from tumorboard.db import queries
from tumorboard.enums import DiseaseSite

# The case list as it was before this benchmark: one predicate, case_visible_to, over every case.
LIST_BEFORE = """
SELECT c.id, c.status, c.meeting_id, c.assignment_note, c.presenter_id, c.disease_site, c.diagnosis,
       c.histology, c.stage, c.ecog, c.biomarkers, c.summary, c.question, c.urgency, c.discuss_by,
       c.absent_disciplines, c.discussion_closed_at, c.created_at, c.updated_at,
       p.mrn, p.given_name, p.family_name, p.birth_date, p.sex
FROM patient_case c
JOIN patient p ON p.id = c.patient_id
WHERE case_visible_to(c.presenter_id, c.meeting_id, $1, $2)
ORDER BY c.created_at DESC, c.id DESC
LIMIT 51
"""


async def plans(database_url: str, cases: int) -> dict[str, str]:
    """Plan and timing of the case list for each caller and search, and of the case read."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "SET plan_cache_mode = force_custom_plan; SET max_parallel_workers_per_gather = 0; SET jit = off"
        )
        patient = await conn.fetchrow(
            "SELECT mrn, family_name, given_name FROM patient WHERE id = $1", md5_uuid("p1234")
        )
        today = datetime.now(UTC).date()
        callers = {
            "a presenter": (user(scale_data.REVIEWERS), False),
            "a reviewer": (user(7), False),
            "a coordinator": (COORDINATOR, True),
        }
        searches = {
            "": (CaseSearch(), None),
            " searching a name": (CaseSearch(q=f"{patient['given_name']} {patient['family_name']}"), None),
            " searching an MRN": (CaseSearch(q=patient["mrn"]), None),
            " filtering by site, status and days": (
                CaseSearch(disease_site=DiseaseSite.BREAST, submitted_from=today - timedelta(days=21),
                           submitted_to=today - timedelta(days=7)),
                "finalized",
            ),
        }  # fmt: skip
        found: dict[str, str] = {}
        for caller, (user_id, sees_all) in callers.items():
            for label, (search, status) in searches.items():
                if label and caller == "a reviewer":
                    continue
                parameters = query_parameters(search, "UTC") | {
                    "user_id": user_id, "sees_all": sees_all, "mine": False, "status": status,
                    "meeting_id": None, "before_created_at": None, "before_id": None, "limit": 51,
                }  # fmt: skip
                found[f"list_cases, {caller}{label}"] = await _explain(conn, "cases.list_cases", parameters)
        for caller in ("a presenter", "a reviewer"):
            user_id, sees_all = callers[caller]
            rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {LIST_BEFORE}", user_id, sees_all)
            found[f"the list before (case_visible_to over every case), {caller}"] = "\n".join(
                r[0] for r in rows
            )
        period = {"period_start": today - timedelta(days=28), "period_end": today - timedelta(days=1)}
        report = {"board_id": md5_uuid("b3"), **period}
        found["list_presentations (the quality report), a board's last four weeks"] = await _explain(
            conn, "reports.list_presentations", report
        )
        decided = await conn.fetch(
            "SELECT DISTINCT meeting_id FROM board_decision WHERE board_id = $1 AND revision = 1"
            " AND decided_at >= $2::date AND decided_at < $3::date + 1",
            report["board_id"],
            period["period_start"],
            period["period_end"],
        )
        found["list_report_meetings (the quality report), a board's last four weeks"] = await _explain(
            conn, "reports.list_report_meetings", report | {"decision_meeting_ids": [r[0] for r in decided]}
        )
        undo = conn.transaction()  # the read writes its audit row: undone here
        await undo.start()
        try:
            middle = cases // 2
            read = {"id": md5_uuid(f"c{middle}"), "user_id": chair_of_case(middle), "sees_all": False}
            found["read_case_for_caller, its meeting's chair"] = await _explain(
                conn, "cases.read_case_for_caller", read | {"action": "read"}
            )
        finally:
            await undo.rollback()
        return found
    finally:
        await conn.close()


async def _explain(conn: asyncpg.Connection, name: str, parameters: dict[str, Any]) -> str:
    package, query = name.split(".")
    sql = getattr(getattr(queries, package), query).sql
    order = queries.driver_adapter.var_sorted[name]
    # Parameters the caller does not name (e.g. the audit row's request columns) are NULL.
    rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *[parameters.get(key) for key in order])
    return "\n".join(row[0] for row in rows)

"""The demo data `tumorboard dev` loads: a meeting its chair can run right away, and a later one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from tumorboard.demo import load_demo_data
from tumorboard.meetings.agenda import send_agenda
from tumorboard.recommendations.agreement import agreement
from tumorboard.recommendations.service import recommendations_of


async def test_the_demo_has_a_meeting_to_run_within_the_hour_with_its_recommendations_in(
    pool: asyncpg.Pool, service_urls: tuple[str, str]
) -> None:
    await load_demo_data(service_urls[0])
    await load_demo_data(service_urls[0])  # a second start changes nothing
    meetings = await pool.fetch(
        "SELECT id, starts_at, status, agenda_locked_at, case_count FROM meeting ORDER BY starts_at"
    )
    assert len(meetings) == 2
    soon, later = meetings
    now = datetime.now(UTC)
    assert now < soon["starts_at"] <= now + timedelta(hours=1)  # its chair may start it now
    assert soon["status"] == "scheduled" and soon["agenda_locked_at"] is not None
    assert soon["case_count"] == 3 and later["case_count"] == 1
    assert later["starts_at"] > now + timedelta(days=6)

    cases = await pool.fetch(
        "SELECT c.id FROM patient_case c JOIN agenda_item a ON a.case_id = c.id"
        " WHERE c.meeting_id = $1 AND c.status = 'scheduled' ORDER BY a.position",
        soon["id"],
    )
    shapes = []
    async with pool.acquire() as conn:
        for row in cases:
            recommendations = await recommendations_of(conn, row["id"])
            agreed = agreement(recommendations)
            shapes.append(
                (len({r.discipline for r in recommendations}), len(agreed.proposals), agreed.unanimous)
            )
    # All agree; one differing view; two agree while medical oncology has not recommended yet.
    assert shapes == [(3, 1, True), (3, 2, False), (2, 1, True)]

    # The worker sends the locked agenda: the chair hears of it, the pack is ready.
    async with pool.acquire() as conn:
        assert await send_agenda(conn, soon["id"])
    chair_notices = await pool.fetch(
        "SELECT n.kind FROM notification n JOIN app_user u ON u.id = n.user_id"
        " WHERE u.email = 'chair@example.org'"
    )
    assert [row["kind"] for row in chair_notices] == ["agenda"]
    assert await pool.fetchval("SELECT count(*) FROM meeting_pack WHERE meeting_id = $1", soon["id"]) == 1

"""The assignment engine: put waiting cases on the earliest meetings that fit them, in priority order.

The rule itself is in `rules.py`. A pass takes every waiting case of a group of disease sites in
priority order (urgent first, then cases a board returned to the waiting list, deferred or left
undecided at a closed meeting, then the earliest discuss-by date, then the oldest submission) and
gives each the earliest fitting meeting, so a case never loses a seat to one of lower priority.
Sites whose boards share meetings form one group; a transaction-scoped advisory lock per group
serialises passes over it, so racing workers keep that order, while groups that share no meeting
are assigned in parallel.

Capacity and the time budget are enforced by the database whatever happens here (a trigger
counts the cases of a meeting, CHECKs refuse more than its capacity or its duration). A pass
locks cases first, then meetings, like every other writer, so nothing deadlocks.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import asyncpg

from tumorboard.cases.lifecycle import CaseEvent, statement
from tumorboard.db import Record, fetch_all, queries
from tumorboard.enums import Urgency
from tumorboard.meetings.rules import Deferral, Slot, WaitingCase, explain

# Cases taken per pass; more wait for the next pass (each change of meetings starts one).
MAX_CASES_PER_PASS = 50_000
# A meeting's local date can differ from its UTC date by up to 14 hours.
_DAY_MARGIN = timedelta(days=2)


@dataclass
class Plan:
    """The outcome of one pass: where cases go and what the others are told."""

    placed: dict[UUID, UUID] = field(default_factory=dict)
    placed_notes: dict[UUID, str | None] = field(default_factory=dict)
    waiting_notes: dict[UUID, str] = field(default_factory=dict)


def site_groups(board_sites: Iterable[list[str]], sites: Iterable[str]) -> list[list[str]]:
    """The groups of disease sites (linked by boards covering several) that contain `sites`."""
    parent: dict[str, str] = {}

    def root(site: str) -> str:
        parent.setdefault(site, site)
        while parent[site] != site:
            parent[site] = parent[parent[site]]
            site = parent[site]
        return site

    for covered in board_sites:
        for site in covered[1:]:
            parent[root(site)] = root(covered[0])
    groups: dict[str, set[str]] = defaultdict(set)
    for site in {*parent, *sites}:
        groups[root(site)].add(site)
    wanted = {root(site) for site in sites}
    return sorted((sorted(groups[key]) for key in wanted), key=lambda group: group[0])


class Queue:
    """The meetings one kind of case may join, earliest first; full ones are skipped for good
    (within a pass, meetings only fill up)."""

    def __init__(self, slots: list[Slot]) -> None:
        self.slots = slots
        self.start = 0

    def earliest_fit(self, case: WaitingCase) -> Slot | None:
        """The earliest meeting with room on or before the case's discuss-by date."""
        while self.start < len(self.slots) and not self.slots[self.start].has_room():
            self.start += 1
        latest = None
        if case.discuss_by is not None:
            latest = datetime.combine(case.discuss_by, datetime.min.time(), UTC) + _DAY_MARGIN
        for slot in itertools.islice(self.slots, self.start, None):
            if latest is not None and slot.starts_at > latest:
                return None
            if slot.has_room() and slot.in_time(case.discuss_by):
                return slot
        return None


def plan_assignment(
    cases: list[Record], meetings: list[Record], covered_sites: set[str], now: datetime
) -> Plan:
    """Give each case, in the given (priority) order, the earliest meeting that fits it."""
    slots = sorted((Slot.from_row(row) for row in meetings), key=lambda s: (s.starts_at, s.id))
    by_site: dict[str, list[Slot]] = defaultdict(list)
    for slot in slots:
        for site in slot.sites:
            by_site[site].append(slot)
    queues: dict[tuple[str, str], Queue] = {}
    for site, site_slots in by_site.items():
        quorate = [slot for slot in site_slots if not slot.missing]
        queues[site, Urgency.URGENT] = Queue(quorate)
        queues[site, Urgency.ROUTINE] = Queue([s for s in quorate if s.open_to(Urgency.ROUTINE, now)])
    plan = Plan()
    unplaced: list[tuple[Record, WaitingCase]] = []
    for row in cases:
        case = WaitingCase(row["id"], row["disease_site"], row["urgency"], row["discuss_by"])
        queue = queues.get((case.disease_site, case.urgency))
        chosen = queue.earliest_fit(case) if queue else None
        if chosen is None:
            unplaced.append((row, case))
            continue
        chosen.take()
        deferral = Deferral.from_row(row)
        plan.placed[case.id] = chosen.id
        plan.placed_notes[case.id] = deferral.placed_note() if deferral else None
    reasons: dict[tuple[str, str, date | None], str] = {}
    for row, case in unplaced:
        key = (case.disease_site, case.urgency, case.discuss_by)
        if key not in reasons:
            reasons[key] = explain(case, by_site[case.disease_site], case.disease_site in covered_sites, now)
        deferral = Deferral.from_row(row)
        plan.waiting_notes[case.id] = deferral.waiting_note(reasons[key]) if deferral else reasons[key]
    return plan


async def _assign_group(
    conn: asyncpg.Connection,
    sites: list[str],
    covered: set[str],
    *,
    wait: bool,
    unless_since: datetime | None = None,
) -> Plan | None:
    """One pass over a group of sites (`covered`: the sites some board covers), in the caller's transaction.

    None when another pass holds the group (without `wait`), or when, once the lock is ours, the
    last pass over the group began after `unless_since` (it saw everything committed before then).
    """
    key = sites[0]
    if wait:
        await queries.meetings.lock_assignment_sites(conn, key=key)
    elif not await queries.meetings.try_lock_assignment_sites(conn, key=key):
        return None
    if unless_since is not None:
        last = await queries.meetings.get_assignment_pass_start(conn, key=key)
        if last is not None and last > unless_since:
            return None
    await queries.meetings.begin_assignment_pass(conn, key=key)
    cases = await fetch_all(queries.meetings.lock_waiting_cases(conn, sites=sites, limit=MAX_CASES_PER_PASS))
    if not cases:
        return Plan()
    meetings = await fetch_all(queries.meetings.lock_upcoming_meetings(conn, sites=sites))
    plan = plan_assignment(cases, meetings, covered, await queries.meetings.get_assignment_clock(conn))
    await _apply(conn, plan)
    return plan


async def _apply(conn: asyncpg.Connection, plan: Plan) -> None:
    if plan.placed:
        ids = list(plan.placed)
        meeting_ids = [plan.placed[case_id] for case_id in ids]
        await queries.meetings.place_cases(
            conn,
            ids=ids,
            meeting_ids=meeting_ids,
            notes=[plan.placed_notes[case_id] for case_id in ids],
            **statement(CaseEvent.ASSIGN),
        )
        await queries.meetings.settle_deferrals(conn, case_ids=ids, meeting_ids=meeting_ids)
        await queries.meetings.record_assignments(conn, case_ids=ids)
    if plan.waiting_notes:
        await queries.meetings.note_waiting_cases(
            conn, ids=list(plan.waiting_notes), notes=list(plan.waiting_notes.values())
        )


async def _groups(conn: asyncpg.Connection, sites: Iterable[str]) -> tuple[list[list[str]], set[str]]:
    """The groups of `sites`, and the sites some board covers."""
    board_sites = [row["disease_sites"] for row in await fetch_all(queries.meetings.list_board_sites(conn))]
    return site_groups(board_sites, sites), {site for covered in board_sites for site in covered}


async def assign_case(conn: asyncpg.Connection, case_id: UUID | str) -> UUID | None:
    """Assign the waiting cases competing with this one, in the caller's transaction; return
    the meeting this case got, or None (already placed, withdrawn, no meeting fits: see its note,
    or a pass that began after this call, and so saw the case, already dealt with it)."""
    case_id = UUID(str(case_id))
    since = await queries.meetings.get_wall_clock(conn)
    site = await queries.meetings.get_waiting_case_site(conn, id=case_id)
    if site is None:
        return None
    groups, covered = await _groups(conn, [site])
    for group in groups:
        plan = await _assign_group(conn, group, covered, wait=True, unless_since=since)
        if plan is not None and case_id in plan.placed:
            return plan.placed[case_id]
    return None


async def assign_waiting_cases(conn: asyncpg.Connection) -> int:
    """Offer every waiting case to the meetings, one transaction per group of sites; return how
    many were placed. A group another worker is assigning is done last, after waiting for it,
    unless a pass over it began after this call did (that pass saw everything this one would)."""
    async with conn.transaction():
        since = await queries.meetings.get_wall_clock(conn)
        groups, covered = await _groups(conn, await queries.meetings.list_waiting_sites(conn))
    placed = 0
    busy = []
    for group in groups:
        async with conn.transaction():
            plan = await _assign_group(conn, group, covered, wait=False)
        if plan is None:
            busy.append(group)
        else:
            placed += len(plan.placed)
    for group in busy:
        async with conn.transaction():
            plan = await _assign_group(conn, group, covered, wait=True, unless_since=since)
            placed += len(plan.placed) if plan else 0
    return placed

"""The assignment engine: put waiting cases on the earliest meetings that fit them, in priority order.

The rule itself is in `rules.py`. A full pass takes every waiting case of a group of disease sites
in priority order (urgent first, then cases a board returned to the waiting list, deferred or left
undecided at a closed meeting, then the earliest discuss-by date, then the oldest submission) and
gives each the earliest fitting meeting, so a case never loses a seat to one of lower priority.
Sites whose boards share meetings form one group; a transaction-scoped advisory lock per group
serialises passes over it, so racing workers keep that order, while groups that share no meeting
are assigned in parallel.

New cases need less. Every pass stores a digest of what the rule read of the group's upcoming
meetings, as it left them. While that digest still matches the meetings, nothing has given the
cases left waiting a chance (no seat freed, no meeting added or changed; time passing only closes
meetings), so a pass for new cases takes just the cases no pass has looked at yet (those without a
note, the batch among them, in priority order even when batches run out of order): its cost
follows the new cases, not the waiting list. When the meetings changed in any way, it is a full pass.

Capacity and the time budget are enforced by the database whatever happens here (a trigger
counts the cases of a meeting, CHECKs refuse more than its capacity or its duration). A pass
locks cases first, then meetings, like every other writer, so nothing deadlocks.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
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


def upcoming_slots(meetings: list[Record]) -> list[Slot]:
    """The group's upcoming meetings as the rule sees them, earliest first."""
    return sorted((Slot.from_row(row) for row in meetings), key=lambda s: (s.starts_at, s.id))


def meetings_digest(slots: list[Slot], sites: list[str], covered_sites: set[str]) -> str:
    """A digest of everything the rule reads of a group's meetings (and which of its sites a board
    covers): equal digests mean no waiting case can fit where it did not before."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr((sites, sorted(covered_sites.intersection(sites)))).encode())
    for slot in sorted(slots, key=lambda s: s.id):
        rooms = (slot.cases_left, slot.minutes_left, slot.minutes_per_case)
        when = (slot.starts_at, slot.local_date, slot.deadline, slot.agenda_locked)
        digest.update(repr((slot.id, sorted(slot.sites), when, rooms, slot.missing)).encode())
    return digest.hexdigest()


def plan_assignment(cases: list[Record], slots: list[Slot], covered_sites: set[str], now: datetime) -> Plan:
    """Give each case, in the given (priority) order, the earliest meeting that fits it; the slots
    are booked as it goes."""
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


class _MeetingsChanged(Exception):
    """The group's meetings are not as the last pass left them: only a full pass will do."""


async def _assign_group(
    conn: asyncpg.Connection,
    sites: list[str],
    covered: set[str],
    *,
    wait: bool,
    unless_since: datetime | None = None,
    only: Sequence[UUID] | None = None,
) -> Plan | None:
    """One pass over a group of sites (`covered`: the sites some board covers), in the caller's transaction.

    With `only`, when the meetings are as the last pass left them, the pass takes just those cases
    and the others no pass has looked at yet.
    None when another pass holds the group (without `wait`), or when, once the lock is ours, the
    last full pass over the group began after `unless_since` (it saw everything committed before then).
    """
    key = sites[0]
    if wait:
        await queries.meetings.lock_assignment_sites(conn, key=key)
    elif not await queries.meetings.try_lock_assignment_sites(conn, key=key):
        return None
    last = await queries.meetings.get_assignment_pass(conn, key=key)
    if unless_since is not None and last is not None and last["started_at"] > unless_since:
        return None
    if only is not None and last is not None and last["meetings_digest"] is not None:
        try:
            return await _assign_only(conn, key, sites, covered, only, last["meetings_digest"])
        except _MeetingsChanged:
            pass
    await queries.meetings.begin_assignment_pass(conn, key=key)
    cases = await fetch_all(queries.meetings.lock_waiting_cases(conn, sites=sites, limit=MAX_CASES_PER_PASS))
    slots = upcoming_slots(await fetch_all(queries.meetings.lock_upcoming_meetings(conn, sites=sites)))
    plan = plan_assignment(cases, slots, covered, await queries.meetings.get_assignment_clock(conn))
    await _apply(conn, plan)
    # Cases beyond the limit were not looked at: the next pass must be a full one again.
    digest = meetings_digest(slots, sites, covered) if len(cases) < MAX_CASES_PER_PASS else None
    await queries.meetings.record_assignment_digest(conn, key=key, digest=digest)
    return plan


async def _assign_only(
    conn: asyncpg.Connection,
    key: str,
    sites: list[str],
    covered: set[str],
    case_ids: Sequence[UUID],
    digest: str,
) -> Plan:
    """A pass over these cases and the waiting ones no pass has looked at yet, valid only while the
    meetings match `digest`."""
    cases = await fetch_all(queries.meetings.lock_cases_to_assign(conn, ids=list(case_ids), sites=sites))
    if not cases:
        return Plan()
    async with conn.transaction():  # a savepoint: rolled back, it releases the meetings for a full pass
        slots = upcoming_slots(await fetch_all(queries.meetings.lock_upcoming_meetings(conn, sites=sites)))
        if meetings_digest(slots, sites, covered) != digest:
            raise _MeetingsChanged
        plan = plan_assignment(cases, slots, covered, await queries.meetings.get_assignment_clock(conn))
        await _apply(conn, plan)
        await queries.meetings.record_assignment_digest(
            conn, key=key, digest=meetings_digest(slots, sites, covered)
        )
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


async def assign_cases(conn: asyncpg.Connection, case_ids: Sequence[UUID]) -> dict[UUID, UUID]:
    """Assign newly waiting cases (a batch of submissions), in the caller's transaction, with one
    pass per group of sites; return the meeting each of them got (cases already placed,
    withdrawn or fitting no meeting are absent: see their notes)."""
    sites = await queries.meetings.list_waiting_sites_of(conn, ids=list(case_ids))
    if not sites:
        return {}
    groups, covered = await _groups(conn, sites)
    placed: dict[UUID, UUID] = {}
    for group in groups:
        plan = await _assign_group(conn, group, covered, wait=True, only=case_ids)
        placed.update(plan.placed if plan else {})
    return {case_id: placed[case_id] for case_id in case_ids if case_id in placed}


async def assign_case(conn: asyncpg.Connection, case_id: UUID | str) -> UUID | None:
    """Assign one newly waiting case, in the caller's transaction; return its meeting, or None."""
    case_id = UUID(str(case_id))
    return (await assign_cases(conn, [case_id])).get(case_id)


async def assign_waiting_cases(conn: asyncpg.Connection, meeting_id: UUID | None = None) -> int:
    """Offer the waiting cases to the meetings after a meeting changed (the groups of its board's
    sites; every group with waiting cases when no meeting is named), one transaction per group;
    return how many were placed. A group another worker is assigning is done last, after waiting
    for it, unless a full pass over it began after this call did (it saw everything this one would)."""
    async with conn.transaction():
        since = await queries.meetings.get_wall_clock(conn)
        sites = await queries.meetings.get_meeting_sites(conn, id=meeting_id) if meeting_id else None
        if sites is None:
            sites = await queries.meetings.list_waiting_sites(conn)
        groups, covered = await _groups(conn, sites)
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

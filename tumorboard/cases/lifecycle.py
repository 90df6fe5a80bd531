"""The case lifecycle: one transition table, (status, event) -> status, that every status change uses.

A single case changes through `next_status`, which refuses an event its status does not allow. The
set-based statements (a cancelled meeting sends its cases back, an assignment pass places hundreds)
take their `from_statuses` and `to_status` parameters from `event_sources` and `event_target`, so no
SQL file names a status on its own. The database holds the same rule: a trigger refuses any status
change whose (old, new) pair is not in `case_status_transition` (migration 0007), a table that
`tests/test_lifecycle.py` proves equal to `allowed_pairs()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from tumorboard.enums import CaseStatus
from tumorboard.errors import Conflict


class CaseEvent(StrEnum):
    """What happens to a case."""

    ASSIGN = "assign"  # the assignment engine puts a waiting case on a meeting
    MOVE = "move"  # a coordinator puts a case on a meeting by hand
    MEETING_CANCELLED = "meeting_cancelled"
    QUORUM_LOST = "quorum_lost"  # the meeting's participants no longer cover the board's disciplines
    MEETING_MOVED_LATE = "meeting_moved_late"  # the meeting moved past the case's discuss-by date
    NOT_READY_AT_LOCK = "not_ready_at_lock"  # a routine case not ready when the agenda locks
    DECIDE = "decide"  # the chair records the board's plan
    CORRECT = "correct"  # the chair corrects the recorded plan while the meeting runs
    DEFER = "defer"  # the chair defers the case at the meeting, with a reason
    MEETING_CLOSED = "meeting_closed"  # the meeting closed without a decision on the case
    SIGN = "sign"  # the chair signs the care plan
    AMEND = "amend"  # the chair reopens a signed care plan
    WITHDRAW = "withdraw"  # the presenter withdraws the case


_S = CaseStatus
_E = CaseEvent

TRANSITIONS: Mapping[tuple[CaseStatus, CaseEvent], CaseStatus] = MappingProxyType(
    {
        (_S.SUBMITTED, _E.ASSIGN): _S.SCHEDULED,
        (_S.SUBMITTED, _E.MOVE): _S.SCHEDULED,
        (_S.SCHEDULED, _E.MOVE): _S.SCHEDULED,
        (_S.SCHEDULED, _E.MEETING_CANCELLED): _S.SUBMITTED,
        (_S.SCHEDULED, _E.QUORUM_LOST): _S.SUBMITTED,
        (_S.SCHEDULED, _E.MEETING_MOVED_LATE): _S.SUBMITTED,
        (_S.SCHEDULED, _E.NOT_READY_AT_LOCK): _S.SUBMITTED,
        (_S.SCHEDULED, _E.DECIDE): _S.DISCUSSED,
        (_S.SCHEDULED, _E.DEFER): _S.SUBMITTED,
        (_S.SCHEDULED, _E.MEETING_CLOSED): _S.SUBMITTED,
        (_S.DISCUSSED, _E.CORRECT): _S.DISCUSSED,
        (_S.DISCUSSED, _E.SIGN): _S.FINALIZED,
        (_S.FINALIZED, _E.AMEND): _S.DISCUSSED,
        (_S.SUBMITTED, _E.WITHDRAW): _S.WITHDRAWN,
        (_S.SCHEDULED, _E.WITHDRAW): _S.WITHDRAWN,
        (_S.DISCUSSED, _E.WITHDRAW): _S.WITHDRAWN,
    }
)

INITIAL = CaseStatus.SUBMITTED

# The statuses a case is still open in (not yet final, not withdrawn): those it can be withdrawn from.
OPEN_STATUSES = frozenset(status for (status, event) in TRANSITIONS if event == CaseEvent.WITHDRAW)
# Not yet decided by a board: waiting, or on a meeting's agenda (what a case may still be moved in).
AWAITING_DECISION = frozenset(status for (status, event) in TRANSITIONS if event == CaseEvent.MOVE)
# On a meeting with the plan not final: the board prepares, decides and may still correct it.
UNDER_DISCUSSION = frozenset({CaseStatus.SCHEDULED, CaseStatus.DISCUSSED})


class IllegalTransition(Conflict):
    """An event the case's status does not allow (409)."""


def allows(status: str, event: CaseEvent) -> bool:
    """Whether a case in `status` may undergo `event`."""
    return (CaseStatus(status), event) in TRANSITIONS


def next_status(status: str, event: CaseEvent) -> CaseStatus:
    """The status `event` leads to from `status`; IllegalTransition when the table has no such step."""
    found = TRANSITIONS.get((CaseStatus(status), event))
    if found is None:
        raise IllegalTransition(f"A {status} case cannot be {_PAST[event]}")
    return found


def event_sources(event: CaseEvent) -> list[str]:
    """The statuses `event` applies to, for set-based statements (`status = ANY(:from_statuses)`)."""
    return sorted(str(status) for (status, each) in TRANSITIONS if each == event)


def event_target(event: CaseEvent) -> str:
    """The one status `event` leads to, whatever the status it starts from."""
    return str(next(target for (_, each), target in TRANSITIONS.items() if each == event))


def statement(event: CaseEvent) -> dict[str, object]:
    """The `from_statuses` and `to_status` parameters of a set-based statement that applies `event`."""
    return {"from_statuses": event_sources(event), "to_status": event_target(event)}


def allowed_pairs() -> set[tuple[str, str]]:
    """The (from, to) status changes the table allows: what the database trigger checks."""
    return {(str(start), str(end)) for (start, _), end in TRANSITIONS.items() if start != end}


def mermaid() -> str:
    """The lifecycle as a Mermaid state diagram, generated from the table (docs/lifecycle.md shows it)."""
    edges: dict[tuple[str, str], list[str]] = {}
    for (start, event), end in TRANSITIONS.items():
        edges.setdefault((str(start), str(end)), []).append(str(event))
    finals = {str(status) for status in CaseStatus} - {str(start) for start, _ in TRANSITIONS}
    lines = ["stateDiagram-v2", f"    [*] --> {INITIAL}"]
    lines += [f"    {start} --> {end}: {', '.join(events)}" for (start, end), events in edges.items()]
    lines += [f"    {status} --> [*]" for status in sorted(finals)]
    return "\n".join(lines)


def table_markdown() -> str:
    """The transition table as a Markdown table (docs/lifecycle.md shows it)."""
    rows = ["| from | event | to |", "|---|---|---|"]
    rows += [f"| `{start}` | `{event}` | `{end}` |" for (start, event), end in TRANSITIONS.items()]
    return "\n".join(rows)


_PAST = {
    CaseEvent.ASSIGN: "assigned to a meeting",
    CaseEvent.MOVE: "moved to a meeting",
    CaseEvent.MEETING_CANCELLED: "returned by a cancelled meeting",
    CaseEvent.QUORUM_LOST: "returned for want of quorum",
    CaseEvent.MEETING_MOVED_LATE: "returned by a meeting moved past its discuss-by date",
    CaseEvent.NOT_READY_AT_LOCK: "taken off the agenda",
    CaseEvent.DECIDE: "decided by the board",
    CaseEvent.CORRECT: "given a corrected plan",
    CaseEvent.DEFER: "deferred",
    CaseEvent.MEETING_CLOSED: "returned by its closed meeting",
    CaseEvent.SIGN: "signed",
    CaseEvent.AMEND: "amended",
    CaseEvent.WITHDRAW: "withdrawn",
}

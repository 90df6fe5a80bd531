"""Submitting cases, who may see them, and their lifecycle."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import msgspec

from tumorboard import audit, outbox
from tumorboard.auth.access import require_role
from tumorboard.auth.caller import Caller, without_caller
from tumorboard.auth.schemas import User
from tumorboard.cases.lifecycle import UNDER_DISCUSSION, CaseEvent, next_status
from tumorboard.cases.policy import CaseFacts, can_move, can_withdraw
from tumorboard.cases.schemas import Case, CaseCreate, CaseMove, CasePage
from tumorboard.cases.search import NO_SEARCH, TIMEOUT_MILLISECONDS, CaseSearch, query_parameters
from tumorboard.db import Record, fetch_all, queries
from tumorboard.enums import CaseStatus, Role
from tumorboard.errors import AccessDenied, Conflict, InvalidInput, NotFound, NotReady
from tumorboard.logs import current_request_id
from tumorboard.meetings import moves
from tumorboard.pagination import check_limit, decode_cursor, encode_cursor
from tumorboard.policy import enforce
from tumorboard.settings import current_settings

_PATIENT_FIELDS = ("mrn", "given_name", "family_name", "birth_date", "sex")


def case_from_row(row: Record) -> Case:
    """A case struct from a get_case or list_cases row (with its preparation when the row has it)."""
    fields = without_caller(row)
    fields["patient"] = {name: fields.pop(name) for name in _PATIENT_FIELDS}
    if fields.get("patient_mismatch") is None:  # shown to coordinators only
        fields.pop("patient_mismatch", None)
    required = fields.pop("required_disciplines", None)
    recommended = fields.pop("recommended_disciplines", None) or []
    if required is not None and fields["status"] in UNDER_DISCUSSION:
        fields["preparation"] = {
            "recommended": sorted(recommended),
            "missing": [d for d in required if d not in recommended],
        }
    return msgspec.convert(fields, Case)


async def change_status(conn: asyncpg.Connection, case_id: UUID, status: str, event: CaseEvent) -> CaseStatus:
    """Move one locked case along the lifecycle (409 when its status does not allow the event)."""
    target = next_status(status, event)
    if target != status:
        await queries.cases.change_case_status(conn, id=case_id, to_status=target, from_statuses=[status])
    return target


def check_may_submit(user: User) -> None:
    """Only presenters submit cases (403, audited, for anyone else). The submission's statement holds
    the same rule for the caller it finds by their token: it writes nothing for anyone else."""
    require_role(user, Role.PRESENTER, action="create", subject_type="case")


async def submit_case(
    conn: asyncpg.Connection,
    user: User | Caller,
    data: CaseCreate,
    body: bytes,
    idempotency_key: str | None,
) -> Case:
    """Create a case waiting for a meeting; a repeated Idempotency-Key returns the first case.

    One statement (with the caller's token, when given a Caller that names one): atomic without a
    transaction around it."""
    caller = user if isinstance(user, Caller) else Caller(user=user)
    if caller.user is not None:
        check_may_submit(caller.user)
    if data.discuss_by is not None and data.discuss_by < datetime.now(UTC).date():
        await caller.check()  # a bad token is refused first
        raise InvalidInput("discuss_by", "must not be in the past")
    fingerprint = hashlib.sha256(body).digest()
    row = await queries.cases.insert_case_for_patient(
        conn,
        **{name: getattr(data.patient, name) for name in _PATIENT_FIELDS},
        **caller.parameters(),
        disease_site=data.disease_site,
        diagnosis=msgspec.to_builtins(data.diagnosis),
        histology=data.histology,
        stage=msgspec.to_builtins(data.stage),
        ecog=data.ecog,
        biomarkers=msgspec.to_builtins(data.biomarkers),
        summary=data.summary,
        question=data.question,
        urgency=data.urgency,
        discuss_by=data.discuss_by,
        prior_treatments=msgspec.to_builtins(data.prior_treatments),
        comorbidities=msgspec.to_builtins(data.comorbidities),
        treatment_started=data.treatment_started,
        referrer=msgspec.to_builtins(data.referrer),
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
        job=outbox.ASSIGN_CASE,
        **audit.context_columns(),
        request_id=current_request_id(),
    )
    user = caller.confirm(row)
    if caller.user is None:  # the token's user: the statement wrote nothing unless they present cases
        check_may_submit(user)
    if row["id"] is None:  # this Idempotency-Key made a case already: a retry
        return await _replay(conn, user, idempotency_key, fingerprint)
    return _new_case(row, user.id, data)


def _new_case(row: Record, presenter_id: UUID, data: CaseCreate) -> Case:
    """The case just inserted, built from what was sent (no second read)."""
    return Case(
        id=row["id"],
        status=CaseStatus.SUBMITTED,
        meeting_id=None,
        assignment_note=None,
        presenter_id=presenter_id,
        patient=data.patient,
        disease_site=data.disease_site,
        diagnosis=data.diagnosis,
        histology=data.histology,
        stage=data.stage,
        ecog=data.ecog,
        biomarkers=data.biomarkers,
        summary=data.summary,
        question=data.question,
        urgency=data.urgency,
        discuss_by=data.discuss_by,
        absent_disciplines=[],
        discussion_closed_at=None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        prior_treatments=data.prior_treatments,
        comorbidities=data.comorbidities,
        treatment_started=data.treatment_started,
        referrer=data.referrer,
    )


async def _replay(
    conn: asyncpg.Connection, user: User, idempotency_key: str | None, fingerprint: bytes
) -> Case:
    """The case a retried submission made first, if the retry sent the same body."""
    existing = await queries.cases.get_case_by_idempotency_key(
        conn, presenter_id=user.id, idempotency_key=idempotency_key
    )
    if existing["request_fingerprint"] != fingerprint:
        raise Conflict("This Idempotency-Key was already used with a different request body")
    await audit.record(conn, user.id, "read", "case", existing["id"])
    return await load_case(conn, existing["id"])


async def load_case(conn: asyncpg.Connection, case_id: UUID) -> Case:
    """A case by id, without an access check (callers check first)."""
    row = await queries.cases.get_case(conn, id=case_id)
    if row is None:
        raise NotFound("No such case")
    return case_from_row(row)


async def get_case(
    conn: asyncpg.Connection, user: User | Caller, case_id: UUID, *, action: str = "read"
) -> Case:
    """A case for a caller allowed to see it; the read is audited (one statement, with the caller's
    token when given a Caller that names one)."""
    caller = user if isinstance(user, Caller) else Caller(user=user)
    row = await queries.cases.read_case_for_caller(
        conn, id=case_id, action=action, **caller.parameters(), **audit.context_columns()
    )
    caller.confirm(row)
    if row["id"] is None:
        raise NotFound("No such case")
    if not row["caller_may_view"]:
        raise AccessDenied(
            "Only the case's presenter, its meeting's participants and coordinators may see it",
            action=action,
            subject_type="case",
            subject_id=case_id,
        )
    return case_from_row(row)


async def list_cases(
    conn: asyncpg.Connection,
    user: User,
    *,
    status: CaseStatus | None,
    meeting_id: UUID | None,
    mine: bool,
    limit: int,
    cursor: str | None,
    search: CaseSearch = NO_SEARCH,
) -> CasePage:
    """The cases the caller may see, newest first, filtered, one page at a time; each read is audited.

    The query is planned for the filters of this call and bounded by a statement timeout; a search
    that would run longer is refused with a 400 naming `q` (a plain list never comes near it)."""
    before_created_at, before_id = decode_cursor(cursor, tuple[datetime, UUID]) if cursor else (None, None)
    parameters = query_parameters(search, current_settings().time_zone)
    try:
        async with conn.transaction():
            await queries.cases.plan_case_list(conn, timeout_ms=TIMEOUT_MILLISECONDS)
            sees_all = user.has_role(Role.COORDINATOR)
            filters = {
                "status": status,
                "meeting_id": meeting_id,
                "before_created_at": before_created_at,
                "before_id": before_id,
                "limit": check_limit(limit) + 1,
                **parameters,
            }
            if sees_all and not mine:
                rows = await fetch_all(queries.cases.list_every_case(conn, **filters))
            else:
                rows = await fetch_all(
                    queries.cases.list_cases(conn, sees_all=sees_all, user_id=user.id, mine=mine, **filters)
                )
            items = [case_from_row(row) for row in rows[:limit]]
            await audit.record_reads(conn, user.id, "case", [case.id for case in items])
    except asyncpg.QueryCanceledError:
        if not search.is_search:
            raise NotReady("The case list is busy; retry in a few seconds") from None
        raise InvalidInput(
            "q" if search.q else "filters", "matches too many cases to search in time; add words or filters"
        ) from None
    last = items[-1] if len(rows) > limit else None
    return CasePage(items=items, next_cursor=encode_cursor(last.created_at, last.id) if last else None)


async def move_case(conn: asyncpg.Connection, user: User, case_id: UUID, data: CaseMove) -> Case:
    """A coordinator puts a case on a meeting by hand; the assignment rule still holds."""
    case = await queries.cases.lock_case(conn, id=case_id)
    if case is None:
        raise NotFound("No such case")
    enforce(can_move(user, CaseFacts.of(case)), action="move", subject_type="case", subject_id=case_id)
    await moves.move_case(conn, user.id, case_id, data.meeting_id)
    return await load_case(conn, case_id)


async def withdraw_case(conn: asyncpg.Connection, user: User, case_id: UUID) -> Case:
    """The presenter withdraws their case; it leaves its meeting."""
    case = await queries.cases.lock_case(conn, id=case_id)
    if case is None:
        raise NotFound("No such case")
    enforce(
        can_withdraw(user, CaseFacts.of(case)), action="withdraw", subject_type="case", subject_id=case_id
    )
    await change_status(conn, case_id, case["status"], CaseEvent.WITHDRAW)
    await audit.record(conn, user.id, "withdraw", "case", case_id)
    return await load_case(conn, case_id)

"""Domain errors raised by services; the web layer maps each to its HTTP status."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True, slots=True)
class AuditNote:
    """What a refusal records in the audit trail once its transaction has rolled back."""

    action: str
    subject_type: str
    subject_id: UUID | None = None


class DomainError(Exception):
    """A request the domain refuses, with a message safe to show (never patient data)."""

    status_code = 400
    audit: AuditNote | None = None

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(DomainError):
    """Input that parses but breaks a domain rule; names the field."""

    status_code = 400

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"Invalid {field}: {message}")
        self.field = field
        self.message = message


class NotAuthenticated(DomainError):
    """No valid credentials; a failed sign-in is audited."""

    status_code = 401

    def __init__(self, detail: str, *, audit: AuditNote | None = None) -> None:
        super().__init__(detail)
        self.audit = audit


class AccessDenied(DomainError):
    """The caller may not do this to this record; recorded in the audit trail."""

    status_code = 403

    def __init__(
        self, detail: str, *, action: str, subject_type: str, subject_id: UUID | None = None
    ) -> None:
        super().__init__(detail)
        self.audit = AuditNote(action, subject_type, subject_id)


class NotFound(DomainError):
    """No such record."""

    status_code = 404


class Conflict(DomainError):
    """The record's state forbids the change (stale version, duplicate, locked)."""

    status_code = 409


class NotReady(DomainError):
    """The result is being produced by a background job; retry shortly."""

    status_code = 503


class TooSlow(NotReady):
    """The work ran past its time limit and was stopped; ask for less, or retry later."""

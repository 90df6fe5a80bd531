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
    # Seconds a client should wait before trying again (the Retry-After header), when it may.
    retry_after: int | None = None

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


@dataclass(frozen=True, slots=True)
class FailedPassword:
    """A wrong password (or an unknown or deactivated account), counted toward sign-in throttling
    for the account named and the client's address once its transaction has rolled back."""

    account: str


class NotAuthenticated(DomainError):
    """No valid credentials; a failed sign-in is audited and counted."""

    status_code = 401

    def __init__(
        self, detail: str, *, audit: AuditNote | None = None, failed: FailedPassword | None = None
    ) -> None:
        super().__init__(detail)
        self.audit = audit
        self.failed = failed


class TooManyAttempts(DomainError):
    """Sign-in is locked for the account or the client's address; retry after the lock ends."""

    status_code = 429

    def __init__(self, detail: str, *, retry_after: int, audit: AuditNote) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
        self.audit = audit


class TooManyStreams(DomainError):
    """The user already has as many live streams open as allowed."""

    status_code = 429
    retry_after = 60


class PasswordChangeRequired(DomainError):
    """The caller must change their password before doing anything else."""

    status_code = 403


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
    retry_after = 2


class ServiceUnavailable(DomainError):
    """PostgreSQL cannot be reached; retry shortly."""

    status_code = 503
    retry_after = 5


class TooSlow(NotReady):
    """The work ran past its time limit and was stopped; ask for less, or retry later."""

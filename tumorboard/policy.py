"""Verdicts: the answer of a policy function, which services enforce and pages only read.

Each domain has a `policy.py` of small pure functions over plain facts (the user, the case, the
meeting and the user's part in it), one per question: `can_withdraw`, `can_decide`, `can_start`...
A verdict is truthy when the answer is yes; otherwise it says whether the caller may never do this
(`forbidden`: 403, audited) or may not do it now (`conflict`: 409), and why, in words safe to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from tumorboard.errors import AccessDenied, Conflict


@dataclass(frozen=True, slots=True)
class Verdict:
    """Yes, or no with its kind and reason."""

    refusal: Literal["forbidden", "conflict"] | None = None
    reason: str = ""

    def __bool__(self) -> bool:
        return self.refusal is None

    @property
    def forbidden(self) -> bool:
        """Whether the caller may never do this (403)."""
        return self.refusal == "forbidden"


ALLOWED = Verdict()


def forbidden(reason: str) -> Verdict:
    """No: the caller may not do this to this record."""
    return Verdict("forbidden", reason)


def conflict(reason: str) -> Verdict:
    """No: the record's state does not allow it now."""
    return Verdict("conflict", reason)


def enforce(verdict: Verdict, *, action: str, subject_type: str, subject_id: UUID | None = None) -> None:
    """Raise the refusal a verdict stands for: AccessDenied (audited) or Conflict."""
    if verdict.refusal == "forbidden":
        raise AccessDenied(verdict.reason, action=action, subject_type=subject_type, subject_id=subject_id)
    if verdict.refusal == "conflict":
        raise Conflict(verdict.reason)

"""Who makes a request, for the statements that check it themselves.

The hottest requests (a case read, a case submission) do their work, their access check and their
audit row in one statement. Their bearer token costs no round trip of its own before that: such a
statement takes its caller from `request_caller(...)` (sql/migrations/0015_live_credential.sql),
which reads the token in the same statement, so a token revoked by any process is refused by the
very next statement, exactly as `resolve_token` would (no cache). A `Caller` carries either the user
the request resolved already, or the token still to be checked; `confirm(row)` turns the statement's
answer into the user, or refuses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from tumorboard.auth.schemas import Credential, User
from tumorboard.auth.service import NO_LIVE_CREDENTIAL, token_hash_of
from tumorboard.db import Record
from tumorboard.errors import NotAuthenticated

# The columns a statement returns about its caller, and the User fields they fill.
_USER_COLUMNS = {
    "id": "caller_id",
    "email": "caller_email",
    "full_name": "caller_full_name",
    "roles": "caller_roles",
    "discipline": "caller_discipline",
    "created_at": "caller_created_at",
    "password_change_required": "caller_password_change_required",
}
CALLER_COLUMNS = frozenset({*_USER_COLUMNS.values(), "caller_token_id", "caller_ends_at"})


@dataclass(frozen=True, slots=True)
class Caller:
    """A request's caller: a `user` already resolved, or a bearer `token` a statement checks.

    For a token, `admit` applies to the credential the statement found what the request applies to
    every credential (whom the audit trail names, a pending password change), and `resolve` checks
    the token by itself: a request refused before its statement runs calls it first, so that a bad
    token is answered 401 before anything else, as on every other route."""

    user: User | None = None
    token: str | None = None
    admit: Callable[[Credential], None] | None = None
    resolve: Callable[[], Awaitable[Credential]] | None = None

    def parameters(self) -> dict[str, Any]:
        """The caller's parameters of a statement taking its caller from request_caller (with the
        request's `credential_id`, from the audit context)."""
        if self.user is not None:
            return {"token_hash": None, "caller_id": self.user.id, "caller_roles": list(self.user.roles)}
        assert self.token is not None
        return {"token_hash": token_hash_of(self.token), "caller_id": None, "caller_roles": None}

    def confirm(self, row: Record | None) -> User:
        """The user behind the statement's answer: the known user, or the token's (401 when the
        token was not live: no row; 403 while the user must change their password)."""
        if self.user is not None:
            return self.user
        if row is None or row["caller_id"] is None:
            raise NotAuthenticated(NO_LIVE_CREDENTIAL)
        credential = Credential(
            user=msgspec.convert({field: row[column] for field, column in _USER_COLUMNS.items()}, User),
            id=row["caller_token_id"],
            kind="api",
            ends_at=row["caller_ends_at"],
        )
        if self.admit is not None:
            self.admit(credential)
        return credential.user

    async def check(self) -> User:
        """The caller, its token checked on its own when it was not yet (a round trip)."""
        if self.user is not None:
            return self.user
        assert self.resolve is not None
        return (await self.resolve()).user


def without_caller(row: Record) -> dict[str, Any]:
    """A statement's row without the columns about its caller."""
    return {name: value for name, value in row.items() if name not in CALLER_COLUMNS}

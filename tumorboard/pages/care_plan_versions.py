"""A care plan's versions: the history of every version, what changed between any two (a word-level
diff of the rows the documents print), and the chair's amendment of a signed plan.

The versions, the diff and the amendment come from the services the API calls
(`care_plans.versions.list_versions`, `get_diff`, `care_plans.service.amend`); the rows are the
documents' own (`care_plans.document_model.change_rows`). Only the marking of the words that differ
is the page's.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Annotated, Any, Literal
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, get
from litestar.params import Parameter
from litestar.response import Template

from tumorboard.auth.schemas import User
from tumorboard.care_plans import versions
from tumorboard.care_plans.document_model import change_rows
from tumorboard.cases.service import get_case
from tumorboard.documents.text import NOTHING
from tumorboard.pages.common import page

# Words, runs of spaces and single signs: a changed word is marked, not the whole sentence.
_TOKENS = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)
Part = tuple[Literal["same", "removed", "added"], str]


class DiffRow(msgspec.Struct, kw_only=True, frozen=True):
    """One changed line of the diff page: the before and after texts, in parts to mark."""

    what: str
    before: list[Part]
    after: list[Part]


def marked_words(before: str, after: str) -> tuple[list[Part], list[Part]]:
    """The two texts cut into parts, the words only in `before` marked removed and those only in
    `after` marked added; a value that was absent (or becomes absent) is marked whole."""
    if before == NOTHING or after == NOTHING:
        return (
            [("same" if before == NOTHING else "removed", before)],
            [("same" if after == NOTHING else "added", after)],
        )
    old, new = _TOKENS.findall(before), _TOKENS.findall(after)
    left: list[Part] = []
    right: list[Part] = []
    ops = SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    for index, (op, i1, i2, j1, j2) in enumerate(ops):
        between_changes = 0 < index < len(ops) - 1 and "".join(old[i1:i2]).isspace()
        if op == "equal" and not between_changes:  # a lone space between two changes joins them
            left.append(("same", "".join(old[i1:i2])))
            right.append(("same", "".join(new[j1:j2])))
            continue
        if i2 > i1:
            left.append(("removed", "".join(old[i1:i2])))
        if j2 > j1:
            right.append(("added", "".join(new[j1:j2])))
    return _joined(left), _joined(right)


def _joined(parts: list[Part]) -> list[Part]:
    """Neighbouring parts of one kind merged, so a changed phrase is one mark."""
    merged: list[Part] = []
    for kind, words in parts:
        if merged and merged[-1][0] == kind:
            merged[-1] = (kind, merged[-1][1] + words)
        else:
            merged.append((kind, words))
    return merged


class CarePlanVersionPages(Controller):
    """A case's care plan versions and the differences between them."""

    include_in_schema = False

    @get("/cases/{case_id:uuid}/care-plan/versions")
    async def history(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, case_id: UUID
    ) -> Template:
        """Every version, oldest first, with its documents, signature and amendment reason."""
        case = await get_case(conn, user, case_id)
        return page(
            request,
            "pages/care_plan_versions.html",
            user=user,
            case=case,
            versions=await versions.list_versions(conn, user, case_id),
        )

    @get("/cases/{case_id:uuid}/care-plan/diff")
    async def diff(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        user: User,
        case_id: UUID,
        to_version: Annotated[int, Parameter(query="to", ge=1, le=versions.MAX_VERSION)],
        from_version: Annotated[int | None, Parameter(query="from", ge=1, le=versions.MAX_VERSION)] = None,
    ) -> Template:
        """What changed from version `from` (by default the one before) to version `to`."""
        case = await get_case(conn, user, case_id)
        diff = await versions.get_diff(conn, user, case_id, to_version, from_version)
        changes = change_rows(diff)
        assert changes is not None
        rows = []
        for row in changes.rows:
            before, after = marked_words(row.before, row.after)
            rows.append(DiffRow(what=row.what, before=before, after=after))
        return page(
            request,
            "pages/care_plan_diff.html",
            user=user,
            case=case,
            diff=diff,
            rows=rows,
            versions=await versions.list_versions(conn, user, case_id),
        )

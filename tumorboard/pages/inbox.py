"""The inbox page: the user's notifications, newest first, each opened or marked read through the
notification service the API calls; and the unread count every signed-in page shows in its header."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from tumorboard.auth.schemas import Credential, User
from tumorboard.db import queries
from tumorboard.notifications.service import list_notifications, mark_all_read, mark_read
from tumorboard.pages.common import done, page
from tumorboard.pages.forms import text

INBOX_PAGE = 25


async def provide_page_user(
    request: Request[Any, Any, Any], conn: asyncpg.Connection, credential: Credential
) -> User:
    """The signed-in user of a page, with their unread notifications counted for the header's badge
    (one count over a partial index of the unread rows)."""
    user = credential.user
    request.state.unread_notifications = await queries.notifications.count_unread_notifications(
        conn, user_id=user.id
    )
    return user


def _back(form: Any) -> str:
    """The inbox view to return to: all notices or only the unread ones."""
    return "/notifications?unread=true" if text(form, "back") == "unread" else "/notifications"


class InboxPages(Controller):
    """The signed-in user's notifications."""

    include_in_schema = False

    @get("/notifications")
    async def inbox(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        user: User,
        unread: bool = False,
        cursor: Annotated[str | None, Parameter(max_length=500)] = None,
    ) -> Template:
        """A page of notifications (all, or only the unread ones), with the next page's link."""
        notices = await list_notifications(conn, user, unread_only=unread, limit=INBOX_PAGE, cursor=cursor)
        return page(request, "pages/inbox.html", user=user, notices=notices, unread_only=unread)

    @post("/notifications/{notification_id:uuid}/read")
    async def read(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, notification_id: UUID
    ) -> Response[Any]:
        """Mark one notification read; with `open`, go on to what it announces."""
        form = await request.form()
        notice = await mark_read(conn, user, notification_id)
        if text(form, "open"):
            return Redirect(notice.link, status_code=303)
        return done(request, _back(form), "Notice marked as read.")

    @post("/notifications/read-all")
    async def read_all(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User
    ) -> Response[Any]:
        """Mark every unread notice read, then return to the page the form was on."""
        form = await request.form()
        marked = await mark_all_read(conn, user)
        target = _back(form) if text(form, "back") else "/"
        return done(request, target, f"{marked.marked} notice(s) marked as read.")

"""Inbox endpoints: the caller's notifications and marking them read."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import asyncpg
from litestar import Controller, get, post
from litestar.params import Parameter

from tumorboard.auth.schemas import User
from tumorboard.notifications import service
from tumorboard.notifications.schemas import MarkedRead, Notification, NotificationPage
from tumorboard.pagination import DEFAULT_LIMIT


class NotificationController(Controller):
    """The signed-in user's inbox."""

    path = "/me/notifications"
    tags = ["notifications"]

    @get(operation_id="ListNotifications")
    async def list_notifications(
        self,
        conn: asyncpg.Connection,
        user: User,
        unread: bool = False,
        limit: Annotated[int, Parameter(ge=1, le=200)] = DEFAULT_LIMIT,
        cursor: Annotated[str | None, Parameter(max_length=500)] = None,
    ) -> NotificationPage:
        """The caller's notifications, newest first (`unread=true` for unread ones only)."""
        return await service.list_notifications(conn, user, unread_only=unread, limit=limit, cursor=cursor)

    @post("/{notification_id:uuid}/read", operation_id="MarkNotificationRead", status_code=200)
    async def mark_read(self, conn: asyncpg.Connection, user: User, notification_id: UUID) -> Notification:
        """Mark one notification read."""
        return await service.mark_read(conn, user, notification_id)

    @post("/read-all", operation_id="MarkAllNotificationsRead", status_code=200)
    async def mark_all_read(self, conn: asyncpg.Connection, user: User) -> MarkedRead:
        """Mark every unread notification read."""
        return await service.mark_all_read(conn, user)

"""iCalendar (RFC 5545): an invite per meeting and a personal subscription feed.

Calendar data leaves the hospital's systems (phones, calendar servers), so events carry the
board, time, place and number of cases, never patient data. A feed URL holds a per-user secret
because calendar clients cannot send a bearer token; only its SHA-256 is stored, a new one
replaces the old, and it can be revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import icalendar

from tumorboard import audit
from tumorboard.auth.schemas import User
from tumorboard.db import fetch_all, queries
from tumorboard.enums import MeetingStatus
from tumorboard.errors import NotFound
from tumorboard.meetings.service import require_meeting_reader
from tumorboard.settings import current_settings

PRODID = "-//Tumorboard//Tumor board meetings//EN"
UID_DOMAIN = "tumorboard"
# The feed shows meetings from this long ago on, at most FEED_LIMIT of them.
FEED_PAST = timedelta(days=60)
FEED_LIMIT = 500


def _event(row: Mapping[str, Any]) -> icalendar.Event:
    zone = ZoneInfo(row["time_zone"])
    starts = row["starts_at"].astimezone(zone)
    cancelled = row["status"] == MeetingStatus.CANCELLED
    event = icalendar.Event()
    event.add("uid", f"meeting-{row['id']}@{UID_DOMAIN}")
    event.add("dtstamp", row["updated_at"].astimezone(UTC))
    event.add("created", row["created_at"].astimezone(UTC))
    event.add("last-modified", row["updated_at"].astimezone(UTC))
    event.add("sequence", row["sequence"])
    event.add("dtstart", starts)
    event.add("dtend", starts + timedelta(minutes=row["duration_minutes"]))
    event.add("summary", f"{row['board_name']}{' (cancelled)' if cancelled else ''}")
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("categories", ["Tumor board"])
    if row["location"]:
        event.add("location", row["location"])
    description = [f"Tumor board meeting: {row['board_name']}.", f"Cases on the agenda: {row['case_count']}."]
    if row["video_url"]:
        event.add("url", row["video_url"])
        description.append(f"Video: {row['video_url']}")
    description.append("The agenda is in Tumorboard.")
    event.add("description", "\n".join(description))
    return event


def calendar_of(rows: Iterable[Mapping[str, Any]], name: str) -> bytes:
    """A VCALENDAR with one VEVENT per meeting and the VTIMEZONEs they use."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    starts = []
    for row in rows:
        calendar.add_component(_event(row))
        starts.append(row["starts_at"].date())
    if starts:
        # Time zone rules only for the years the events span keep the file small.
        calendar.add_missing_timezones(
            first_date=min(starts) - timedelta(days=366), last_date=max(starts) + timedelta(days=366)
        )
    data: bytes = calendar.to_ical()
    return data


async def meeting_invite(conn: asyncpg.Connection, user: User, meeting_id: UUID) -> bytes:
    """The .ics invite of one meeting, for its participants and coordinators."""
    row = await queries.meetings.get_calendar_meeting(conn, id=meeting_id)
    if row is None:
        raise NotFound("No such meeting")
    await require_meeting_reader(conn, user, meeting_id, "read_invite")
    return calendar_of([row], f"Tumorboard: {row['board_name']}")


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def issue_feed(conn: asyncpg.Connection, user: User) -> tuple[str, datetime]:
    """A new feed secret for the caller (the previous URL stops working); the secret and its date."""
    token = secrets.token_urlsafe(32)
    created_at = await queries.meetings.upsert_calendar_feed(conn, user_id=user.id, token_hash=_hash(token))
    await audit.record(conn, user.id, "issue", "calendar_feed", user.id)
    return token, created_at


def feed_url(token: str) -> str:
    """The subscription URL of a feed secret, from the configured public URL (never the request's
    Host header, which a client chooses)."""
    return f"{current_settings().public_url}/api/v1/calendar/{token}.ics"


async def revoke_feed(conn: asyncpg.Connection, user: User) -> None:
    """Revoke the caller's feed URL."""
    await queries.meetings.delete_calendar_feed(conn, user_id=user.id)
    await audit.record(conn, user.id, "revoke", "calendar_feed", user.id)


async def read_feed(conn: asyncpg.Connection, token: str) -> bytes:
    """The feed of the meetings the secret's owner takes part in; 404 for an unknown secret."""
    user_id = await queries.meetings.get_calendar_feed_user(conn, token_hash=_hash(token))
    if user_id is None:
        raise NotFound("No such calendar feed")
    rows = await fetch_all(
        queries.meetings.list_calendar_meetings(
            conn, user_id=user_id, starts_from=datetime.now(UTC) - FEED_PAST, limit=FEED_LIMIT
        )
    )
    await audit.record(conn, user_id, "read", "calendar_feed", user_id)
    return calendar_of(rows, "Tumorboard: my meetings")

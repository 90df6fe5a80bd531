"""Server-rendered pages over the same services as the API: one router with HTML error pages (a
visitor without a session is sent to the sign-in form), and the static assets (stylesheet, htmx)."""

from __future__ import annotations

from pathlib import Path

from litestar import Router, get
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from tumorboard.pages.account import AccountPages
from tumorboard.pages.admin import AdminPages, UserAccountPages
from tumorboard.pages.attachments import AttachmentPages
from tumorboard.pages.audit import AuditPages
from tumorboard.pages.auth import SignInPages
from tumorboard.pages.boards import BoardPages, BoardSettingsPages
from tumorboard.pages.care_plan_versions import CarePlanVersionPages
from tumorboard.pages.care_plans import CarePlanPages
from tumorboard.pages.case_form import CaseFormPages
from tumorboard.pages.cases import CasePages
from tumorboard.pages.common import EXCEPTION_HANDLERS
from tumorboard.pages.decisions import DecisionPages
from tumorboard.pages.errors import negotiated, note_viewer
from tumorboard.pages.filters import register_page_filters
from tumorboard.pages.follow_up import FollowUpPages
from tumorboard.pages.home import HomePage
from tumorboard.pages.inbox import InboxPages, provide_page_user
from tumorboard.pages.jobs import DeadJobPages
from tumorboard.pages.live import LivePages
from tumorboard.pages.meeting_edit import MeetingEditPages
from tumorboard.pages.meeting_run import MeetingRunPages
from tumorboard.pages.meetings import MeetingPages
from tumorboard.pages.presentation import PresentationPages
from tumorboard.pages.readiness import ReadinessPages
from tumorboard.pages.recommendations import RecommendationPages
from tumorboard.pages.reports import ReportPages
from tumorboard.pages.security import csrf_config
from tumorboard.pages.series import SeriesPages
from tumorboard.pages.slots import SlotsPages
from tumorboard.pages.sso import SingleSignOnPages

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

pages = Router(
    path="/",
    route_handlers=[
        SignInPages,
        SingleSignOnPages,
        HomePage,
        InboxPages,
        CaseFormPages,
        CasePages,
        AttachmentPages,
        ReadinessPages,
        DecisionPages,
        RecommendationPages,
        CarePlanPages,
        CarePlanVersionPages,
        FollowUpPages,
        MeetingPages,
        MeetingEditPages,
        MeetingRunPages,
        PresentationPages,
        SlotsPages,
        LivePages,
        BoardPages,
        BoardSettingsPages,
        SeriesPages,
        ReportPages,
        AdminPages,
        UserAccountPages,
        AccountPages,
        AuditPages,
        DeadJobPages,
    ],
    # Every page's user comes with their unread count, for the header's inbox badge.
    dependencies={"user": Provide(provide_page_user)},
    exception_handlers=EXCEPTION_HANDLERS,
    include_in_schema=False,
)


@get("/favicon.ico", include_in_schema=False, cache_control=CacheControlHeader(max_age=3600, public=True))
async def favicon() -> Redirect:
    """Browsers ask for /favicon.ico on pages that name no icon (the care plan and agenda documents)."""
    return Redirect("/static/favicon.svg", status_code=301)


static = create_static_files_router(
    path="/static",
    directories=[STATIC_DIR],
    cache_control=CacheControlHeader(max_age=3600, public=True),
    include_in_schema=False,
)

ROUTES: list[ControllerRouterHandler] = [pages, static, favicon]

__all__ = [
    "EXCEPTION_HANDLERS",
    "ROUTES",
    "csrf_config",
    "negotiated",
    "note_viewer",
    "register_page_filters",
]

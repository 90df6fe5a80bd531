"""The Litestar application, assembled."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template import TemplateConfig
from redis.asyncio import Redis

from tumorboard import metrics, pages
from tumorboard.attachments.controllers import AttachmentController, CaseAttachmentController
from tumorboard.audit_trail.controllers import AuditController
from tumorboard.auth.controllers import AuthController, UserController
from tumorboard.auth.oidc import OidcConfig, Provider
from tumorboard.auth.sso_controllers import OidcTokenController
from tumorboard.boards.controllers import BoardController
from tumorboard.care_plans.controllers import CarePlanController, FollowUpReportController
from tumorboard.cases.controllers import CaseController
from tumorboard.db import WebPool
from tumorboard.decisions.controllers import DecisionController
from tumorboard.errors import DomainError
from tumorboard.health import live, ready
from tumorboard.jobs.controllers import DeadJobController
from tumorboard.letters.controllers import LetterController
from tumorboard.logs import configure_logging
from tumorboard.meetings.controllers import (
    BoardSeriesController,
    CalendarController,
    CalendarFeedController,
    CaseReadinessController,
    MeetingController,
    SeriesController,
)
from tumorboard.notifications.controllers import NotificationController
from tumorboard.openapi_docs import RedocPage, SwaggerPage
from tumorboard.openapi_schema import TimeOfDaySchema
from tumorboard.recommendations.controllers import RecommendationController
from tumorboard.reports.controllers import QualityReportController
from tumorboard.request_body import StrictJSON
from tumorboard.settings import TEMPLATES_DIR, Settings, current_settings
from tumorboard.web import (
    DATABASE_DOWN,
    add_security_headers,
    audit_context_middleware,
    database_down_handler,
    domain_error_handler,
    http_error_handler,
    internal_error_handler,
    provide_caller,
    provide_credential,
    provide_transaction,
    provide_user,
    validation_error_handler,
)

MAX_BODY_BYTES = 10 * 1024 * 1024


def create_app(settings: Settings) -> Litestar:
    """The web application for one PostgreSQL and one Redis."""
    assert settings.database_url and settings.redis_url, "create_app needs DATABASE_URL and REDIS_URL"
    oidc_config = OidcConfig.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None]:
        app.state.settings = settings
        app.state.oidc = Provider(oidc_config) if oidc_config else None
        app.state.pool = await WebPool(
            settings.database_url or "",
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            on_wait=metrics.DB_POOL_WAITS.inc,  # the sign that the pool is too small (docs/operations.md)
        ).open()
        app.state.redis = Redis.from_url(settings.redis_url or "", socket_timeout=2)
        try:
            yield
        finally:
            await app.state.redis.aclose()
            await app.state.pool.close()
            metrics.process_exited()

    api = Router(
        path="/api/v1",
        dto=StrictJSON,  # every declared body decoded strictly (request_body)
        return_dto=None,
        route_handlers=[
            AuthController,
            OidcTokenController,
            UserController,
            BoardController,
            MeetingController,
            BoardSeriesController,
            SeriesController,
            CaseReadinessController,
            CalendarFeedController,
            CalendarController,
            CaseController,
            CaseAttachmentController,
            AttachmentController,
            DecisionController,
            RecommendationController,
            CarePlanController,
            LetterController,
            FollowUpReportController,
            QualityReportController,
            NotificationController,
            AuditController,
            DeadJobController,
        ],
    )
    app = Litestar(
        route_handlers=[api, live, ready, metrics.metrics, *pages.ROUTES],
        lifespan=[lifespan],
        dependencies={
            "conn": Provide(provide_transaction),
            "credential": Provide(provide_credential),
            "caller": Provide(provide_caller),
            "user": Provide(provide_user),
        },
        middleware=[audit_context_middleware],
        # JSON for API clients, the pages' error pages for browsers (tumorboard.pages.errors).
        exception_handlers=pages.negotiated(
            {
                **dict.fromkeys(DATABASE_DOWN, database_down_handler),
                DomainError: domain_error_handler,
                ValidationException: validation_error_handler,
                HTTPException: http_error_handler,
                Exception: internal_error_handler,
            },
            pages.EXCEPTION_HANDLERS,
        ),
        after_exception=[pages.note_viewer],
        before_send=[add_security_headers],
        template_config=TemplateConfig(
            directory=TEMPLATES_DIR,
            engine=JinjaTemplateEngine,
            engine_callback=lambda engine: pages.register_page_filters(engine.engine, settings),
        ),
        openapi_config=OpenAPIConfig(
            title="Tumorboard",
            version="1.0.0",
            path="/api/v1/schema",
            render_plugins=[SwaggerPage(), RedocPage()],
        ),
        plugins=[TimeOfDaySchema()],
        request_max_body_size=MAX_BODY_BYTES,
        csrf_config=pages.csrf_config(settings),
        debug=False,
        logging_config=None,  # every process logs JSON lines (tumorboard.logs)
    )
    # Outside the router, so that requests no route matches are counted and tagged too.
    app.asgi_handler = metrics.RequestObserver(app.asgi_handler)
    return app


def create_app_from_env() -> Litestar:
    """The application configured from the environment (the factory `tumorboard serve` runs)."""
    settings = current_settings()
    configure_logging(settings.log_level)  # again in each process `serve --workers N` starts
    return create_app(settings)

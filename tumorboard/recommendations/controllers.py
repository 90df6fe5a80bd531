"""Recommendation endpoints."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, get, post, put

from tumorboard.auth.schemas import User
from tumorboard.recommendations import service
from tumorboard.recommendations.schemas import Recommendation, RecommendationCreate, RecommendationUpdate
from tumorboard.web import read_json


class RecommendationController(Controller):
    """Reviewers' recommendations."""

    tags = ["recommendations"]

    @post("/cases/{case_id:uuid}/recommendations", operation_id="AddRecommendation")
    async def add_recommendation(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, case_id: UUID
    ) -> Recommendation:
        """Recommend on a case (reviewers taking part in its meeting)."""
        data = await read_json(request, RecommendationCreate)
        return await service.add_recommendation(conn, user, case_id, data)

    @get("/cases/{case_id:uuid}/recommendations", operation_id="ListRecommendations")
    async def list_recommendations(
        self, conn: asyncpg.Connection, user: User, case_id: UUID
    ) -> list[Recommendation]:
        """A case's recommendations."""
        return await service.list_recommendations(conn, user, case_id)

    @put("/recommendations/{recommendation_id:uuid}", operation_id="UpdateRecommendation")
    async def update_recommendation(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, recommendation_id: UUID
    ) -> Recommendation:
        """Revise a recommendation (its author), naming the version it replaces."""
        data = await read_json(request, RecommendationUpdate)
        return await service.update_recommendation(conn, user, recommendation_id, data)

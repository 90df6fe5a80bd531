"""Recommendation endpoints."""

from __future__ import annotations

from uuid import UUID

import asyncpg
from litestar import Controller, get, post, put

from tumorboard.auth.schemas import User
from tumorboard.recommendations import service
from tumorboard.recommendations.schemas import Recommendation, RecommendationCreate, RecommendationUpdate


class RecommendationController(Controller):
    """Reviewers' recommendations."""

    tags = ["recommendations"]

    @post("/cases/{case_id:uuid}/recommendations", operation_id="AddRecommendation")
    async def add_recommendation(
        self, conn: asyncpg.Connection, user: User, case_id: UUID, data: RecommendationCreate
    ) -> Recommendation:
        """Recommend on a case (reviewers taking part in its meeting)."""
        return await service.add_recommendation(conn, user, case_id, data)

    @get("/cases/{case_id:uuid}/recommendations", operation_id="ListRecommendations")
    async def list_recommendations(
        self, conn: asyncpg.Connection, user: User, case_id: UUID
    ) -> list[Recommendation]:
        """A case's recommendations."""
        return await service.list_recommendations(conn, user, case_id)

    @put("/recommendations/{recommendation_id:uuid}", operation_id="UpdateRecommendation")
    async def update_recommendation(
        self, conn: asyncpg.Connection, user: User, recommendation_id: UUID, data: RecommendationUpdate
    ) -> Recommendation:
        """Revise a recommendation (its author), naming the version it replaces."""
        return await service.update_recommendation(conn, user, recommendation_id, data)

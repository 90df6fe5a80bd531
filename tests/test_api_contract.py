"""The API keeps its published contract: every request body is declared in the OpenAPI schema, and
Schemathesis, generating requests from that schema for every role, finds no 5xx and no response
that breaks its own declared schema."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, openapi
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.factories import Actor, Factory, recommendation_body

SCHEMA_PATH = "/api/v1/schema/openapi.json"
# Bounded run: a few examples per operation, role and mode, always the same ones (derandomized).
EXAMPLES_PER_OPERATION = 8
# Operations that take no body (actions named by their path), every other POST, PUT and PATCH must
# declare one.
BODILESS = {
    ("DELETE", "/api/v1/auth/token"),
    ("DELETE", "/api/v1/me/calendar-feed"),
    ("POST", "/api/v1/me/calendar-feed"),
    ("POST", "/api/v1/meetings/{meeting_id}/cancel"),
    ("POST", "/api/v1/meetings/{meeting_id}/start"),
    ("POST", "/api/v1/meetings/{meeting_id}/close"),
    ("POST", "/api/v1/meetings/{meeting_id}/next-case"),
    ("POST", "/api/v1/series/{series_id}/end"),
    ("POST", "/api/v1/cases/{case_id}/withdraw"),
    ("POST", "/api/v1/me/notifications/read-all"),
    ("POST", "/api/v1/me/notifications/{notification_id}/read"),
    ("POST", "/api/v1/admin/jobs/dead/{job_id}/retry"),
}
# Signing out ends the token the run uses: it goes last.
LAST = {("DELETE", "/api/v1/auth/token")}


async def test_every_request_body_is_in_the_schema(server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as client:
        schema = (await client.get(SCHEMA_PATH)).json()
    missing, undeclared_actions = [], []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            key = (method.upper(), path)
            if key[0] not in {"POST", "PUT", "PATCH", "DELETE"}:
                continue
            body = operation.get("requestBody")
            if key in BODILESS:
                assert body is None, f"{key} declares a body"
                undeclared_actions.append(key)
            elif key[0] != "DELETE" and not (body and body["content"]):
                missing.append(key)
    assert not missing, f"request bodies not declared: {missing}"
    assert set(undeclared_actions) == BODILESS, "BODILESS lists routes the API no longer has"
    case_body = schema["paths"]["/api/v1/cases"]["post"]["requestBody"]["content"]
    assert set(case_body) == {"application/json", "application/fhir+json"}
    assert "patient" in schema["components"]["schemas"]["CaseCreate"]["properties"]


async def test_a_bad_body_without_credentials_is_401_first(api: Factory) -> None:
    for raw, content_type in [(b"{", "application/json"), (b"{}", "text/plain"), (b"", "application/json")]:
        response = await api.client.post("/cases", content=raw, headers={"content-type": content_type})
        assert response.status_code == 401, response.text


async def test_bodies_are_still_decoded_strictly_behind_the_declaration(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    sent = {"name": "Board", "disease_sites": ["breast"], "minutes_per_case": "15"}
    response = await api.client.post("/boards", json=sent, headers=coordinator.headers)
    assert response.status_code == 400
    assert response.json()["extra"] == [
        {"key": "minutes_per_case", "message": "must be int", "source": "body"}
    ]
    response = await api.client.post(
        "/boards", content=b'{"name": "Board"}', headers={**coordinator.headers, "content-type": "text/plain"}
    )
    assert response.status_code == 415
    response = await api.client.post(
        "/boards", content=b"", headers={**coordinator.headers, "content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["extra"] == [{"key": "body", "message": "is not valid JSON", "source": "body"}]


@dataclass
class Records:
    """Real records whose ids the generated requests use, so that they reach the services."""

    roles: dict[str, Actor]
    path_parameters: dict[str, str]


async def seed(api: Factory) -> Records:
    """A board with a meeting and a series, a case on the meeting with a recommendation, and a user to
    administer; one bearer token per role."""
    team = await api.team()
    admin = await api.user("admin")
    target = await api.user("reviewer", discipline="pathology")
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"], team.participants)
    case = await api.case(team.presenter)
    await api.place(team.coordinator, case["id"], meeting["id"])
    recommendation = await api.ok(
        api.client.post(
            f"/cases/{case['id']}/recommendations", json=recommendation_body(), headers=team.surgeon.headers
        ),
        201,
    )
    series = await api.series(team.coordinator, board["id"], recurrence_rule="FREQ=WEEKLY;BYDAY=WE")
    return Records(
        roles={
            "admin": admin,
            "coordinator": team.coordinator,
            "presenter": team.presenter,
            "reviewer": team.chair,
        },
        path_parameters={
            "board_id": board["id"],
            "meeting_id": meeting["id"],
            "series_id": series["id"],
            "case_id": case["id"],
            "recommendation_id": recommendation["id"],
            "user_id": str(target.id),
        },
    )


@pytest.mark.slow
async def test_generated_requests_for_every_role_find_no_server_error(server: str, api: Factory) -> None:
    records = await seed(api)
    schema = openapi.from_url(f"{server}{SCHEMA_PATH}")
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda operation: (operation.method.upper(), operation.path) in LAST,
    )
    started = time.monotonic()
    failures: list[str] = []
    for role, actor in records.roles.items():
        for operation in operations:
            failures += await asyncio.to_thread(fuzz, server, operation, role, actor, records)
    elapsed = time.monotonic() - started
    assert not failures, f"{len(failures)} failures:\n" + "\n\n".join(failures[:20])
    assert elapsed < 600, f"the run took {elapsed:.0f} s"


def fuzz(server: str, operation: Any, role: str, actor: Actor, records: Records) -> list[str]:
    """Generated requests (valid ones and invalid ones) to one operation as one user; what failed."""
    known = {name: value for name, value in records.path_parameters.items() if name in _path_names(operation)}
    strategy = st.one_of(
        operation.as_strategy(generation_mode=mode, path_parameters=known)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    )
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        response = case.call(base_url=server, headers=actor.headers, timeout=30)
        if documented_not_ready(operation, response):
            return
        try:
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
        except (AssertionError, BaseExceptionGroup) as failure:  # each one is reported, not raised
            where = f"{operation.method.upper()} {operation.path} as {role}"
            failures.append(f"{where} ({response.status_code}):\n{failure}")

    run()
    return failures


def documented_not_ready(operation: Any, response: Any) -> bool:
    """A 503 with Retry-After where the operation documents one: a document a worker is still
    rendering (the client retries after Retry-After), not a server error."""
    return (
        response.status_code == 503
        and "retry-after" in response.headers
        and "503" in operation.definition.raw.get("responses", {})
    )


def _path_names(operation: Any) -> set[str]:
    return {parameter.name for parameter in operation.path_parameters}

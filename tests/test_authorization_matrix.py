"""The authorization matrix: every route of the app, called for real on the live server by every role
and anonymously, on the caller's own records and on another team's, answers as the declared policy
(tests/access_policy.py) says: refused (401, 403, 404, or the sign-in page) or not refused."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.access_policy import ANONYMOUS, POLICY, ROLES
from tests.app_routes import http_routes
from tests.care_plan_helpers import consolidate, discussed_case, sign
from tests.factories import PASSWORD, Actor, Factory, Team, case_body, decision_body, recommendation_body
from tests.test_attachments import PDF
from tumorboard.auth.service import API, SESSION, issue_token
from tumorboard.pages.security import CSRF_COOKIE, CSRF_HEADER
from tumorboard.web import SESSION_COOKIE

PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")
RECORD_PARAMETERS = {"case_id", "meeting_id", "board_id", "series_id", "recommendation_id", "attachment_id"}
# Changes that end or close what later calls use go last.
LAST_WORDS = ("/cancel", "/withdraw", "/end", "/close", "/logout", "sign-out-everywhere")
PERIOD = {"from": (date.today() - timedelta(days=30)).isoformat(), "to": date.today().isoformat()}
QUERIES = {"/diff": {"from": "1", "to": "1"}, "-row": {"index": "1"}}


def app_routes() -> set[tuple[str, str]]:
    """Every (method, path template) the application serves."""
    return {
        (method, route.path)
        for route in http_routes()
        for method in route.route_handler_map
        if method not in {"HEAD", "OPTIONS"}
    }


def test_every_route_has_a_declared_policy() -> None:
    routes = app_routes()
    assert not routes - POLICY.keys(), f"routes without a policy entry: {sorted(routes - POLICY.keys())}"
    assert not POLICY.keys() - routes, f"policy entries for no route: {sorted(POLICY.keys() - routes)}"


@dataclass
class Side:
    """One team's records: the caller's own (team A) or another team's (team B)."""

    team: Team
    board: str
    meeting: str
    series: str
    case: str
    recommendation: str
    attachment: str
    user: str = ""  # a user (of neither team) for the administration routes

    def parameter(self, name: str, path: str) -> str:
        """The value of a path parameter on this side."""
        values = {
            "case_id": self.case,
            "meeting_id": self.meeting,
            "board_id": self.board,
            "series_id": self.series,
            "recommendation_id": self.recommendation,
            "attachment_id": self.attachment,
            "user_id": self.user,
            "version": "1",
            "document": "1.pdf" if "/letters/" in path else "1",
            "notification_id": str(uuid.uuid4()),
            "job_id": "999999",
            "feed": "no-such-feed.ics",
            "name": "cases.svg",
            "file_path": "tumorboard.css",
            "path": "no-such-page",
        }
        return values[name]


@dataclass
class World:
    """Both sides, the role holders (of team A), and a user for the administration routes."""

    own: Side
    other: Side
    actors: dict[str, Actor]
    target: Actor


async def build_side(api: Factory, team: Team) -> Side:
    """A signed care plan on a started meeting, with a recommendation, an attachment, a follow-up and a
    series on the board."""
    case, recommendations = await discussed_case(api, team)
    attachment = await api.ok(
        api.client.post(
            f"/cases/{case['id']}/attachments",
            data={"kind": "pathology_report"},
            files={"file": ("report.pdf", PDF, "application/pdf")},
            headers=team.presenter.headers,
        ),
        201,
    )
    await consolidate(api.pool, case["id"])
    await sign(api, team.chair, case["id"])
    await api.ok(
        api.client.put(
            f"/cases/{case['id']}/care-plan/follow-up",
            json={"implementation": "fully"},
            headers=team.presenter.headers,
        ),
        200,
    )
    series = await api.series(team.coordinator, case["board_id"], recurrence_rule="FREQ=WEEKLY;BYDAY=WE")
    return Side(
        team=team,
        board=case["board_id"],
        meeting=case["meeting_id"],
        series=series["id"],
        case=case["id"],
        recommendation=recommendations[0]["id"],
        attachment=attachment["id"],
    )


async def build_world(api: Factory) -> World:
    own_team = await api.team()
    other_team = Team(
        coordinator=own_team.coordinator,
        presenter=await api.user("presenter", discipline="medical_oncology"),
        chair=await api.user("reviewer", discipline="medical_oncology"),
        surgeon=await api.user("reviewer", discipline="surgical_oncology"),
        radiation=await api.user("reviewer", discipline="radiation_oncology"),
    )
    own = await build_side(api, own_team)
    other = await build_side(api, other_team)
    actors = {
        "admin": await api.user("admin"),
        "coordinator": own_team.coordinator,
        "presenter": own_team.presenter,
        "reviewer": own_team.chair,
    }
    target = await api.user("reviewer", discipline="pathology")
    own.user = other.user = str(target.id)
    return World(own, other, actors, target)


def body(method: str, path: str, world: World, side: Side, role: str) -> dict[str, Any]:
    """A request body that passes validation, so that what answers is the access rule."""
    if method in {"GET", "DELETE"}:
        return {}
    api = path.startswith("/api/")
    key = path.removeprefix("/api/v1")
    email = world.actors.get(role, world.actors["presenter"]).email
    soon = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    if api:
        bodies: dict[str, Any] = {
            "/auth/token": {"email": email, "password": PASSWORD},
            "/auth/oidc/token": {"id_token": "not-a-token"},
            # The right password (a wrong one would count toward locking this address), kept as it is.
            "/me/password": {"current_password": PASSWORD, "new_password": PASSWORD},
            "/users": {
                "email": f"new-{uuid.uuid4().hex[:8]}@example.org",
                "full_name": "Dr. New",
                "password": "a long enough passphrase",
                "roles": ["coordinator"],
            },
            "/users/{user_id:uuid}": {"full_name": "Dr. Renamed"},
            "/users/{user_id:uuid}/password-reset": {"temporary_password": "a temporary passphrase"},
            "/boards": {"name": f"Board {uuid.uuid4().hex[:8]}", "disease_sites": ["thoracic"]},
            "/boards/{board_id:uuid}": {"minutes_per_case": 15},
            "/boards/{board_id:uuid}/checklist": {"items": []},
            "/boards/{board_id:uuid}/series": {
                "recurrence_rule": "FREQ=WEEKLY;BYDAY=TH",
                "starts_on": (datetime.now(UTC) + timedelta(days=9)).date().isoformat(),
                "start_time": "08:00",
            },
            "/series/{series_id:uuid}/participants": {"participants": participants(side)},
            "/meetings": {"board_id": side.board, "starts_at": soon},
            "/meetings/{meeting_id:uuid}": {"location": "Room 2"},
            "/meetings/{meeting_id:uuid}/participants": {"participants": participants(side)},
            "/meetings/{meeting_id:uuid}/attendance": {
                "attendance": [{"user_id": str(side.team.chair.id), "status": "present"}]
            },
            "/meetings/{meeting_id:uuid}/current-case": {"case_id": None},
            "/cases": case_body(),
            "/cases/{case_id:uuid}/meeting": {"meeting_id": side.meeting},
            "/cases/{case_id:uuid}/readiness": {"ecog": 1},
            "/cases/{case_id:uuid}/decision": decision_body(),
            "/cases/{case_id:uuid}/recommendations": recommendation_body(),
            "/recommendations/{recommendation_id:uuid}": {**recommendation_body(), "version": 1},
            "/cases/{case_id:uuid}/care-plan/amend": {"reason": "New pathology came in."},
            "/cases/{case_id:uuid}/care-plan/follow-up": {"implementation": "fully"},
            "/cases/{case_id:uuid}/care-plan/sign": {"password": PASSWORD},
        }
        if key == "/cases/{case_id:uuid}/attachments":
            return {
                "data": {"kind": "imaging_report"},
                "files": {"file": ("scan.pdf", PDF, "application/pdf")},
            }
        return {"json": bodies[key]} if key in bodies else {}
    if path == "/cases/{case_id:uuid}/attachments":
        return {"data": {"kind": "imaging_report"}, "files": {"file": ("scan.pdf", PDF, "application/pdf")}}
    local = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    forms: dict[str, dict[str, str | list[str]]] = {
        "/login": {"email": email, "password": PASSWORD},
        "/boards": {
            "name": f"Board {uuid.uuid4().hex[:8]}",
            "disease_sites": "thoracic",
            "required_disciplines": ["medical_oncology", "surgical_oncology", "radiation_oncology"],
        },
        "/meetings": {"board_id": side.board, "starts_at": local},
        "/cases/new": {
            "patient.mrn": f"MRN-{uuid.uuid4().hex[:8]}",
            "patient.given_name": "Ada",
            "patient.family_name": "Matrix",
            "patient.birth_date": "1960-01-01",
            "patient.sex": "female",
            "disease_site": "breast",
            "diagnosis.code": "C50.911",
            "diagnosis.system": "ICD-10-CM",
            "diagnosis.display": "Malignant neoplasm of breast",
            "ecog": "1",
            "summary": "Palpable mass.",
            "question": "Surgery first?",
        },
        "/cases/{case_id:uuid}/meeting": {"meeting_id": side.meeting},
        "/cases/{case_id:uuid}/decision": {"outcome": "defer", "summary": "Imaging first."},
        "/cases/{case_id:uuid}/recommendation": {
            "intent": "curative",
            "modalities": "surgery",
            "summary": "Surgery first.",
        },
        "/cases/{case_id:uuid}/care-plan/sign": {"version": "1", "password": PASSWORD},
        "/cases/{case_id:uuid}/follow-up": {"implementation": "fully"},
        "/meetings/{meeting_id:uuid}/present": {"case_id": side.case},
        "/boards/{board_id:uuid}": {"time_zone": "UTC", "minutes_per_case": "15", "agenda_lock_hours": "0"},
        "/boards/{board_id:uuid}/series": {
            "recurrence_rule": "FREQ=WEEKLY;BYDAY=TH",
            "starts_on": (datetime.now(UTC) + timedelta(days=9)).date().isoformat(),
            "start_time": "08:00",
        },
        "/cases/{case_id:uuid}/care-plan/amend": {"reason": "New pathology came in."},
        "/cases/{case_id:uuid}/readiness": {"ecog": "1"},
        "/meetings/{meeting_id:uuid}/edit": {"location": "Room 2"},
        "/series/{series_id:uuid}/participants": {
            "chair": str(side.team.chair.id),
            "reviewers": [str(side.team.surgeon.id), str(side.team.radiation.id)],
        },
    }
    return {"data": forms.get(path, {})}


def url_for(path: str, side: Side) -> str:
    """The route's URL on this side's records; reports get a board and a period."""
    url = PARAMETER.sub(lambda match: side.parameter(match[1], path), path)
    query = {**PERIOD, "board_id": side.board} if "/reports/" in path else {}
    query |= next((extra for end, extra in QUERIES.items() if path.endswith(end)), {})
    return url + ("?" + "&".join(f"{name}={value}" for name, value in query.items()) if query else "")


def participants(side: Side) -> list[dict[str, str]]:
    return [{"user_id": str(actor.id), "role": role} for actor, role in side.team.participants]


def refused(response: httpx.Response, role: str) -> bool:
    """Whether the answer refuses the caller: 401, 403, a hidden record's 404, or (for a visitor
    without a session) the sign-in page; signed in, that page follows signing out."""
    if response.status_code in {401, 403, 404}:
        return True
    location = response.headers.get("location", "")
    return role == ANONYMOUS and response.is_redirect and location.startswith("/login")


@pytest.mark.slow
async def test_every_route_answers_every_role_as_the_policy_says(server: str, api: Factory) -> None:
    world = await build_world(api)
    routes = sorted(
        POLICY.items(),
        key=lambda item: (item[0][0] != "GET", any(word in item[0][1] for word in LAST_WORDS), item[0]),
    )
    mismatches: list[str] = []
    async with httpx.AsyncClient(base_url=server, timeout=30, follow_redirects=False) as client:
        csrf = (await client.get("/")).cookies[CSRF_COOKIE]  # the token page forms send back
        client.cookies.clear()
        for (method, path), rule in routes:
            names = PARAMETER.findall(path)
            scoped = any(name in RECORD_PARAMETERS for name in names)
            for role in (ANONYMOUS, *ROLES):
                for side in (world.own, world.other) if scoped else (world.own,):
                    url = url_for(path, side)
                    headers = await credentials(api, world, role, path, csrf)
                    request = client.build_request(
                        method, url, headers=headers, **body(method, path, world, side, role)
                    )
                    response = await client.send(request, stream=True)
                    await response.aclose()
                    own = side is world.own
                    expected_refused = not rule.permits(role, own)
                    if not rule.seeded and response.status_code == 404:
                        continue  # no such record: the role gate let the call through to the lookup
                    if refused(response, role) != expected_refused:
                        whose = "own" if own else "other's"
                        verdict = "refused" if expected_refused else "allowed"
                        mismatches.append(
                            f"{method} {path} as {role} on {whose} record: expected {verdict},"
                            f" got {response.status_code}"
                        )
    assert not mismatches, f"{len(mismatches)} mismatches:\n" + "\n".join(mismatches)


async def credentials(api: Factory, world: World, role: str, path: str, csrf: str) -> dict[str, str]:
    """The headers of one call: a new bearer token for the API, a new browser session for the pages
    (with the CSRF token their forms carry), so that signing out or ending sessions spares the next
    call."""
    headers = {CSRF_HEADER: csrf}
    cookies = {CSRF_COOKIE: csrf}
    if role != ANONYMOUS:
        kind = API if path.startswith("/api/") else SESSION
        async with api.pool.acquire() as conn:
            token = await issue_token(conn, world.actors[role].id, kind, timedelta(minutes=30))
        if kind == API:
            headers["Authorization"] = f"Bearer {token.access_token}"
        else:
            cookies[SESSION_COOKIE] = token.access_token
    headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    return headers

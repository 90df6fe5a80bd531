"""Who may do what (the roles and least privilege of docs/security.md), and the audit trail of it."""

from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests.factories import PASSWORD, Actor, Factory, Team, case_body, decision_body, recommendation_body
from tumorboard.auth.service import API, SESSION, issue_token

# Helpers


async def scheduled_case(api: Factory) -> tuple[Team, dict[str, Any], dict[str, Any]]:
    """A team, a meeting with chair + two reviewers, and a case a coordinator put on it by hand."""
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"], team.participants)
    case = await api.case(team.presenter)
    case = await api.ok(
        api.client.put(
            f"/cases/{case['id']}/meeting",
            json={"meeting_id": meeting["id"]},
            headers=team.coordinator.headers,
        ),
        200,
    )
    assert case["status"] == "scheduled"
    return team, meeting, case


async def audit_rows(
    pool: asyncpg.Pool, actor: Actor, subject_id: str | uuid.UUID, outcome: str
) -> list[Any]:
    """Audit events of this actor on this subject with this outcome."""
    return await pool.fetch(
        "SELECT action, subject_type FROM audit_event"
        " WHERE actor_id = $1 AND subject_id = $2 AND outcome = $3",
        actor.id,
        uuid.UUID(str(subject_id)),
        outcome,
    )


def assert_forbidden(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["status_code"] == 403 and body["detail"]


async def assert_denied_and_audited(
    api: Factory, response: httpx.Response, actor: Actor, subject_id: str | uuid.UUID
) -> None:
    """A 403 whose refusal is in the audit trail with the actor and the subject."""
    assert_forbidden(response)
    assert await audit_rows(api.pool, actor, subject_id, "denied"), "no denied audit event"


def starts_at(days: int = 7) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


# Authentication


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/me"), ("GET", "/cases"), ("POST", "/cases"), ("GET", "/boards"), ("GET", "/meetings")],
)
async def test_no_token_is_401(api: Factory, method: str, path: str) -> None:
    response = await api.client.request(method, path, json=case_body() if method == "POST" else None)
    assert response.status_code == 401
    assert response.json()["status_code"] == 401
    assert response.headers.get("www-authenticate", "").lower().startswith("bearer")


async def test_no_token_on_a_case_is_401_not_403(api: Factory) -> None:
    presenter = await api.user("presenter")
    case = await api.case(presenter)
    assert (await api.client.get(f"/cases/{case['id']}")).status_code == 401


@pytest.mark.parametrize("header", ["Bearer not-a-real-token", "Bearer", "Basic dXNlcjpwYXNz", "not-bearer"])
async def test_bad_token_is_401(api: Factory, header: str) -> None:
    response = await api.client.get("/me", headers={"Authorization": header})
    assert response.status_code == 401


async def test_expired_token_is_401(api: Factory) -> None:
    user = await api.user("presenter")
    async with api.pool.acquire() as conn:
        expired = await issue_token(conn, user.id, API, timedelta(seconds=-1))
    response = await api.client.get("/me", headers={"Authorization": f"Bearer {expired.access_token}"})
    assert response.status_code == 401


async def test_session_token_is_not_a_bearer_token(api: Factory) -> None:
    user = await api.user("presenter")
    async with api.pool.acquire() as conn:
        session = await issue_token(conn, user.id, SESSION, timedelta(hours=1))
    response = await api.client.get("/me", headers={"Authorization": f"Bearer {session.access_token}"})
    assert response.status_code == 401


async def test_deactivated_user_token_is_401(api: Factory) -> None:
    user = await api.user("presenter")
    await api.pool.execute("UPDATE app_user SET is_active = false WHERE id = $1", user.id)
    assert (await api.client.get("/me", headers=user.headers)).status_code == 401


async def test_sign_in_with_good_credentials_gives_a_working_token(api: Factory) -> None:
    user = await api.user("presenter", discipline="medical_oncology")
    response = await api.client.post("/auth/token", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token = response.json()
    assert token["token_type"] == "bearer" and token["access_token"]
    assert datetime.fromisoformat(token["expires_at"]) > datetime.now(UTC)
    me = await api.client.get("/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 200
    assert me.json()["id"] == str(user.id) and me.json()["email"] == user.email
    assert me.json()["roles"] == ["presenter"] and me.json()["discipline"] == "medical_oncology"


async def test_sign_in_email_is_case_insensitive(api: Factory) -> None:
    user = await api.user("presenter")
    response = await api.client.post("/auth/token", json={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 200


async def test_sign_in_with_wrong_password_is_401(api: Factory) -> None:
    user = await api.user("presenter")
    response = await api.client.post("/auth/token", json={"email": user.email, "password": PASSWORD + "!"})
    assert response.status_code == 401
    assert "access_token" not in response.text


async def test_sign_in_with_unknown_email_is_401(api: Factory) -> None:
    response = await api.client.post(
        "/auth/token", json={"email": "nobody@example.org", "password": PASSWORD}
    )
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid email or password"


async def test_failed_sign_in_is_audited(api: Factory) -> None:
    user = await api.user("presenter")
    before = await api.pool.fetchval(
        "SELECT count(*) FROM audit_event WHERE action = 'sign_in' AND outcome = 'denied'"
    )
    await api.client.post("/auth/token", json={"email": user.email, "password": "wrong password"})
    after = await api.pool.fetchval(
        "SELECT count(*) FROM audit_event WHERE action = 'sign_in' AND outcome = 'denied'"
    )
    assert after == before + 1


# Users and boards


async def test_create_user_needs_admin(api: Factory) -> None:
    body = {
        "email": "new@example.org",
        "full_name": "Dr. New",
        "password": "a long enough password",
        "roles": ["presenter"],
    }
    for roles in (("coordinator",), ("presenter",), ("reviewer",)):
        actor = await api.user(*roles, discipline="pathology" if "reviewer" in roles else None)
        assert_forbidden(await api.client.post("/users", json=body, headers=actor.headers))
    assert await api.pool.fetchval("SELECT count(*) FROM app_user WHERE email = 'new@example.org'") == 0
    admin = await api.user("admin")
    created = await api.client.post("/users", json=body, headers=admin.headers)
    assert created.status_code == 201 and created.json()["roles"] == ["presenter"]
    assert body["password"] not in created.text and "password_hash" not in created.text


async def test_create_user_denial_is_audited(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    body = {
        "email": "x@example.org",
        "full_name": "X",
        "password": "a long enough password",
        "roles": ["admin"],
    }
    assert_forbidden(await api.client.post("/users", json=body, headers=coordinator.headers))
    row = await api.pool.fetchrow(
        "SELECT action, subject_type FROM audit_event WHERE actor_id = $1 AND outcome = 'denied'",
        coordinator.id,
    )
    assert row is not None and row["subject_type"] == "user"


async def test_list_users_is_for_admins_and_coordinators(api: Factory) -> None:
    presenter = await api.user("presenter")
    reviewer = await api.user("reviewer", discipline="pathology")
    for actor in (presenter, reviewer):
        assert_forbidden(await api.client.get("/users", headers=actor.headers))
    for roles in ("admin", "coordinator"):
        actor = await api.user(roles)
        response = await api.client.get("/users", headers=actor.headers)
        assert response.status_code == 200
        assert {"items", "next_cursor"} <= response.json().keys()


async def test_create_board_needs_coordinator(api: Factory) -> None:
    body = {"name": "Breast board", "disease_sites": ["breast"]}
    for roles in ("admin", "presenter", "reviewer"):
        actor = await api.user(roles, discipline="pathology" if roles == "reviewer" else None)
        assert_forbidden(await api.client.post("/boards", json=body, headers=actor.headers))
    assert await api.pool.fetchval("SELECT count(*) FROM board") == 0
    coordinator = await api.user("coordinator")
    assert (await api.client.post("/boards", json=body, headers=coordinator.headers)).status_code == 201


async def test_any_user_lists_boards_and_meetings(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    board = await api.board(coordinator)
    await api.meeting(coordinator, board["id"])
    presenter = await api.user("presenter")
    assert len(await api.ok(api.client.get("/boards", headers=presenter.headers), 200)) == 1
    # Meetings are filtered to what each may see (see test_meeting_visibility): a presenter without a
    # case on it sees none, a coordinator every one.
    assert (await api.ok(api.client.get("/meetings", headers=presenter.headers), 200))["items"] == []
    assert len((await api.ok(api.client.get("/meetings", headers=coordinator.headers), 200))["items"]) == 1


# Meetings


async def test_create_meeting_needs_coordinator(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    board = await api.board(coordinator)
    body = {"board_id": board["id"], "starts_at": starts_at()}
    for roles in ("admin", "presenter", "reviewer"):
        actor = await api.user(roles, discipline="pathology" if roles == "reviewer" else None)
        assert_forbidden(await api.client.post("/meetings", json=body, headers=actor.headers))
    assert await api.pool.fetchval("SELECT count(*) FROM meeting") == 0


async def test_replace_participants_needs_coordinator(api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"])
    body = {"participants": [{"user_id": str(team.chair.id), "role": "chair"}]}
    response = await api.client.put(
        f"/meetings/{meeting['id']}/participants", json=body, headers=team.chair.headers
    )
    await assert_denied_and_audited(api, response, team.chair, meeting["id"])
    assert await api.pool.fetchval("SELECT count(*) FROM meeting_participant") == 0


async def test_cancel_meeting_needs_coordinator(api: Factory) -> None:
    team, meeting, _case = await scheduled_case(api)
    response = await api.client.post(f"/meetings/{meeting['id']}/cancel", headers=team.chair.headers)
    await assert_denied_and_audited(api, response, team.chair, meeting["id"])
    still = await api.ok(api.client.get(f"/meetings/{meeting['id']}", headers=team.coordinator.headers), 200)
    assert still["status"] == "scheduled"
    cancelled = await api.client.post(f"/meetings/{meeting['id']}/cancel", headers=team.coordinator.headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


async def test_get_meeting_is_for_participants_and_coordinators(api: Factory) -> None:
    team, meeting, _case = await scheduled_case(api)
    path = f"/meetings/{meeting['id']}"
    for actor in (team.chair, team.surgeon, team.coordinator):
        assert (await api.client.get(path, headers=actor.headers)).status_code == 200
    outsider = await api.user("reviewer", discipline="medical_oncology")
    await assert_denied_and_audited(
        api, await api.client.get(path, headers=outsider.headers), outsider, meeting["id"]
    )
    # The case's own presenter takes no part in the meeting either.
    response = await api.client.get(path, headers=team.presenter.headers)
    await assert_denied_and_audited(api, response, team.presenter, meeting["id"])


# Cases: creating and acting


async def test_submit_case_needs_presenter(api: Factory) -> None:
    for roles in ("reviewer", "coordinator", "admin"):
        actor = await api.user(roles, discipline="medical_oncology" if roles == "reviewer" else None)
        assert_forbidden(await api.client.post("/cases", json=case_body(), headers=actor.headers))
        row = await api.pool.fetchrow(
            "SELECT subject_type FROM audit_event WHERE actor_id = $1 AND outcome = 'denied'", actor.id
        )
        assert row is not None and row["subject_type"] == "case"
    assert await api.pool.fetchval("SELECT count(*) FROM patient_case") == 0


async def test_move_case_needs_coordinator(api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"], team.participants)
    case = await api.case(team.presenter)
    for actor in (team.presenter, team.chair):
        response = await api.client.put(
            f"/cases/{case['id']}/meeting", json={"meeting_id": meeting["id"]}, headers=actor.headers
        )
        await assert_denied_and_audited(api, response, actor, case["id"])
    row = await api.pool.fetchrow(
        "SELECT meeting_id, status FROM patient_case WHERE id = $1", uuid.UUID(case["id"])
    )
    assert row["meeting_id"] is None and row["status"] == "submitted"


async def test_withdraw_is_for_the_case_presenter_only(api: Factory) -> None:
    team, _meeting, case = await scheduled_case(api)
    other = await api.user("presenter")
    for actor in (other, team.coordinator, team.chair):
        response = await api.client.post(f"/cases/{case['id']}/withdraw", headers=actor.headers)
        await assert_denied_and_audited(api, response, actor, case["id"])
    withdrawn = await api.client.post(f"/cases/{case['id']}/withdraw", headers=team.presenter.headers)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"


async def test_recommend_needs_a_reviewer_on_the_case_meeting(api: Factory) -> None:
    team, _meeting, case = await scheduled_case(api)
    path = f"/cases/{case['id']}/recommendations"
    outsider = await api.user("reviewer", discipline="radiation_oncology")
    for actor in (outsider, team.presenter, team.coordinator):
        response = await api.client.post(path, json=recommendation_body(), headers=actor.headers)
        await assert_denied_and_audited(api, response, actor, case["id"])
    assert await api.pool.fetchval("SELECT count(*) FROM recommendation") == 0
    created = await api.client.post(path, json=recommendation_body(), headers=team.surgeon.headers)
    assert created.status_code == 201 and created.json()["author_id"] == str(team.surgeon.id)


async def test_reviewer_of_another_meeting_cannot_recommend(api: Factory) -> None:
    team, _meeting, case = await scheduled_case(api)
    board = await api.board(team.coordinator)
    other_reviewer = await api.user("reviewer", discipline="surgical_oncology")
    await api.meeting(team.coordinator, board["id"], [(other_reviewer, "reviewer")])
    response = await api.client.post(
        f"/cases/{case['id']}/recommendations", json=recommendation_body(), headers=other_reviewer.headers
    )
    await assert_denied_and_audited(api, response, other_reviewer, case["id"])


async def test_update_recommendation_is_for_its_author_only(api: Factory) -> None:
    team, _meeting, case = await scheduled_case(api)
    created = await api.ok(
        api.client.post(
            f"/cases/{case['id']}/recommendations", json=recommendation_body(), headers=team.surgeon.headers
        ),
        201,
    )
    body = {**recommendation_body(intent="palliative"), "version": 1}
    for actor in (team.chair, team.radiation, team.coordinator, team.presenter):
        response = await api.client.put(f"/recommendations/{created['id']}", json=body, headers=actor.headers)
        await assert_denied_and_audited(api, response, actor, created["id"])
    assert await api.pool.fetchval("SELECT intent FROM recommendation") == "curative"
    updated = await api.client.put(
        f"/recommendations/{created['id']}", json=body, headers=team.surgeon.headers
    )
    assert updated.status_code == 200 and updated.json()["version"] == 2


async def test_an_author_no_longer_on_the_meeting_cannot_change_their_recommendation(api: Factory) -> None:
    team, meeting, case = await scheduled_case(api)
    created = await api.ok(
        api.client.post(
            f"/cases/{case['id']}/recommendations", json=recommendation_body(), headers=team.surgeon.headers
        ),
        201,
    )
    replacement = await api.user("reviewer", discipline="surgical_oncology")
    listed = [
        {"user_id": str(team.chair.id), "role": "chair"},
        {"user_id": str(replacement.id), "role": "reviewer"},
        {"user_id": str(team.radiation.id), "role": "reviewer"},
    ]
    await api.ok(
        api.client.put(
            f"/meetings/{meeting['id']}/participants",
            json={"participants": listed},
            headers=team.coordinator.headers,
        ),
        200,
    )
    body = {**recommendation_body(intent="palliative"), "version": 1}
    response = await api.client.put(
        f"/recommendations/{created['id']}", json=body, headers=team.surgeon.headers
    )
    await assert_denied_and_audited(api, response, team.surgeon, created["id"])
    assert "still taking part" in response.json()["detail"]
    assert await api.pool.fetchval("SELECT (intent, version)::text FROM recommendation") == "(curative,1)"


async def test_the_decision_is_for_the_chair_only(api: Factory) -> None:
    team, _meeting, case = await scheduled_case(api)
    path = f"/cases/{case['id']}/decision"
    for actor in (team.surgeon, team.coordinator, team.presenter):
        response = await api.client.post(path, json=decision_body(), headers=actor.headers)
        await assert_denied_and_audited(api, response, actor, case["id"])
    status = await api.pool.fetchval("SELECT status FROM patient_case WHERE id = $1", uuid.UUID(case["id"]))
    assert status == "scheduled"
    # The chair passes the access check; the board decides once its meeting is in progress.
    early = await api.client.post(path, json=decision_body(), headers=team.chair.headers)
    assert early.status_code == 409 and "in progress" in early.json()["detail"]


async def test_chair_of_another_meeting_cannot_decide(api: Factory) -> None:
    team, _meeting, case = await scheduled_case(api)
    board = await api.board(team.coordinator)
    other_chair = await api.user("reviewer", discipline="medical_oncology")
    await api.meeting(team.coordinator, board["id"], [(other_chair, "chair")])
    response = await api.client.post(
        f"/cases/{case['id']}/decision", json=decision_body(), headers=other_chair.headers
    )
    await assert_denied_and_audited(api, response, other_chair, case["id"])


async def test_sign_is_for_the_chair_only(api: Factory) -> None:
    team, _meeting, case = await scheduled_case(api)
    for actor in (team.surgeon, team.radiation, team.coordinator, team.presenter):
        await assert_denied_and_audited(api, await api.sign(actor, case["id"]), actor, case["id"])
    # The chair passes the access check and the password; nothing is signed before the board decided.
    early = await api.sign(team.chair, case["id"])
    assert early.status_code == 409 and "decided" in early.json()["detail"]


async def test_sign_refuses_a_stranger_before_a_wrong_password_before_a_wrong_state(api: Factory) -> None:
    team, _meeting, case = await scheduled_case(api)
    stranger = await api.sign(team.surgeon, case["id"], password="not the password at all")
    await assert_denied_and_audited(api, stranger, team.surgeon, case["id"])
    wrong = await api.sign(team.chair, case["id"], password="not the password at all")
    assert wrong.status_code == 401 and wrong.json()["detail"] == "The password is not correct"
    failed_sign_in = await api.pool.fetchval(
        "SELECT count(*) FROM audit_event WHERE actor_id = $1 AND action = 'sign_in'"
        " AND subject_type = 'user' AND subject_id = $1 AND outcome = 'denied'",
        team.chair.id,
    )
    assert failed_sign_in == 1
    assert (await api.sign(team.chair, case["id"])).status_code == 409
    missing = await api.client.post(
        f"/cases/{case['id']}/care-plan/sign", json={}, headers=team.chair.headers
    )
    assert missing.status_code == 400 and missing.json()["extra"][0]["key"] == "password"


# Cases: who sees what


async def test_presenter_sees_own_case_but_not_another_presenters(api: Factory) -> None:
    mine, theirs = await api.user("presenter"), await api.user("presenter")
    my_case = await api.case(mine)
    their_case = await api.case(theirs)
    assert (await api.client.get(f"/cases/{my_case['id']}", headers=mine.headers)).status_code == 200
    response = await api.client.get(f"/cases/{their_case['id']}", headers=mine.headers)
    await assert_denied_and_audited(api, response, mine, their_case["id"])
    assert their_case["patient"]["mrn"] not in response.text
    assert their_case["patient"]["family_name"] not in response.text


async def test_presenter_lists_only_own_cases(api: Factory) -> None:
    mine, theirs = await api.user("presenter"), await api.user("presenter")
    own = [await api.case(mine), await api.case(mine)]
    await api.case(theirs)
    page = await api.ok(api.client.get("/cases", headers=mine.headers), 200)
    assert {case["id"] for case in page["items"]} == {case["id"] for case in own}


async def test_reviewer_sees_only_cases_on_their_meetings(api: Factory) -> None:
    team, _meeting, case = await scheduled_case(api)
    waiting = await api.case(team.presenter)  # on no meeting
    outsider = await api.user("reviewer", discipline="surgical_oncology")
    for reviewer in (team.chair, team.surgeon, team.radiation):
        assert (await api.client.get(f"/cases/{case['id']}", headers=reviewer.headers)).status_code == 200
        response = await api.client.get(f"/cases/{waiting['id']}", headers=reviewer.headers)
        await assert_denied_and_audited(api, response, reviewer, waiting["id"])
    response = await api.client.get(f"/cases/{case['id']}", headers=outsider.headers)
    await assert_denied_and_audited(api, response, outsider, case["id"])


async def test_reviewer_lists_only_cases_on_their_meetings(api: Factory) -> None:
    team, _meeting, case = await scheduled_case(api)
    await api.case(team.presenter)
    outsider = await api.user("reviewer", discipline="surgical_oncology")
    page = await api.ok(api.client.get("/cases", headers=team.surgeon.headers), 200)
    assert [item["id"] for item in page["items"]] == [case["id"]]
    assert (await api.ok(api.client.get("/cases", headers=outsider.headers), 200))["items"] == []


async def test_reviewer_loses_sight_of_case_when_removed_from_meeting(api: Factory) -> None:
    team, meeting, case = await scheduled_case(api)
    await api.ok(
        api.client.put(
            f"/meetings/{meeting['id']}/participants",
            json={"participants": [{"user_id": str(team.chair.id), "role": "chair"}]},
            headers=team.coordinator.headers,
        ),
        200,
    )
    assert_forbidden(await api.client.get(f"/cases/{case['id']}", headers=team.surgeon.headers))


async def test_coordinator_sees_all_cases(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    first, second = await api.user("presenter"), await api.user("presenter")
    cases = [await api.case(first), await api.case(second)]
    for case in cases:
        assert (await api.client.get(f"/cases/{case['id']}", headers=coordinator.headers)).status_code == 200
    page = await api.ok(api.client.get("/cases", headers=coordinator.headers), 200)
    assert {item["id"] for item in page["items"]} == {case["id"] for case in cases}


async def test_admin_alone_does_not_see_cases(api: Factory) -> None:
    admin = await api.user("admin")
    case = await api.case(await api.user("presenter"))
    await assert_denied_and_audited(
        api, await api.client.get(f"/cases/{case['id']}", headers=admin.headers), admin, case["id"]
    )
    assert (await api.ok(api.client.get("/cases", headers=admin.headers), 200))["items"] == []


async def test_mine_filter_narrows_to_own_cases(api: Factory) -> None:
    both = await api.user("presenter", "coordinator")
    own = await api.case(both)
    await api.case(await api.user("presenter"))
    everything = await api.ok(api.client.get("/cases", headers=both.headers), 200)
    assert len(everything["items"]) == 2
    mine = await api.ok(api.client.get("/cases?mine=true", headers=both.headers), 200)
    assert [item["id"] for item in mine["items"]] == [own["id"]]


@pytest.mark.parametrize(
    "suffix",
    ["/care-plan", "/care-plan.html", "/care-plan.pdf", "/care-plan.fhir.json", "/recommendations"],
)
async def test_care_plan_and_recommendations_follow_case_access(api: Factory, suffix: str) -> None:
    team, _meeting, case = await scheduled_case(api)
    path = f"/cases/{case['id']}{suffix}"
    other_presenter = await api.user("presenter")
    outsider = await api.user("reviewer", discipline="pathology")
    for actor in (other_presenter, outsider):
        await assert_denied_and_audited(
            api, await api.client.get(path, headers=actor.headers), actor, case["id"]
        )
    # Those who may see the case get past the access check: no draft yet (404) or the list (200).
    allowed = 200 if suffix == "/recommendations" else 404
    for actor in (team.presenter, team.surgeon, team.coordinator):
        assert (await api.client.get(path, headers=actor.headers)).status_code == allowed


async def test_unknown_case_is_404_for_everyone(api: Factory) -> None:
    presenter = await api.user("presenter")
    missing = uuid.uuid4()
    for path in (f"/cases/{missing}", f"/cases/{missing}/care-plan", f"/cases/{missing}/recommendations"):
        assert (await api.client.get(path, headers=presenter.headers)).status_code == 404


# Audit of reads


async def test_case_read_is_audited_as_allowed(api: Factory) -> None:
    presenter = await api.user("presenter")
    case = await api.case(presenter)
    await api.ok(api.client.get(f"/cases/{case['id']}", headers=presenter.headers), 200)
    rows = await audit_rows(api.pool, presenter, case["id"], "allowed")
    assert ("read", "case") in [(row["action"], row["subject_type"]) for row in rows]


async def test_case_list_read_is_audited_per_case(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    cases = [await api.case(await api.user("presenter")) for _ in range(2)]
    await api.ok(api.client.get("/cases", headers=coordinator.headers), 200)
    for case in cases:
        rows = await audit_rows(api.pool, coordinator, case["id"], "allowed")
        assert "read" in [row["action"] for row in rows]


async def test_denied_read_leaves_no_allowed_event(api: Factory) -> None:
    mine, theirs = await api.user("presenter"), await api.user("presenter")
    case = await api.case(theirs)
    assert_forbidden(await api.client.get(f"/cases/{case['id']}", headers=mine.headers))
    assert await audit_rows(api.pool, mine, case["id"], "allowed") == []
    denied = await audit_rows(api.pool, mine, case["id"], "denied")
    assert [(row["action"], row["subject_type"]) for row in denied] == [("read", "case")]


# With a real worker: automatic assignment grants the meeting's reviewers sight of the case


@pytest.mark.slow
async def test_reviewers_see_a_case_the_worker_assigned(
    api: Factory, worker: subprocess.Popen[bytes]
) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"], team.participants)
    case = await api.case_on_meeting(team.presenter, meeting["id"])
    outsider = await api.user("reviewer", discipline="surgical_oncology")
    assert (await api.client.get(f"/cases/{case['id']}", headers=team.radiation.headers)).status_code == 200
    await assert_denied_and_audited(
        api, await api.client.get(f"/cases/{case['id']}", headers=outsider.headers), outsider, case["id"]
    )

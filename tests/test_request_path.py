"""The hottest requests check their bearer token in their own statement (a case read, a case
submission: auth/caller.py): what a caller notices must be exactly what every other route does. A
revoked token is refused at once and writes nothing, a pending password change or a missing role
refuses before anything is written, a bad token is answered 401 before a bad body, and the audit
trail names the token that read or created the case."""

from __future__ import annotations

import uuid
from typing import Any

from tests.factories import Factory, case_body


def _body_for_new_patient() -> tuple[dict[str, Any], str]:
    """A valid case body naming a patient nobody submitted yet, and its MRN."""
    body = case_body()
    mrn = f"MRN-{uuid.uuid4().hex[:10]}"
    body["patient"]["mrn"] = mrn
    return body, mrn


async def _case_count(api: Factory, presenter_id: uuid.UUID) -> int:
    return int(
        await api.pool.fetchval("SELECT count(*) FROM patient_case WHERE presenter_id = $1", presenter_id)
    )


async def _reads(api: Factory, case_id: str) -> int:
    return int(
        await api.pool.fetchval(
            "SELECT count(*) FROM audit_event WHERE action = 'read' AND subject_id = $1", uuid.UUID(case_id)
        )
    )


async def test_a_revoked_token_is_refused_by_the_next_read_and_submission(api: Factory) -> None:
    presenter = await api.user("presenter")
    case = await api.case(presenter)
    assert (await api.client.get(f"/cases/{case['id']}", headers=presenter.headers)).status_code == 200
    reads = await _reads(api, case["id"])
    await api.pool.execute("DELETE FROM access_token WHERE user_id = $1", presenter.id)  # any process
    read = await api.client.get(f"/cases/{case['id']}", headers=presenter.headers)
    submitted = await api.client.post("/cases", json=case_body(), headers=presenter.headers)
    assert (read.status_code, submitted.status_code) == (401, 401)
    assert read.headers["www-authenticate"] == "Bearer"
    assert await _reads(api, case["id"]) == reads
    assert await _case_count(api, presenter.id) == 1


async def test_a_pending_password_change_refuses_reading_and_submitting_and_writes_nothing(
    api: Factory,
) -> None:
    presenter = await api.user("presenter")
    case = await api.case(presenter)
    reads = await _reads(api, case["id"])
    await api.pool.execute("UPDATE app_user SET password_change_required = true WHERE id = $1", presenter.id)
    body, mrn = _body_for_new_patient()
    read = await api.client.get(f"/cases/{case['id']}", headers=presenter.headers)
    submitted = await api.client.post("/cases", json=body, headers=presenter.headers)
    for refused in (read, submitted):
        assert refused.status_code == 403, refused.text
        assert "Change your password first" in refused.json()["detail"]
    assert await _reads(api, case["id"]) == reads
    assert await _case_count(api, presenter.id) == 1
    assert await api.pool.fetchval("SELECT count(*) FROM patient WHERE mrn = $1", mrn) == 0


async def test_only_presenters_submit_and_the_refusal_is_audited_with_nothing_written(api: Factory) -> None:
    reviewer = await api.user("reviewer", discipline="pathology")
    body, mrn = _body_for_new_patient()
    refused = await api.client.post("/cases", json=body, headers=reviewer.headers)
    assert refused.status_code == 403, refused.text
    assert await _case_count(api, reviewer.id) == 0
    assert await api.pool.fetchval("SELECT count(*) FROM patient WHERE mrn = $1", mrn) == 0
    audited = await api.pool.fetchrow(
        "SELECT outcome, status_code, credential_id FROM audit_event"
        " WHERE actor_id = $1 AND action = 'create' AND subject_type = 'case'",
        reviewer.id,
    )
    assert audited is not None and audited["outcome"] == "denied" and audited["credential_id"] is not None


async def test_a_bad_token_is_answered_before_a_bad_body_or_a_past_date(api: Factory) -> None:
    bad = {"Authorization": "Bearer not-a-token"}
    for body in ({}, case_body(discuss_by="2001-01-01"), case_body()):
        response = await api.client.post("/cases", json=body, headers=bad)
        assert response.status_code == 401, (body, response.text)
    assert (await api.client.get(f"/cases/{uuid.uuid4()}", headers=bad)).status_code == 401
    presenter = await api.user("presenter")
    assert (await api.client.get(f"/cases/{uuid.uuid4()}", headers=presenter.headers)).status_code == 404
    response = await api.client.post(
        "/cases", json=case_body(discuss_by="2001-01-01"), headers=presenter.headers
    )
    assert response.status_code == 400 and response.json()["extra"][0]["key"] == "discuss_by"


async def test_the_audit_trail_names_the_token_that_read_and_created_the_case(api: Factory) -> None:
    presenter, coordinator, stranger = (
        await api.user("presenter"),
        await api.user("coordinator"),
        await api.user("reviewer", discipline="pathology"),
    )
    case = await api.case(presenter)
    assert (await api.client.get(f"/cases/{case['id']}", headers=coordinator.headers)).status_code == 200
    assert (await api.client.get(f"/cases/{case['id']}", headers=stranger.headers)).status_code == 403
    rows = await api.pool.fetch(
        "SELECT e.actor_id, e.action, e.outcome, t.user_id AS token_user FROM audit_event e"
        " LEFT JOIN access_token t ON t.id = e.credential_id WHERE e.subject_id = $1 ORDER BY e.id",
        uuid.UUID(case["id"]),
    )
    assert [(r["actor_id"], r["action"], r["outcome"]) for r in rows] == [
        (presenter.id, "create", "allowed"),
        (coordinator.id, "read", "allowed"),
        (stranger.id, "read", "denied"),
    ]
    assert all(r["token_user"] == r["actor_id"] for r in rows)

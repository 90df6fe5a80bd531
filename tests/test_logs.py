"""Logs: a full flow, from submission to signed care plan and its PDF, leaves JSON lines in the web
and worker logs that follow the request into its jobs and hold none of the patient data sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.factories import case_body, eventually, recommendation_body
from tests.isolated_stack import isolated_stack

pytestmark = pytest.mark.slow

PATIENT = {
    "mrn": "MRN-LOGSCAN-7731",
    "given_name": "Quintessa",
    "family_name": "Vandermolenbeek",
    "birth_date": "1944-02-29",
    "sex": "female",
}
CLINICAL = {
    "diagnosis": {"code": "C50.412", "system": "ICD-10-CM", "display": "Zanzibarine lobular carcinoma"},
    "histology": "Xanthic lobular carcinoma",
    "stage": {"system": "AJCC8", "t": "cT3", "n": "cN2", "m": "cM0", "group": "IIIA"},
    "biomarkers": [{"name": "ESR1-QZX", "value": "mutated-QZX"}],
    "summary": "Mass found by the patient's granddaughter Philippa",
    "question": "Is a mastectomy warranted before the Okavango trip?",
}
REQUEST_ID = "logscan-request-0001"


def _sent_values() -> list[str]:
    """Every free-text or identifying value the flow sends about the patient."""
    values = [PATIENT[name] for name in ("mrn", "given_name", "family_name", "birth_date")]
    values += [CLINICAL["diagnosis"]["code"], CLINICAL["diagnosis"]["display"], CLINICAL["histology"]]
    values += [
        CLINICAL["stage"]["t"] + " " + CLINICAL["stage"]["n"],
        CLINICAL["summary"],
        CLINICAL["question"],
    ]
    values += [item for marker in CLINICAL["biomarkers"] for item in marker.values()]
    return values


def _lines(path: Path) -> list[dict[str, Any]]:
    """The log's lines, each of which must be one JSON object."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_a_full_flow_logs_request_ids_into_jobs_and_no_patient_data(
    service_urls: tuple[str, str], tmp_path: Path
) -> None:
    async with isolated_stack(service_urls, tmp_path) as stack:
        worker = stack.start_worker()
        api, client = stack.api, stack.api.client
        team = await api.team()
        meeting = await api.board_meeting_soon(team)
        body = case_body(patient=PATIENT, **CLINICAL)
        submitted = await client.post(
            "/cases", json=body, headers={**team.presenter.headers, "X-Request-ID": REQUEST_ID}
        )
        assert submitted.status_code == 201 and submitted.headers["x-request-id"] == REQUEST_ID
        case = submitted.json()
        # Bad input that carries patient data: refused by field name, never echoed to the log.
        bad = {**body, "patient": {**PATIENT, "sex": PATIENT["family_name"]}, "ecog": PATIENT["given_name"]}
        refused = await client.post("/cases", json=bad, headers=team.presenter.headers)
        assert refused.status_code == 400
        assert (
            await client.get(f"/patients/{PATIENT['mrn']}", headers=team.presenter.headers)
        ).status_code == 404

        async def scheduled() -> dict[str, Any] | None:
            current = await api.ok(client.get(f"/cases/{case['id']}", headers=team.presenter.headers), 200)
            return current if current["meeting_id"] == meeting["id"] else None

        await eventually(scheduled, within=60)
        for reviewer in (team.chair, team.surgeon, team.radiation):
            created = await client.post(
                f"/cases/{case['id']}/recommendations",
                json=recommendation_body(summary=f"Treat {PATIENT['given_name']} as planned"),
                headers=reviewer.headers,
            )
            assert created.status_code == 201

        await api.start(team.chair, meeting["id"])
        await api.attendance(team.chair, meeting["id"], present=[team.chair, team.surgeon, team.radiation])
        decided = await api.decide(team.chair, case["id"], rationale=f"{PATIENT['family_name']} agreed")
        assert decided.status_code == 200

        async def draft() -> bool:
            return (
                await client.get(f"/cases/{case['id']}/care-plan", headers=team.chair.headers)
            ).status_code == 200

        await eventually(draft, within=60)
        assert (await api.sign(team.chair, case["id"], password="not the password")).status_code == 401
        assert (await api.sign(team.chair, case["id"])).status_code == 200

        async def final_pdf() -> bool:
            response = await client.get(f"/cases/{case['id']}/care-plan.pdf", headers=team.presenter.headers)
            return response.status_code == 200

        await eventually(final_pdf, within=60)
        assert worker.poll() is None
    web_lines, worker_lines = _lines(tmp_path / "web.log"), _lines(tmp_path / "worker-0.log")

    requests = [line for line in web_lines if line["message"] == "request"]
    assert {
        "method": "POST",
        "route": "/api/v1/cases",
        "status": 201,
        "request_id": REQUEST_ID,
    }.items() <= next(line for line in requests if line.get("request_id") == REQUEST_ID).items()
    assert any(line["route"] == "unmatched" and line["status"] == 404 for line in requests)
    assert any(
        line.get("job") == "assign_case"
        and line.get("request_id") == REQUEST_ID
        and line["message"] == "job done"
        for line in worker_lines
    )
    assert {line.get("job") for line in worker_lines} >= {
        "assign_case",
        "consolidate_care_plan",
        "render_care_plan_pdf",
    }

    logs = ((tmp_path / "web.log").read_text() + (tmp_path / "worker-0.log").read_text()).lower()
    for value in [*_sent_values(), case["patient"]["mrn"]]:
        assert value.lower() not in logs, f"the logs hold a patient value: {value!r}"

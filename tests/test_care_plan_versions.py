"""Care plan versions: each kept and readable, what changed between two, amendments after signing,
and the content hash that makes a signed version checkable."""

from __future__ import annotations

import io
import re

import asyncpg
import pytest
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader

from tests.care_plan_helpers import consolidate, discussed_case, render_pdf, revise, sign, signed_case
from tests.factories import Factory
from tumorboard.care_plans.service import content_hash

ALT_PLAN = ["surgery", "radiation"]


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF, whitespace squashed."""
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


async def test_every_version_is_kept_and_readable(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case, recommendations = await discussed_case(api, team)
    await consolidate(pool, case["id"])
    await revise(
        api, team.surgeon, recommendations[1]["id"], 1, modalities=ALT_PLAN, summary="Upfront surgery."
    )
    await consolidate(pool, case["id"])
    headers = team.presenter.headers

    listed = await api.ok(api.client.get(f"/cases/{case['id']}/care-plans", headers=headers), 200)
    assert [(v["version"], v["status"], v["consensus"]) for v in listed] == [
        (1, "draft", True),
        (2, "draft", False),
    ]

    first = await api.ok(api.client.get(f"/cases/{case['id']}/care-plans/1", headers=headers), 200)
    assert first["id"] == listed[0]["id"] and first["modalities"] == [
        "systemic_therapy",
        "surgery",
        "radiation",
    ]
    html = await api.client.get(f"/cases/{case['id']}/care-plans/1.html", headers=headers)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "Version 1" in html.text and "Upfront surgery." not in html.text
    fhir = await api.ok(api.client.get(f"/cases/{case['id']}/care-plans/2.fhir.json", headers=headers), 200)
    (plan,) = [
        e.resource for e in Bundle.model_validate(fhir).entry if e.resource.get_resource_type() == "CarePlan"
    ]
    assert plan.title.endswith("version 2")

    assert (await api.client.get(f"/cases/{case['id']}/care-plans/1.pdf", headers=headers)).status_code == 503
    assert await render_pdf(pool, listed[0]["id"])
    pdf = await api.client.get(f"/cases/{case['id']}/care-plans/1.pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "Version 1" in pdf_text(pdf.content) and case["patient"]["mrn"] in pdf_text(pdf.content)

    for missing in ("3", "3.html", "0", "1.docx", "one"):
        response = await api.client.get(f"/cases/{case['id']}/care-plans/{missing}", headers=headers)
        assert response.status_code == 404, missing
    outsider = await api.user("presenter")
    denied = await api.client.get(f"/cases/{case['id']}/care-plans/1", headers=outsider.headers)
    assert denied.status_code == 403


async def test_versions_list_is_empty_before_the_first_draft(api: Factory) -> None:
    team = await api.team()
    case = await api.case(team.presenter)
    assert (
        await api.ok(api.client.get(f"/cases/{case['id']}/care-plans", headers=team.presenter.headers), 200)
        == []
    )


async def test_diff_names_the_changed_fields_and_recommendations(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case, recommendations = await discussed_case(api, team)
    await consolidate(pool, case["id"])
    await revise(
        api,
        team.surgeon,
        recommendations[1]["id"],
        1,
        modalities=ALT_PLAN,
        guideline={
            "name": "NCCN Breast",
            "version": "2026.1",
            "concordant": False,
            "reason": "Patient frailty.",
        },
    )
    await consolidate(pool, case["id"])
    headers = team.presenter.headers

    diff = await api.ok(api.client.get(f"/cases/{case['id']}/care-plans/2/diff", headers=headers), 200)
    assert (diff["from_version"], diff["to_version"]) == (1, 2)
    changed = {c["field"]: (c["before"], c["after"]) for c in diff["changes"]}
    assert changed["consensus"] == (True, False)
    assert (
        "intent" not in changed and "modalities" not in changed
    )  # two of three still propose the first plan
    assert len(changed["proposals"][1]) == 2
    (rec,) = diff["recommendations"]
    assert rec["change"] == "changed" and rec["author_name"] == "Dr. Surgeon"
    fields = {f["field"]: f["after"] for f in rec["fields"]}
    assert fields["modalities"] == ALT_PLAN
    assert fields["guideline"]["reason"] == "Patient frailty."
    assert set(fields) == {"modalities", "guideline"}

    explicit = await api.ok(
        api.client.get(f"/cases/{case['id']}/care-plans/2/diff?from=1", headers=headers), 200
    )
    assert explicit == diff
    same = await api.ok(api.client.get(f"/cases/{case['id']}/care-plans/2/diff?from=2", headers=headers), 200)
    assert same["changes"] == [] and same["recommendations"] == []
    backwards = await api.ok(
        api.client.get(f"/cases/{case['id']}/care-plans/1/diff?from=2", headers=headers), 200
    )
    assert {c["field"]: c["after"] for c in backwards["changes"]}["consensus"] is True
    assert (
        await api.client.get(f"/cases/{case['id']}/care-plans/1/diff", headers=headers)
    ).status_code == 400
    assert (
        await api.client.get(f"/cases/{case['id']}/care-plans/2/diff?from=7", headers=headers)
    ).status_code == 404

    html = (await api.client.get(f"/cases/{case['id']}/care-plans/2.html", headers=headers)).text
    section = html[html.index("Changes since version 1") :]
    assert "Surgery → Radiation" in section and "Patient frailty." in section
    assert (
        "Changes since"
        not in (await api.client.get(f"/cases/{case['id']}/care-plans/1.html", headers=headers)).text
    )


async def test_amendment_reopens_a_signed_plan_and_replaces_it_once_signed(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    case, recommendations = await discussed_case(api, team)
    await consolidate(pool, case["id"])
    first = await sign(api, team.chair, case["id"])
    url = f"/cases/{case['id']}/care-plan/amend"
    reason = {"reason": "Pathology review upgraded the tumour; surgery first."}

    assert (await api.client.post(url, json=reason, headers=team.surgeon.headers)).status_code == 403
    assert (await api.client.post(url, json={}, headers=team.chair.headers)).status_code == 400
    amendment = await api.ok(api.client.post(url, json=reason, headers=team.chair.headers), 201)
    assert amendment["amends_version"] == 1 and amendment["reason"] == reason["reason"]
    assert (await api.client.post(url, json=reason, headers=team.chair.headers)).status_code == 409
    reopened = await api.ok(api.client.get(f"/cases/{case['id']}", headers=team.presenter.headers), 200)
    assert reopened["status"] == "discussed"
    # No draft of the amendment yet: nothing to sign.
    assert (await api.sign(team.chair, case["id"])).status_code == 409

    assert await consolidate(pool, case["id"]) == 2
    assert await consolidate(pool, case["id"]) is None
    draft = await api.ok(
        api.client.get(f"/cases/{case['id']}/care-plan", headers=team.presenter.headers), 200
    )
    assert (draft["version"], draft["status"], draft["replaces_version"]) == (2, "draft", 1)
    assert draft["amendment_reason"] == reason["reason"]

    await revise(api, team.chair, recommendations[0]["id"], 1, modalities=ALT_PLAN)
    await revise(api, team.surgeon, recommendations[1]["id"], 1, modalities=ALT_PLAN)
    # The meeting still runs: the chair corrects the board's decision to the new plan.
    await api.ok(api.decide(team.chair, case["id"], modalities=ALT_PLAN), 200)
    assert await consolidate(pool, case["id"]) == 3
    final = await sign(api, team.chair, case["id"])
    assert (final["version"], final["status"], final["replaces_version"]) == (3, "final", 1)
    assert final["modalities"] == ALT_PLAN
    finalized = await api.ok(api.client.get(f"/cases/{case['id']}", headers=team.presenter.headers), 200)
    assert finalized["status"] == "finalized"

    versions = await api.ok(
        api.client.get(f"/cases/{case['id']}/care-plans", headers=team.presenter.headers), 200
    )
    assert [(v["version"], v["status"], v["replaces_version"]) for v in versions] == [
        (1, "final", None),
        (2, "draft", 1),
        (3, "final", 1),
    ]
    assert versions[0]["content_hash"] == first["content_hash"]
    assert await pool.fetchval(
        "SELECT signed_id = $2 FROM care_plan_amendment WHERE case_id = $1", case["id"], final["id"]
    )

    html = (await api.client.get(f"/cases/{case['id']}/care-plan.html", headers=team.presenter.headers)).text
    assert "Amendment of signed version 1" in html and reason["reason"] in html
    assert "Changes since version 1" in html and final["content_hash"] in html
    fhir = await api.ok(
        api.client.get(f"/cases/{case['id']}/care-plan.fhir.json", headers=team.presenter.headers), 200
    )
    (plan,) = [e["resource"] for e in fhir["entry"] if e["resource"]["resourceType"] == "CarePlan"]
    assert plan["replaces"][0]["identifier"]["value"] == first["id"]
    Bundle.model_validate(fhir)


async def test_only_a_signed_plan_can_be_amended(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case, _ = await discussed_case(api, team)
    await consolidate(pool, case["id"])
    refused = await api.client.post(
        f"/cases/{case['id']}/care-plan/amend", json={"reason": "Too early."}, headers=team.chair.headers
    )
    assert refused.status_code == 409


async def test_content_hash_is_recomputable_and_printed(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case = await signed_case(api, pool, team)
    row = await pool.fetchrow(
        "SELECT id, version, content, content_hash FROM care_plan WHERE case_id = $1", case["id"]
    )
    assert row["content_hash"] == content_hash(case["id"], row["version"], row["content"])
    html = (
        await api.client.get(f"/cases/{case['id']}/care-plans/1.html", headers=team.presenter.headers)
    ).text
    assert row["content_hash"] in html
    await render_pdf(pool, row["id"])
    pdf = await api.client.get(f"/cases/{case['id']}/care-plans/1.pdf", headers=team.presenter.headers)
    assert row["content_hash"] in pdf_text(pdf.content).replace(" ", "")


async def test_the_database_keeps_versions_as_written(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case, _ = await discussed_case(api, team)
    await consolidate(pool, case["id"])
    draft_id = await pool.fetchval("SELECT id FROM care_plan WHERE case_id = $1", case["id"])
    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await pool.execute("UPDATE care_plan SET content = '{}' WHERE id = $1", draft_id)
    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await pool.execute(
            "INSERT INTO care_plan_amendment (case_id, amends_id, reason, requested_by)"
            " VALUES ($1, $2, 'x', $3)",
            case["id"],
            draft_id,
            team.chair.id,
        )

    await sign(api, team.chair, case["id"])
    await render_pdf(pool, draft_id)
    for statement in (
        "UPDATE care_plan SET signed_at = now() WHERE id = $1",
        "DELETE FROM care_plan WHERE id = $1",
        "UPDATE care_plan_pdf SET pdf = 'x' WHERE care_plan_id = $1 AND status = 'final'",
        "DELETE FROM care_plan_pdf WHERE care_plan_id = $1 AND status = 'final'",
    ):
        with pytest.raises(asyncpg.IntegrityConstraintViolationError):
            await pool.execute(statement, draft_id)
    with pytest.raises(asyncpg.UniqueViolationError):
        await pool.execute(
            "INSERT INTO care_plan (case_id, version, consensus, content, source_fingerprint)"
            " VALUES ($1, 1, true, '{}', 'x')",
            case["id"],
        )


async def test_version_numbers_out_of_range_are_not_found(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case, _ = await discussed_case(api, team)
    await consolidate(pool, case["id"])
    base = f"/cases/{case['id']}/care-plans"
    headers = team.presenter.headers
    assert (await api.client.get(f"{base}/99999999999/diff", headers=headers)).status_code == 404
    assert (await api.client.get(f"{base}/1/diff?from=99999999999", headers=headers)).status_code == 400
    assert (await api.client.get(f"{base}/9999999.html", headers=headers)).status_code == 404

"""The board quality report page (figures, charts, downloads) and the implementation follow-up page."""

from __future__ import annotations

import csv
import io
import re

import asyncpg
from defusedxml import ElementTree as ET

from tests.browser.support import field_error, flash_of, page_client, text_of
from tests.care_plan_helpers import consolidate, discussed_case, signed_case
from tests.factories import Factory
from tests.report_seed import seed_march

MARCH = "from=2026-03-01&to=2026-03-31"
SVG = "{http://www.w3.org/2000/svg}"


def _svgs(html: str) -> list[ET.Element]:
    """Every inline SVG of a page, parsed (so each must be well-formed XML)."""
    return [ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", html, flags=re.S)]


def _table_after(html: str, heading: str) -> list[list[str]]:
    """The rows (header cells and data cells as text) of the first table after a heading."""
    start = html.index(heading)
    table = html[start : html.index("</table>", start)]
    rows = re.findall(r"<tr\b.*?</tr>", table, flags=re.S)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd]\b.*?</t[hd]>", r, flags=re.S)]
        for r in rows
    ]


async def test_the_report_page_shows_the_figures_and_charts_of_the_seeded_month(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    seeded = await seed_march(api, pool)
    async with page_client(server, seeded.coordinator) as browser:
        response = await browser.get(f"/reports/quality?board_id={seeded.board_id}&{MARCH}")
        assert response.status_code == 200, response.text
        text = text_of(response)
        for figure in (
            "Cases presented 8 plans and deferrals",
            "Presented prospectively 62.5% 5 of 8 cases; 2 without treatment status",
            "Stage discussed 83.3% 5 of 6 plans",
            "Guideline concordant 66.7% 4 of 6 plans",
            "Clinical trial discussed 66.7% 4 of 6 plans",
            "Days from submission to decision 7.5 median",
            "Hours from decision to signature 24 median",
            "Follow-up recorded 80% 4 of 5 signed plans",
            "Not implemented 50% 2 of 4 follow-ups",
            "Pathology 3 of 6 meetings 50%",
            "Medical oncology 5 of 6 meetings 83.3%",
        ):
            assert figure in text, figure
        assert 'href="/reports/quality" aria-current="page">Reports<' in response.text

        svgs = _svgs(response.text)
        assert len(svgs) == 6
        for svg in svgs:
            assert svg.get("role") == "img"
            assert svg.find(f"{SVG}title") is not None and svg.find(f"{SVG}desc") is not None
            assert svg.find(f".//{SVG}script") is None
        cases = _table_after(response.text, 'id="chart-heading-cases"')
        assert cases == [
            ["Meeting", "Plan decided", "Deferred", "Total"],
            ["28 Feb", "1", "0", "1"],
            ["2 Mar", "1", "1", "2"],
            ["9 Mar", "2", "0", "2"],
            ["16 Mar", "1", "1", "2"],
            ["23 Mar", "0", "0", "0"],
            ["31 Mar", "1", "0", "1"],
        ]
        attendance = _table_after(response.text, 'id="chart-heading-attendance"')
        assert attendance[0] == [
            "Meeting", "Medical oncology", "Surgical oncology", "Radiation oncology", "Pathology",
            "Other disciplines", "Total",
        ]  # fmt: skip
        assert attendance[2] == ["2 Mar", "1", "1", "1", "1", "1", "5"]  # the nurse among "other"
        assert attendance[5] == ["23 Mar", "0", "0", "0", "0", "0", "0"]
        days = _table_after(response.text, 'id="chart-heading-days-to-decision"')
        assert [row[1] for row in days[1:]] == ["4", "3", "0", "0", "0", "0", "1"]  # 4 5 6 7 | 8 9 11 | 59
        signature = _table_after(response.text, 'id="chart-heading-decision-to-signature"')
        totals = [row[-1] for row in signature[1:]]
        assert totals == ["2", "1", "2", "0", "0", "0", "1"]  # 6 12 | 24 | 48 60 | none | none | none | P6
        reasons = _table_after(response.text, 'id="chart-heading-reasons"')
        assert reasons[1:] == [
            ["Patient choice", "0", "1", "1"],
            ["Comorbidity or fitness", "1", "0", "1"],
            ["Disease changed", "0", "1", "1"],
            ["Other", "0", "0", "0"],
        ]

        download = await browser.get(f"/reports/quality.csv?board_id={seeded.board_id}&{MARCH}")
        assert download.status_code == 200
        assert download.headers["content-type"] == "text/csv; charset=utf-8"
        rows = dict(csv.reader(io.StringIO(download.text)))
        assert (rows["cases_presented"], rows["follow_up.not_implemented_share"]) == ("8", "0.5")

        slide = await browser.get(f"/reports/quality/charts/cases.svg?board_id={seeded.board_id}&{MARCH}")
        assert slide.status_code == 200
        assert slide.headers["content-type"].startswith("image/svg+xml")
        assert "attachment" in slide.headers["content-disposition"]
        drawn = [t.text for t in ET.fromstring(slide.text).iter(f"{SVG}text")]
        assert drawn[:2] == ["Cases per meeting", "Breast Board Berlin, 2026-03-01 to 2026-03-31"]
        unknown = await browser.get(f"/reports/quality/charts/secrets.svg?board_id={seeded.board_id}&{MARCH}")
        assert unknown.status_code == 404 and "No such chart" in text_of(unknown)


async def test_the_report_page_picks_a_board_and_the_last_twelve_months_and_names_bad_fields(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    seeded = await seed_march(api, pool)
    async with page_client(server, seeded.coordinator) as browser:
        first = await browser.get("/reports/quality")
        assert first.status_code == 200
        assert re.search(r'<option value="[^"]+" selected>', first.text)
        assert len(_svgs(first.text)) == 6

        backwards = await browser.get(
            f"/reports/quality?board_id={seeded.board_id}&from=2026-03-31&to=2026-03-01"
        )
        assert backwards.status_code == 400
        assert field_error(backwards, "to") == "Must not be before from"
        assert _svgs(backwards.text) == []
        malformed = await browser.get(
            f"/reports/quality?board_id={seeded.board_id}&from=31.03.2026&to=2026-03-01"
        )
        assert malformed.status_code == 400
        assert field_error(malformed, "from") == "Must be a date (YYYY-MM-DD)"
        unknown = await browser.get(f"/reports/quality?board_id=5d9c2f64-0000-4000-8000-000000000000&{MARCH}")
        assert unknown.status_code == 404 and "No such board" in text_of(unknown)


async def test_the_report_page_is_for_coordinators_and_admins(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    seeded = await seed_march(api, pool)
    admin = await api.user("admin")
    async with page_client(server, admin) as browser:
        assert (await browser.get(f"/reports/quality?board_id={seeded.board_id}&{MARCH}")).status_code == 200
    async with page_client(server, seeded.presenter) as browser:
        home = await browser.get("/")
        assert "/reports/quality" not in home.text
        for path in ("/reports/quality", f"/reports/quality.csv?board_id={seeded.board_id}&{MARCH}"):
            refused = await browser.get(path)
            assert refused.status_code == 403
            assert "needs the coordinator or admin role" in text_of(refused)
    denied = await pool.fetchval(
        "SELECT count(*) FROM audit_event WHERE actor_id = $1 AND action = 'read_quality_report'"
        " AND outcome = 'denied'",
        seeded.presenter.id,
    )
    assert denied == 2


async def test_the_presenter_records_the_follow_up_with_the_apis_rules(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    case = await signed_case(api, pool, team)
    url = f"/cases/{case['id']}/follow-up"
    async with page_client(server, team.presenter) as browser:
        care_plan = await browser.get(f"/cases/{case['id']}/care-plan")
        assert f'href="{url}"' in care_plan.text
        empty = await browser.get(url)
        assert empty.status_code == 200
        assert "Nothing recorded yet for version 1" in text_of(empty)
        assert 'data-testid="follow-up-form"' in empty.text

        no_reason = await browser.post(url, {"implementation": "not", "reason": "", "reason_text": ""})
        assert no_reason.status_code == 400
        assert field_error(no_reason, "reason") == "Is required unless the plan was fully implemented"
        assert 'value="not" checked' in no_reason.text  # what was chosen is kept
        other = await browser.post(url, {"implementation": "partly", "reason": "other", "reason_text": ""})
        assert field_error(other, "reason_text") == "Is required when the reason is other"
        nothing = await browser.post(url, {})
        assert field_error(nothing, "implementation") == "Is required"

        done = await browser.post(url, {"implementation": "not", "reason": "patient_choice"})
        assert done.status_code == 303 and done.headers["location"] == url
        shown = await browser.get(url)
        assert flash_of(shown) == "Follow-up recorded for care plan version 1: not implemented."
        assert "Not implemented" in text_of(shown) and "Reason: Patient choice" in text_of(shown)
    recorded = await api.ok(
        api.client.get(f"/cases/{case['id']}/care-plan/follow-up", headers=team.chair.headers), 200
    )
    assert (recorded["implementation"], recorded["reason"]) == ("not", "patient_choice")

    async with page_client(server, team.chair) as browser:
        read = await browser.get(url)
        assert read.status_code == 200
        assert 'data-testid="follow-up-form"' not in read.text and "Reason: Patient choice" in text_of(read)
        refused = await browser.post(url, {"implementation": "fully"})
        assert refused.status_code == 403
        assert "Only the case's presenter may record" in text_of(refused)
    denied = await pool.fetchval(
        "SELECT count(*) FROM audit_event WHERE actor_id = $1 AND action = 'record_follow_up'"
        " AND outcome = 'denied'",
        team.chair.id,
    )
    assert denied == 1


async def test_follow_up_waits_for_the_signature(server: str, api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case, _ = await discussed_case(api, team)
    await consolidate(pool, case["id"])
    url = f"/cases/{case['id']}/follow-up"
    async with page_client(server, team.presenter) as browser:
        page = await browser.get(url)
        assert page.status_code == 200
        assert "The care plan is not signed yet" in text_of(page)
        assert 'data-testid="follow-up-form"' not in page.text
        early = await browser.post(url, {"implementation": "fully"})
        assert early.status_code == 409
        assert "follow-up is recorded after signing" in text_of(early)
    stored = await pool.fetchval("SELECT count(*) FROM care_plan_follow_up")
    assert stored == 0

"""The demo data `tumorboard dev` loads: its cases carry structured clinical data the rules accept."""

from __future__ import annotations

import asyncpg

from tumorboard.demo import load_demo_data


async def test_the_demo_cases_are_structured(pool: asyncpg.Pool, service_urls: tuple[str, str]) -> None:
    await load_demo_data(service_urls[0])
    rows = await pool.fetch("SELECT diagnosis, stage, biomarkers, treatment_started FROM patient_case")
    assert len(rows) == 4
    for row in rows:
        assert row["diagnosis"]["morphology"]["code"] in ("8500/3", "8140/3", "8520/3", "8070/3")
        assert row["stage"]["type"] == "clinical" and row["treatment_started"] is False
    assert {b["name"] for row in rows for b in row["biomarkers"]} >= {"HER2", "EGFR", "PD-L1 TPS"}

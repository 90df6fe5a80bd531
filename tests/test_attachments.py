"""Attachments over HTTP: kept in PostgreSQL with their digest, judged by content, limited in size,
read only as GET /cases/{id} allows (every read audited), and counted by the readiness checklist."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests.factories import Actor, Factory
from tests.test_readiness import days_ago, readiness
from tests.test_validation import assert_error, messages

MiB = 1024 * 1024
# Small but real files: a one-page PDF, a 1x1 PNG and the start of a JPEG (the type is judged by content).
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005"
    "0001ff0d0a2db40000000049454e44ae426082"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


async def attach(
    api: Factory,
    actor: Actor,
    case_id: str,
    content: bytes = PDF,
    *,
    kind: str | None = "pathology_report",
    filename: str = "report.pdf",
    declared: str = "application/pdf",
    **fields: str,
) -> httpx.Response:
    data = {**({"kind": kind} if kind is not None else {}), **fields}
    files = {"file": (filename, content, declared)}
    return await api.client.post(
        f"/cases/{case_id}/attachments", data=data, files=files, headers=actor.headers
    )


async def stored(pool: asyncpg.Pool, case_id: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT kind, filename, media_type, size, sha256, document_date, content, uploaded_by"
        " FROM case_attachment WHERE case_id = $1 ORDER BY uploaded_at",
        case_id,
    )


async def audited(pool: asyncpg.Pool, actor: Actor, action: str, subject_id: Any) -> list[str]:
    rows = await pool.fetch(
        "SELECT outcome FROM audit_event WHERE actor_id = $1 AND action = $2 AND subject_id = $3",
        actor.id,
        action,
        subject_id,
    )
    return [row["outcome"] for row in rows]


async def test_a_presenter_attaches_a_report_that_is_kept_listed_and_downloaded(
    api: Factory, pool: asyncpg.Pool
) -> None:
    presenter = await api.user("presenter", name="Dr. Uma Upload")
    case = await api.case(presenter)
    response = await attach(api, presenter, case["id"], document_date=days_ago(2))
    assert response.status_code == 201, response.text
    attachment = response.json()
    assert attachment["kind"] == "pathology_report" and attachment["filename"] == "report.pdf"
    assert attachment["media_type"] == "application/pdf" and attachment["size"] == len(PDF)
    assert attachment["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert attachment["document_date"] == days_ago(2) and attachment["uploaded_by_name"] == "Dr. Uma Upload"
    assert response.headers["cache-control"] == "no-store"

    [row] = await stored(pool, case["id"])
    assert bytes(row["content"]) == PDF and bytes(row["sha256"]) == hashlib.sha256(PDF).digest()
    assert row["uploaded_by"] == presenter.id and row["size"] == len(PDF)
    assert await audited(pool, presenter, "attach", case["id"]) == ["allowed"]

    listed = await api.ok(api.client.get(f"/cases/{case['id']}/attachments", headers=presenter.headers), 200)
    assert listed == [attachment]
    assert await audited(pool, presenter, "read_attachments", case["id"]) == ["allowed"]

    download = await api.client.get(f"/attachments/{attachment['id']}", headers=presenter.headers)
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith('attachment; filename="report.pdf"')
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["cache-control"] == "no-store"
    await api.client.get(f"/attachments/{attachment['id']}", headers=presenter.headers)
    assert await audited(pool, presenter, "read", attachment["id"]) == ["allowed", "allowed"]


async def test_the_type_comes_from_the_content_not_the_name_or_the_declared_type(
    api: Factory, pool: asyncpg.Pool
) -> None:
    presenter = await api.user("presenter")
    case = await api.case(presenter)
    png = await api.ok(
        attach(api, presenter, case["id"], PNG, kind="imaging_report", filename="scan.pdf"), 201
    )
    assert png["media_type"] == "image/png" and png["filename"] == "scan.pdf"
    jpeg = await api.ok(attach(api, presenter, case["id"], JPEG, kind="other", declared="text/plain"), 201)
    assert jpeg["media_type"] == "image/jpeg"

    for content, name in (
        (HTML, "report.pdf"),
        (b"MZ\x90\x00" + b"\x00" * 60, "letter.pdf"),
        (b"PK\x03\x04zip", "x.png"),
    ):
        response = await attach(api, presenter, case["id"], content, filename=name)
        error = assert_error(response, 415, "file")
        assert "PDF, PNG or JPEG" in messages(error)["file"]
    assert len(await stored(pool, case["id"])) == 2


async def test_a_file_name_never_carries_a_path_or_control_characters(api: Factory) -> None:
    presenter = await api.user("presenter")
    case = await api.case(presenter)
    sneaky = await api.ok(attach(api, presenter, case["id"], filename='..\\..\\etc/pa"ss\r\nwd.pdf'), 201)
    assert sneaky["filename"] == "pa_ss__wd.pdf"
    unnamed = await api.ok(attach(api, presenter, case["id"], PNG, filename="/", kind="letter"), 201)
    assert unnamed["filename"] == "letter.png"
    accented = await api.ok(attach(api, presenter, case["id"], filename="Befund Müller.pdf"), 201)
    download = await api.client.get(f"/attachments/{accented['id']}", headers=presenter.headers)
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"Befund M_ller.pdf\"; filename*=UTF-8''Befund%20M%C3%BCller.pdf"
    )


async def test_oversize_files_are_413_and_nothing_is_stored(api: Factory, pool: asyncpg.Pool) -> None:
    presenter = await api.user("presenter")
    case = await api.case(presenter)
    just_over = PDF + b"\x00" * (20 * MiB + 1 - len(PDF))
    error = assert_error(await attach(api, presenter, case["id"], just_over), 413, "file")
    assert "20 MiB" in messages(error)["file"]
    far_over = await attach(api, presenter, case["id"], PDF + b"\x00" * (22 * MiB))
    assert far_over.status_code == 413
    exactly = await attach(api, presenter, case["id"], PDF + b"\x00" * (20 * MiB - len(PDF)))
    assert exactly.status_code == 201, exactly.text
    assert [row["size"] for row in await stored(pool, case["id"])] == [20 * MiB]


async def test_a_case_holds_at_most_100_mib_of_documents(api: Factory, pool: asyncpg.Pool) -> None:
    presenter = await api.user("presenter")
    case = await api.case(presenter)
    # Documents of nearly 100 MiB already (written directly: five 20 MiB uploads would only be slower).
    await pool.execute(
        "INSERT INTO case_attachment"
        " (case_id, kind, filename, media_type, size, sha256, content, uploaded_by)"
        " SELECT $1, 'other', 'big.pdf', 'application/pdf', octet_length(c), sha256(c), c, $2"
        " FROM (SELECT decode(repeat('25', $3::integer), 'hex') AS c) AS big",
        case["id"],
        presenter.id,
        20 * MiB,
    )
    await pool.execute(
        "INSERT INTO case_attachment"
        " (case_id, kind, filename, media_type, size, sha256, content, uploaded_by)"
        " SELECT case_id, kind, filename, media_type, size, sha256, content, uploaded_by FROM case_attachment"
        " CROSS JOIN generate_series(1, 4) WHERE case_id = $1",
        case["id"],
    )
    error = assert_error(await attach(api, presenter, case["id"]), 413, "file")
    assert "100 MiB" in messages(error)["file"]
    assert len(await stored(pool, case["id"])) == 5


@pytest.mark.parametrize(
    ("fields", "kind", "key", "says"),
    [
        ({}, None, "kind", "required"),
        ({}, "lab_result", "kind", "pathology_report, imaging_report, letter, other"),
        ({"document_date": "yesterday"}, "letter", "document_date", "YYYY-MM-DD"),
        ({"document_date": "2026-02-30"}, "letter", "document_date", "YYYY-MM-DD"),
        (
            {"document_date": (datetime.now(UTC) + timedelta(days=2)).date().isoformat()},
            "letter",
            "document_date",
            "future",
        ),
        ({"comment": "hello"}, "letter", "comment", "not a known field"),
    ],
)
async def test_bad_upload_fields_are_400_naming_the_field(
    api: Factory, pool: asyncpg.Pool, fields: dict[str, str], kind: str | None, key: str, says: str
) -> None:
    presenter = await api.user("presenter")
    case = await api.case(presenter)
    error = assert_error(await attach(api, presenter, case["id"], kind=kind, **fields), 400, key)
    assert says in messages(error)[key]
    assert await stored(pool, case["id"]) == []


async def test_a_missing_empty_or_nameless_file_is_400_and_other_bodies_415(api: Factory) -> None:
    presenter = await api.user("presenter")
    case = await api.case(presenter)
    url = f"/cases/{case['id']}/attachments"
    missing = await api.client.post(
        url, data={"kind": "letter"}, files={"other": ("a", b"x")}, headers=presenter.headers
    )
    assert_error(missing, 400, "file")
    empty = await attach(api, presenter, case["id"], b"")
    assert "empty" in messages(assert_error(empty, 400, "file"))["file"]
    boundary = "xyz"
    nameless = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nletter\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"\r\n\r\n'
        ).encode()
        + b"\xff\xfe\x00binary"
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = await api.client.post(
        url,
        content=nameless,
        headers={**presenter.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert_error(response, 400, "file")
    as_json = await api.client.post(url, json={"kind": "letter"}, headers=presenter.headers)
    assert as_json.status_code == 415


async def test_who_may_attach_and_read(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"], team.participants)
    case = await api.case(team.presenter)
    await api.ok(
        api.client.put(
            f"/cases/{case['id']}/meeting",
            json={"meeting_id": meeting["id"]},
            headers=team.coordinator.headers,
        ),
        200,
    )
    by_coordinator = await api.ok(attach(api, team.coordinator, case["id"], kind="letter"), 201)

    # A participant reads, but does not attach; a stranger does neither.
    listed = await api.ok(
        api.client.get(f"/cases/{case['id']}/attachments", headers=team.surgeon.headers), 200
    )
    assert [item["id"] for item in listed] == [by_coordinator["id"]]
    assert (
        await api.client.get(f"/attachments/{by_coordinator['id']}", headers=team.surgeon.headers)
    ).status_code == 200
    assert (await attach(api, team.surgeon, case["id"])).status_code == 403
    assert await audited(pool, team.surgeon, "attach", case["id"]) == ["denied"]
    stranger = await api.user("presenter")
    assert (
        await api.client.get(f"/cases/{case['id']}/attachments", headers=stranger.headers)
    ).status_code == 403
    assert (
        await api.client.get(f"/attachments/{by_coordinator['id']}", headers=stranger.headers)
    ).status_code == 403
    assert await audited(pool, stranger, "read", by_coordinator["id"]) == ["denied"]
    assert (await attach(api, stranger, case["id"])).status_code == 403
    assert (
        await api.client.get(f"/attachments/{case['id']}", headers=team.presenter.headers)
    ).status_code == 404
    unknown_case = "00000000-0000-0000-0000-000000000000"
    assert (await attach(api, team.presenter, unknown_case)).status_code == 404
    assert (await api.client.get(f"/attachments/{by_coordinator['id']}")).status_code == 401
    assert len(await stored(pool, case["id"])) == 1


async def test_nothing_can_be_attached_to_a_withdrawn_case(api: Factory, pool: asyncpg.Pool) -> None:
    presenter = await api.user("presenter")
    case = await api.case(presenter)
    await api.ok(api.client.post(f"/cases/{case['id']}/withdraw", headers=presenter.headers), 200)
    response = await attach(api, presenter, case["id"])
    assert response.status_code == 409 and "withdrawn" in response.json()["detail"]
    assert await stored(pool, case["id"]) == []


async def test_a_dated_report_attached_satisfies_the_readiness_checklist(api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    case = await api.case(team.presenter)
    before = await readiness(api, team.presenter, case["id"])
    assert before["missing_items"] == ["pathology_report", "imaging"]

    await api.ok(attach(api, team.presenter, case["id"], document_date=days_ago(5)), 201)
    await api.ok(attach(api, team.presenter, case["id"], PNG, kind="imaging_report"), 201)  # no date
    after = await readiness(api, team.presenter, case["id"])
    checks = {check["item"]: check for check in after["checks"]}
    assert checks["pathology_report"] == {
        "item": "pathology_report",
        "satisfied": True,
        "detail": f"dated {days_ago(5)}",
    }
    assert after["pathology_report_on"] == days_ago(5)
    assert checks["imaging"]["satisfied"] is False
    assert checks["imaging"]["detail"] == "imaging: attached without its date"

    # Imaging older than the board allows (60 days by default) does not count; a recent one does.
    await api.ok(
        attach(api, team.presenter, case["id"], PNG, kind="imaging_report", document_date=days_ago(90)), 201
    )
    stale = await readiness(api, team.presenter, case["id"])
    assert "more than 60 days old" in {c["item"]: c for c in stale["checks"]}["imaging"]["detail"]
    await api.ok(
        attach(api, team.presenter, case["id"], PNG, kind="imaging_report", document_date=days_ago(1)), 201
    )
    ready = await readiness(api, team.presenter, case["id"])
    assert ready["ready"] is True and ready["imaging_on"] == days_ago(1)

    meeting = await api.meeting(team.coordinator, board["id"], team.participants)
    await api.ok(
        api.client.put(
            f"/cases/{case['id']}/meeting",
            json={"meeting_id": meeting["id"]},
            headers=team.coordinator.headers,
        ),
        200,
    )
    agenda = await api.ok(
        api.client.get(f"/meetings/{meeting['id']}/agenda", headers=team.chair.headers), 200
    )
    assert agenda["items"][0]["ready"] is True
    assert agenda["items"][0]["clinical"]["diagnosis"]["code"] == case["diagnosis"]["code"]

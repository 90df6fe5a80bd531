"""Bad input gets a clear 4xx that names the field: never a 500, never an echo of patient data."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.factories import Actor, Factory, case_body, recommendation_body

# Distinctive patient data placed in bad requests; no error response may repeat it.
GIVEN_NAME = "Zyxwvut"
MRN = "SECRET-MRN-123"
SECRETS = (GIVEN_NAME, MRN)


def secret_case(**overrides: Any) -> dict[str, Any]:
    """A valid POST /cases body whose patient carries the distinctive values."""
    body = case_body(**overrides)
    body["patient"] = {**body["patient"], "mrn": MRN, "given_name": GIVEN_NAME}
    return body


def with_patient(**fields: Any) -> dict[str, Any]:
    """A secret case body with some patient fields replaced (None removes the field)."""
    body = secret_case()
    for name, value in fields.items():
        if value is None:
            del body["patient"][name]
        else:
            body["patient"][name] = value
    return body


def assert_error(response: httpx.Response, status: int, *keys: str) -> dict[str, Any]:
    """A JSON error of Litestar's shape, with security headers, naming the keys, echoing no patient data."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status_code"] == status
    assert isinstance(body["detail"], str) and body["detail"]
    for secret in SECRETS:
        assert secret not in response.text
    assert response.headers.get("content-security-policy")
    assert response.headers.get("x-content-type-options") == "nosniff"
    named = [item["key"] for item in body.get("extra", [])]
    for key in keys:
        # A key names the field itself or a part of it (roles.0 for a bad first role).
        assert any(name == key or name.startswith(f"{key}.") for name in named), (key, named)
    return body


def messages(body: dict[str, Any]) -> dict[str, str]:
    """The error messages by key."""
    return {item["key"]: item["message"] for item in body["extra"]}


async def post_case(api: Factory, presenter: Actor, body: Any) -> httpx.Response:
    return await api.client.post("/cases", json=body, headers=presenter.headers)


async def post_raw(api: Factory, path: str, actor: Actor | None, content: bytes, content_type: str | None):
    headers = dict(actor.headers) if actor else {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return await api.client.post(path, content=content, headers=headers)


# Malformed bodies


async def test_malformed_json_is_400(api: Factory) -> None:
    presenter = await api.user("presenter")
    raw = b'{"patient": {"mrn": "SECRET-MRN-123", "given_name": "Zyxwvut"'
    response = await post_raw(api, "/cases", presenter, raw, "application/json")
    body = assert_error(response, 400, "body")
    assert "JSON" in messages(body)["body"]


@pytest.mark.parametrize("raw", [b"\t[\xff@\x15", b'["Zyxwvut", ', b'{"patient": [1, {'])
async def test_malformed_json_after_a_wrong_type_is_400_not_500(api: Factory, raw: bytes) -> None:
    # A typed decode stops at the first wrong type, before the malformed bytes (found by Schemathesis).
    presenter = await api.user("presenter")
    body = assert_error(await post_raw(api, "/cases", presenter, raw, "application/json"), 400, "body")
    assert messages(body)["body"] == "is not valid JSON"


async def test_empty_body_is_400(api: Factory) -> None:
    presenter = await api.user("presenter")
    assert_error(await post_raw(api, "/cases", presenter, b"", "application/json"), 400, "body")


@pytest.mark.parametrize("value", [[secret_case()], "Zyxwvut", 42, None, True])
async def test_json_that_is_not_an_object_is_400(api: Factory, value: Any) -> None:
    presenter = await api.user("presenter")
    response = await post_raw(api, "/cases", presenter, json.dumps(value).encode(), "application/json")
    body = assert_error(response, 400, "body")
    assert "object" in messages(body)["body"]


# Types, ranges, enums


async def test_ecog_as_a_string_is_refused_not_coerced(api: Factory) -> None:
    presenter = await api.user("presenter")
    body = assert_error(await post_case(api, presenter, secret_case(ecog="1")), 400, "ecog")
    assert "int" in messages(body)["ecog"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("summary", 12), ("biomarkers", {"name": "HER2"}), ("urgency", 1), ("discuss_by", 20300101)],
)
async def test_wrong_types_are_400_naming_the_field(api: Factory, field: str, value: Any) -> None:
    presenter = await api.user("presenter")
    assert_error(await post_case(api, presenter, secret_case(**{field: value})), 400, field)


async def test_wrong_nested_type_names_the_nested_field(api: Factory) -> None:
    presenter = await api.user("presenter")
    response = await post_case(api, presenter, with_patient(birth_date=19610517))
    assert_error(response, 400, "patient.birth_date")


@pytest.mark.parametrize("ecog", [5, -1])
async def test_ecog_out_of_range_is_400(api: Factory, ecog: int) -> None:
    presenter = await api.user("presenter")
    assert_error(await post_case(api, presenter, secret_case(ecog=ecog)), 400, "ecog")


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (secret_case(disease_site="Zyxwvut"), "disease_site"),
        (secret_case(urgency="Zyxwvut"), "urgency"),
        (with_patient(sex="Zyxwvut"), "patient.sex"),
        (
            secret_case(diagnosis={"code": "C50.9", "system": "Zyxwvut", "display": "Breast"}),
            "diagnosis.system",
        ),
    ],
)
async def test_invalid_enum_value_is_400_without_the_value(
    api: Factory, body: dict[str, Any], key: str
) -> None:
    presenter = await api.user("presenter")
    assert_error(await post_case(api, presenter, body), 400, key)


async def test_invalid_date_names_the_field_without_echo(api: Factory) -> None:
    presenter = await api.user("presenter")
    body = assert_error(
        await post_case(api, presenter, with_patient(birth_date="Zyxwvut")), 400, "patient.birth_date"
    )
    assert "date" in messages(body)["patient.birth_date"]


async def test_birth_date_in_the_future_is_400(api: Factory) -> None:
    presenter = await api.user("presenter")
    tomorrow = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    body = assert_error(await post_case(api, presenter, with_patient(birth_date=tomorrow)), 400)
    assert any("birth_date" in item["key"] for item in body["extra"])


async def test_birth_date_today_is_accepted(api: Factory) -> None:
    presenter = await api.user("presenter")
    today = date.today().isoformat()
    body = case_body()
    body["patient"]["birth_date"] = today
    assert (await post_case(api, presenter, body)).status_code == 201


# Unknown and missing fields


async def test_unknown_top_level_field_is_400_naming_it(api: Factory) -> None:
    presenter = await api.user("presenter")
    assert_error(await post_case(api, presenter, secret_case(nickname="x")), 400, "nickname")


async def test_unknown_nested_field_is_400_naming_it(api: Factory) -> None:
    presenter = await api.user("presenter")
    assert_error(await post_case(api, presenter, with_patient(nickname="x")), 400, "patient.nickname")


async def test_unknown_field_inside_a_list_item_is_400_naming_it(api: Factory) -> None:
    presenter = await api.user("presenter")
    body = secret_case(biomarkers=[{"name": "HER2", "value": "positive", "comment": "IHC"}])
    error = assert_error(await post_case(api, presenter, body), 400)
    assert any(
        item["key"].startswith("biomarkers") and "comment" in item["message"] for item in error["extra"]
    )


@pytest.mark.parametrize("field", ["patient", "disease_site", "diagnosis", "summary", "question"])
async def test_missing_required_field_is_400(api: Factory, field: str) -> None:
    presenter = await api.user("presenter")
    body = secret_case()
    del body[field]
    error = assert_error(await post_case(api, presenter, body), 400, field)
    assert "required" in messages(error)[field]


async def test_missing_nested_field_is_400(api: Factory) -> None:
    presenter = await api.user("presenter")
    assert_error(await post_case(api, presenter, with_patient(family_name=None)), 400, "patient.family_name")


async def test_every_bad_field_is_named(api: Factory) -> None:
    presenter = await api.user("presenter")
    body = with_patient(mrn=None)
    body.update(ecog="1", disease_site="Zyxwvut", nickname="x")
    error = assert_error(
        await post_case(api, presenter, body), 400, "patient.mrn", "ecog", "disease_site", "nickname"
    )
    assert "patient.mrn" in error["detail"] and "ecog" in error["detail"]


# Strings: empty, too long, NUL


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (secret_case(summary=""), "summary"),
        (with_patient(family_name=""), "patient.family_name"),
        (secret_case(diagnosis={"code": "", "system": "ICD-10-CM", "display": "Breast"}), "diagnosis.code"),
    ],
)
async def test_empty_required_string_is_400(api: Factory, body: dict[str, Any], key: str) -> None:
    presenter = await api.user("presenter")
    error = assert_error(await post_case(api, presenter, body), 400, key)
    assert "empty" in messages(error)[key]


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (with_patient(family_name="Zyxwvut" * 29), "patient.family_name"),
        (secret_case(histology="Zyxwvut" * 29), "histology"),
        (
            secret_case(diagnosis={"code": "C" * 201, "system": "ICD-10-CM", "display": "Breast"}),
            "diagnosis.code",
        ),
        (secret_case(summary="Zyxwvut" * 2858), "summary"),
        (secret_case(question="q" * 20_001), "question"),
    ],
)
async def test_over_long_string_is_400(api: Factory, body: dict[str, Any], key: str) -> None:
    presenter = await api.user("presenter")
    error = assert_error(await post_case(api, presenter, body), 400, key)
    assert "at most" in messages(error)[key]


async def test_strings_at_their_limits_are_accepted(api: Factory) -> None:
    presenter = await api.user("presenter")
    body = case_body(histology="h" * 200, summary="s" * 20_000)
    assert (await post_case(api, presenter, body)).status_code == 201


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (with_patient(family_name="Zyx\u0000wvut"), "patient.family_name"),
        (secret_case(summary="Summary\u0000"), "summary"),
        (secret_case(biomarkers=[{"name": "HER2", "value": "pos\u0000itive"}]), "biomarkers.0.value"),
    ],
)
async def test_nul_byte_in_a_string_is_400_saying_nul(api: Factory, body: dict[str, Any], key: str) -> None:
    presenter = await api.user("presenter")
    error = assert_error(await post_case(api, presenter, body), 400, key)
    assert "NUL" in messages(error)[key]


async def test_nul_byte_in_sign_in_is_400_not_500(api: Factory) -> None:
    response = await api.client.post("/auth/token", json={"email": "a\u0000@example.org", "password": "x"})
    error = assert_error(response, 400, "email")
    assert "NUL" in messages(error)["email"]


async def test_escaped_backslash_u0000_is_ordinary_text(api: Factory) -> None:
    presenter = await api.user("presenter")
    response = await post_case(api, presenter, case_body(summary="literal \\u0000 text"))
    assert response.status_code == 201
    assert response.json()["summary"] == "literal \\u0000 text"


# Body size and content type


async def test_body_over_10_mb_is_413(api: Factory) -> None:
    presenter = await api.user("presenter")
    raw = json.dumps(secret_case(summary="x" * (10 * 1024 * 1024 + 1))).encode()
    assert_error(await post_raw(api, "/cases", presenter, raw, "application/json"), 413)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"]
)
async def test_wrong_content_type_is_415(api: Factory, content_type: str) -> None:
    presenter = await api.user("presenter")
    raw = json.dumps(secret_case()).encode()
    assert_error(await post_raw(api, "/cases", presenter, raw, content_type), 415)
    assert await api.pool.fetchval("SELECT count(*) FROM patient_case") == 0


async def test_missing_content_type_is_415(api: Factory) -> None:
    presenter = await api.user("presenter")
    raw = json.dumps(secret_case()).encode()
    assert_error(await post_raw(api, "/cases", presenter, raw, None), 415)


async def test_json_with_charset_is_accepted(api: Factory) -> None:
    presenter = await api.user("presenter")
    raw = json.dumps(case_body()).encode()
    response = await post_raw(api, "/cases", presenter, raw, "application/json; charset=utf-8")
    assert response.status_code == 201


async def test_text_plain_sign_in_is_415(api: Factory) -> None:
    raw = json.dumps({"email": "a@example.org", "password": "x"}).encode()
    assert_error(await post_raw(api, "/auth/token", None, raw, "text/plain"), 415)


# Ids


async def test_malformed_uuid_in_path_is_404(api: Factory) -> None:
    presenter = await api.user("presenter")
    for path in ("/cases/not-a-uuid", "/cases/123/care-plan", "/meetings/zzz"):
        assert_error(await api.client.get(path, headers=presenter.headers), 404)
    response = await api.client.put(
        "/recommendations/not-a-uuid", json={**recommendation_body(), "version": 1}, headers=presenter.headers
    )
    assert_error(response, 404)


async def test_unknown_id_in_path_is_404(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    assert_error(await api.client.get(f"/cases/{uuid.uuid4()}", headers=coordinator.headers), 404)


async def test_malformed_uuid_in_body_is_400(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    starts_at = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    response = await api.client.post(
        "/meetings", json={"board_id": "not-a-uuid", "starts_at": starts_at}, headers=coordinator.headers
    )
    error = assert_error(response, 400, "board_id")
    assert "UUID" in messages(error)["board_id"]


async def test_unknown_uuid_in_body_is_400(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    starts_at = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    response = await api.client.post(
        "/meetings", json={"board_id": str(uuid.uuid4()), "starts_at": starts_at}, headers=coordinator.headers
    )
    assert_error(response, 400, "board_id")


# Query parameters


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("status=Zyxwvut", "status"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=abc", "limit"),
        ("meeting_id=Zyxwvut", "meeting_id"),
        ("mine=Zyxwvut", "mine"),
        ("cursor=Zyxwvut!!", "cursor"),
    ],
)
async def test_invalid_query_parameter_is_400_without_echo(api: Factory, query: str, key: str) -> None:
    presenter = await api.user("presenter")
    response = await api.client.get(f"/cases?{query}", headers=presenter.headers)
    error = assert_error(response, 400, key)
    assert "/cases" not in response.text and "http" not in response.text
    assert error["detail"] == "Invalid request parameters" or key in error["detail"]


def forged_cursor(*parts: str) -> str:
    """A cursor in the list endpoints' encoding that none of them produced."""
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


@pytest.mark.parametrize("path", ["/cases", "/meetings", "/users"])
@pytest.mark.parametrize(
    "cursor",
    [forged_cursor("Zyxwvut", "Zyxwvut"), forged_cursor("2026-01-01T00:00:00+00:00", "Zyxwvut")],
    ids=["bad-key", "bad-id"],
)
async def test_forged_cursor_is_400(api: Factory, path: str, cursor: str) -> None:
    coordinator = await api.user("coordinator")
    response = await api.client.get(f"{path}?cursor={cursor}", headers=coordinator.headers)
    assert_error(response, 400, "cursor")


@pytest.mark.parametrize("query", ["from=Zyxwvut", "to=2030-13-45", "board_id=Zyxwvut", "limit=-5"])
async def test_invalid_meeting_query_is_400(api: Factory, query: str) -> None:
    presenter = await api.user("presenter")
    response = await api.client.get(f"/meetings?{query}", headers=presenter.headers)
    assert_error(response, 400)
    assert query.split("=", 1)[1] not in response.text and "/meetings" not in response.text


async def test_invalid_user_list_query_is_400(api: Factory) -> None:
    admin = await api.user("admin")
    assert_error(await api.client.get("/users?limit=abc", headers=admin.headers), 400, "limit")
    assert_error(await api.client.get("/users?cursor=%%%", headers=admin.headers), 400, "cursor")


# Other endpoints


async def test_meeting_capacity_zero_is_400(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    board = await api.board(coordinator)
    starts_at = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    body = {"board_id": board["id"], "starts_at": starts_at, "capacity": 0, "duration_minutes": "60"}
    error = assert_error(await api.client.post("/meetings", json=body, headers=coordinator.headers), 400)
    assert {"capacity", "duration_minutes"} <= set(messages(error))


async def test_meeting_unknown_field_and_bad_datetime_are_400(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    board = await api.board(coordinator)
    body = {"board_id": board["id"], "starts_at": "next tuesday", "room": "B12"}
    assert_error(
        await api.client.post("/meetings", json=body, headers=coordinator.headers), 400, "starts_at", "room"
    )


async def test_meeting_text_plain_is_415(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    board = await api.board(coordinator)
    starts_at = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    raw = json.dumps({"board_id": board["id"], "starts_at": starts_at}).encode()
    assert_error(await post_raw(api, "/meetings", coordinator, raw, "text/plain"), 415)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"roles": ["superuser"]}, "roles"),
        ({"roles": []}, "roles"),
        ({"discipline": "astrology"}, "discipline"),
        ({"full_name": "Zyxwvut" * 29}, "full_name"),
        ({"full_name": "Zyx\u0000wvut"}, "full_name"),
        ({"is_admin": True}, "is_admin"),
    ],
)
async def test_create_user_bad_input_is_400(api: Factory, change: dict[str, Any], key: str) -> None:
    admin = await api.user("admin")
    body = {
        "email": "new.user@example.org",
        "full_name": "Dr. New",
        "password": "a long enough password",
        "roles": ["presenter"],
        **change,
    }
    assert_error(await api.client.post("/users", json=body, headers=admin.headers), 400, key)


async def test_create_user_short_password_message_is_accurate(api: Factory) -> None:
    admin = await api.user("admin")
    body = {"email": "n@example.org", "full_name": "Dr. N", "password": "short", "roles": ["presenter"]}
    error = assert_error(await api.client.post("/users", json=body, headers=admin.headers), 400, "password")
    assert "12" in messages(error)["password"]


async def test_reviewer_without_discipline_is_400(api: Factory) -> None:
    admin = await api.user("admin")
    body = {
        "email": "r@example.org",
        "full_name": "Dr. R",
        "password": "a long enough password",
        "roles": ["reviewer"],
    }
    error = assert_error(await api.client.post("/users", json=body, headers=admin.headers), 400)
    assert "discipline" in error["detail"] or any("discipline" in m for m in messages(error).values())


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"intent": "Zyxwvut"}, "intent"),
        ({"modalities": []}, "modalities"),
        ({"modalities": ["surgery", "Zyxwvut"]}, "modalities.1"),
        ({"summary": ""}, "summary"),
        ({"summary": "s" * 20_001}, "summary"),
        ({"rationale": "Zyx\u0000wvut"}, "rationale"),
        ({"guideline": {"name": "NCCN", "concordant": "yes"}}, "guideline.concordant"),
        ({"guideline": {"name": "NCCN", "concordant": True, "url": "x"}}, "guideline.url"),
        ({"trial": {"id": "Zyxwvut"}}, "trial.id"),
        ({"author_id": str(uuid.uuid4())}, "author_id"),
    ],
)
async def test_recommendation_bad_input_is_400(api: Factory, change: dict[str, Any], key: str) -> None:
    reviewer = await api.user("reviewer", discipline="surgical_oncology")
    body = {**recommendation_body(), **change}
    response = await api.client.post(
        f"/cases/{uuid.uuid4()}/recommendations", json=body, headers=reviewer.headers
    )
    assert_error(response, 400, key)


async def test_recommendation_wrong_content_type_is_415(api: Factory) -> None:
    reviewer = await api.user("reviewer", discipline="surgical_oncology")
    raw = json.dumps(recommendation_body()).encode()
    assert_error(
        await post_raw(api, f"/cases/{uuid.uuid4()}/recommendations", reviewer, raw, "text/plain"), 415
    )


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"version": 0}, "version"),
        ({"version": "1"}, "version"),
        ({"version": None}, "version"),
        ({}, "version"),
    ],
)
async def test_recommendation_update_bad_version_is_400(
    api: Factory, change: dict[str, Any], key: str
) -> None:
    reviewer = await api.user("reviewer", discipline="surgical_oncology")
    body = {**recommendation_body(), **change}
    response = await api.client.put(f"/recommendations/{uuid.uuid4()}", json=body, headers=reviewer.headers)
    assert_error(response, 400, key)


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"email": "a@example.org"}, "password"),
        ({"email": 1, "password": "x"}, "email"),
        ({"email": "a@example.org", "password": "x", "remember": True}, "remember"),
        ({"email": "", "password": "x"}, "email"),
    ],
)
async def test_sign_in_bad_input_is_400(api: Factory, body: dict[str, Any], key: str) -> None:
    assert_error(await api.client.post("/auth/token", json=body), 400, key)


async def test_sign_in_malformed_json_is_400(api: Factory) -> None:
    assert_error(await post_raw(api, "/auth/token", None, b"{email:", "application/json"), 400, "body")


async def test_move_case_malformed_meeting_id_is_400(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    response = await api.client.put(
        f"/cases/{uuid.uuid4()}/meeting", json={"meeting_id": "Zyxwvut"}, headers=coordinator.headers
    )
    assert_error(response, 400, "meeting_id")


# Error responses in general


async def test_every_error_response_carries_security_headers(api: Factory) -> None:
    presenter = await api.user("presenter")
    client = api.client
    responses = [
        await client.get("/me"),
        await client.get("/users", headers=presenter.headers),
        await client.get("/cases/not-a-uuid", headers=presenter.headers),
        await client.get("/no-such-route", headers=presenter.headers),
        await post_case(api, presenter, secret_case(ecog="1")),
        await post_raw(api, "/cases", presenter, b"{}", "text/plain"),
        await client.delete("/cases", headers=presenter.headers),
    ]
    for response in responses:
        assert response.status_code >= 400
        assert response.headers.get("content-security-policy"), response.url
        assert response.headers.get("x-content-type-options") == "nosniff", response.url


async def test_bad_request_creates_nothing(api: Factory) -> None:
    presenter = await api.user("presenter")
    assert_error(await post_case(api, presenter, with_patient(sex="Zyxwvut")), 400)
    assert await api.pool.fetchval("SELECT count(*) FROM patient_case") == 0
    assert await api.pool.fetchval("SELECT count(*) FROM patient") == 0


# Idempotency-Key on POST /cases


async def test_same_idempotency_key_and_body_returns_the_same_case(api: Factory) -> None:
    presenter = await api.user("presenter")
    body = case_body()
    headers = {**presenter.headers, "Idempotency-Key": "retry-1"}
    first = await api.client.post("/cases", json=body, headers=headers)
    second = await api.client.post("/cases", json=body, headers=headers)
    assert first.status_code == 201 and second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert await api.pool.fetchval("SELECT count(*) FROM patient_case") == 1


async def test_same_idempotency_key_with_another_body_is_409(api: Factory) -> None:
    presenter = await api.user("presenter")
    body = case_body()
    headers = {**presenter.headers, "Idempotency-Key": "retry-2"}
    assert (await api.client.post("/cases", json=body, headers=headers)).status_code == 201
    changed = copy.deepcopy(body)
    changed["summary"] = "Zyxwvut changed summary"
    changed["patient"]["mrn"] = MRN
    assert_error(await api.client.post("/cases", json=changed, headers=headers), 409)
    assert await api.pool.fetchval("SELECT count(*) FROM patient_case") == 1


async def test_without_idempotency_key_each_post_creates_a_case(api: Factory) -> None:
    presenter = await api.user("presenter")
    body = case_body()
    for _ in range(2):
        assert (await api.client.post("/cases", json=body, headers=presenter.headers)).status_code == 201
    assert await api.pool.fetchval("SELECT count(*) FROM patient_case") == 2


async def test_idempotency_keys_belong_to_their_presenter(api: Factory) -> None:
    first, second = await api.user("presenter"), await api.user("presenter")
    body = case_body()
    one = await api.client.post("/cases", json=body, headers={**first.headers, "Idempotency-Key": "k"})
    two = await api.client.post("/cases", json=body, headers={**second.headers, "Idempotency-Key": "k"})
    assert one.status_code == two.status_code == 201
    assert one.json()["id"] != two.json()["id"]


async def test_over_long_idempotency_key_is_400(api: Factory) -> None:
    presenter = await api.user("presenter")
    headers = {**presenter.headers, "Idempotency-Key": "k" * 201}
    assert_error(await api.client.post("/cases", json=case_body(), headers=headers), 400, "Idempotency-Key")

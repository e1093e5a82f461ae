"""Hostile input (issue 8, item 14): each one a 4xx naming the field, never a 500 or driver text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from aica.models import AnalysisProfile, Record
from tests.conftest import Tenant, assert_rest_error, error_code, gql, make_project
from tests.test_analyses_api import CREATE_PROFILE, CUSTOM
from tests.test_pipeline import upload

DEEP = 5000
DRIVER_WORDS = ("asyncpg", "postgres", "invalid byte sequence", "UTF8", "Traceback", "encode")


def deep(levels: int = DEEP) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = {"a": value}
    return value


def deep_json(levels: int = DEEP) -> str:
    """Built as text: ``json.dumps`` itself cannot write what the attack sends."""
    return '{"a":' * levels + "1" + "}" * levels


async def post_raw(
    client: httpx.AsyncClient, path: str, raw: str, headers: dict[str, str]
) -> httpx.Response:
    """A JSON body as written (``json.dumps`` cannot write what these tests send)."""
    return await client.post(
        path, content=raw, headers={**headers, "Content-Type": "application/json"}
    )


def assert_no_driver_text(text: str) -> None:
    for word in DRIVER_WORDS:
        assert word not in text, text


def ingest_body(project_id: str) -> dict[str, Any]:
    return {"projectId": project_id, "audioUrl": "http://127.0.0.1:9/a.wav", "externalId": "x1"}


async def test_an_agent_name_over_200_characters_on_ingest_is_400_naming_it(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    body = {**ingest_body(project.id), "agentName": "A" * 201}
    response = await client.post("/api/v1/records/ingest", json=body, headers=tenant.headers)
    assert assert_rest_error(response, 400, "BAD_USER_INPUT")["field"] == "agentName"
    assert not await Record.filter(project_id=project.id).exists()


async def test_a_customer_phone_over_64_characters_on_ingest_is_400_naming_it(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    body = {**ingest_body(project.id), "customerPhone": "5" * 65}
    response = await client.post("/api/v1/records/ingest", json=body, headers=tenant.headers)
    assert assert_rest_error(response, 400, "BAD_USER_INPUT")["field"] == "customerPhone"


async def test_an_agent_name_over_200_characters_on_upload_is_400_naming_it(
    client: httpx.AsyncClient, tenant: Tenant, tmp_path: Path
) -> None:
    project = await make_project(tenant.org_id)
    path = tmp_path / "call.wav"
    path.write_bytes(b"RIFF" + b"\0" * 100)
    metadata = json.dumps({"agentName": "A" * 201})
    response = await upload(client, tenant, project.id, path, metadata)
    error = assert_rest_error(response, 400, "BAD_USER_INPUT")
    assert error["field"] == "metadata.agentName"


async def test_json_nested_thousands_deep_to_graphql_is_400(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    raw = '{"query": "{ viewer { id } }", "variables": ' + deep_json() + "}"
    response = await post_raw(client, "/graphql", raw, tenant.headers)
    assert response.status_code == 400, response.text
    assert "nested" in response.text
    assert_no_driver_text(response.text)


async def test_json_nested_thousands_deep_in_ingest_metadata_is_400_naming_it(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    body = json.dumps(ingest_body(project.id))[:-1] + ', "metadata": ' + deep_json() + "}"
    response = await post_raw(client, "/api/v1/records/ingest", body, tenant.headers)
    error = assert_rest_error(response, 400, "BAD_USER_INPUT")
    assert "nested" in error["message"]


async def test_metadata_nested_deeper_than_the_limit_is_refused_naming_it(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """Within what the JSON parser takes, but deeper than any record needs."""
    project = await make_project(tenant.org_id)
    body = {**ingest_body(project.id), "metadata": deep(100)}
    response = await client.post("/api/v1/records/ingest", json=body, headers=tenant.headers)
    error = assert_rest_error(response, 400, "BAD_USER_INPUT")
    assert error["field"] == "metadata"


async def test_a_profile_definition_nested_too_deep_is_400_naming_the_variables(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    definition = json.dumps({**CUSTOM, "key": "deep"})[:-1] + ', "extra": ' + deep_json(100) + "}"
    raw = '{"query": ' + json.dumps(CREATE_PROFILE) + ', "variables": {"definition": '
    response = await post_raw(client, "/graphql", raw + definition + "}}", tenant.headers)
    assert response.status_code == 400, response.text
    assert "variables is nested deeper than 32 levels" in response.text
    assert not await AnalysisProfile.filter(key="deep").exists()


async def test_a_bitrix24_form_nested_thousands_deep_is_400(client: httpx.AsyncClient) -> None:
    key = "data" + "[a]" * DEEP
    response = await client.post(
        "/api/v1/records/ingest",
        content=f"event=ONVOXIMPLANTCALLEND&{key}=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    error = assert_rest_error(response, 400, "BAD_USER_INPUT")
    assert "nested" in error["message"]


async def test_a_subscription_sent_over_http_is_bad_input(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    document = "subscription S($p: ID!) { recordUpdated(projectId: $p) { id } }"
    response = await client.post(
        "/graphql", json={"query": document, "variables": {"p": project.id}}, headers=tenant.headers
    )
    assert response.status_code in (200, 400), response.text
    assert error_code(response.json()) == "BAD_USER_INPUT", response.text
    assert "WebSocket" in response.text


async def test_a_nul_in_a_string_is_bad_input_naming_the_field_without_driver_text(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    document = "mutation C($input: ProjectInput!) { createProject(input: $input) { id } }"
    body = await gql(client, document, {"input": {"name": "Sup\x00port"}}, tenant.headers)
    assert error_code(body) == "BAD_USER_INPUT", body
    assert body["errors"][0]["extensions"]["field"] == "name"
    assert_no_driver_text(json.dumps(body))


async def test_a_lone_surrogate_in_a_string_is_bad_input_naming_the_field(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    raw = (
        '{"query": "mutation C($input: ProjectInput!) { createProject(input: $input) '
        '{ id } }", "variables": {"input": {"name": "Sup\\ud800port"}}}'
    )
    response = await post_raw(client, "/graphql", raw, tenant.headers)
    body = response.json()
    assert error_code(body) == "BAD_USER_INPUT", body
    assert body["errors"][0]["extensions"]["field"] == "name"
    assert_no_driver_text(response.text)


async def test_a_nul_in_a_rest_field_is_400_naming_it(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.post(
        "/api/v1/projects", json={"name": "Sup\x00port"}, headers=tenant.headers
    )
    assert assert_rest_error(response, 400, "BAD_USER_INPUT")["field"] == "name"
    assert_no_driver_text(response.text)


async def test_a_personal_token_with_an_integer_org_id_is_bad_input_naming_it(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    document = 'mutation { createApiToken(name: "ci", orgId: 12345) { token } }'
    body = await gql(client, document, headers=tenant.headers)
    assert error_code(body) == "BAD_USER_INPUT", body
    assert body["errors"][0]["extensions"]["field"] == "orgId"


async def test_a_control_character_token_name_is_bad_input_naming_it(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    document = "mutation T($name: String!) { createApiToken(name: $name) { token } }"
    body = await gql(client, document, {"name": "\u0001" * 20}, tenant.headers)
    assert error_code(body) == "BAD_USER_INPUT", body
    assert body["errors"][0]["extensions"]["field"] == "name"

"""/api/v1/openapi.json describes the route table, in the seed's terms."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from rest_compat.routes import ROUTES, Shape

SEED = Path("/work/shared/seed/aica-api-endpoints.txt")
# Table rows read "GET/records/:idGet record details": the path ends where the description's
# first word (capitalised, followed by a space or the line's end) begins.
SEED_ROW = re.compile(r"^(GET|POST|PUT|PATCH|DELETE)(/\S*?)(?=[A-Z][a-z-]+(?:\s|$))")
SEED_RECORD_FIELDS = {
    "id",
    "projectId",
    "type",
    "status",
    "duration",
    "qualityScore",
    "agentName",
    "customerPhone",
    "createdAt",
    "completedAt",
}


def seed_routes() -> set[tuple[str, str]]:
    """(method, OpenAPI-style path) of every row in the seed's endpoint tables."""
    routes = set()
    for line in SEED.read_text().splitlines():
        match = SEED_ROW.match(line.strip())
        if match:
            path = re.sub(r":(\w+)", r"{\1}", match.group(2))
            routes.add((match.group(1), path))
    return routes


def table_routes() -> set[tuple[str, str]]:
    return {(r.method, re.sub(r"\{(\w+)(:\w+)?\}", r"{\1}", r.path)) for r in ROUTES}


@pytest.fixture(scope="module")
async def spec(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def resolved(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``schema``, or the named schema it refers to (directly or as ``anyOf [ref, null]``)."""
    ref = schema.get("$ref") or next(
        (s["$ref"] for s in schema.get("anyOf", []) if "$ref" in s), None
    )
    if ref is None:
        return schema
    named: dict[str, Any] = spec["components"]["schemas"][ref.removeprefix("#/components/schemas/")]
    return named


def test_the_seed_parser_reads_the_seed_tables() -> None:
    seed = seed_routes()

    assert ("GET", "/records") in seed
    assert ("GET", "/records/{id}") in seed
    assert ("POST", "/analyses/{id}/re-analyze") in seed
    assert ("GET", "/billing/summary/{orgId}") in seed
    assert ("GET", "/search") in seed
    assert len(seed) == 33


BESIDE_THE_SEED = {
    ("GET", "/webhooks"),
    ("POST", "/webhooks"),
    ("DELETE", "/webhooks/{id}"),
    ("POST", "/webhooks/{id}/test"),
}
"""Routes the seed does not list: outgoing webhooks, which its text mentions but never maps."""


def test_every_route_of_the_table_is_a_route_of_the_seed_or_a_webhook_route() -> None:
    assert table_routes() - seed_routes() == BESIDE_THE_SEED


def test_openapi_is_3_1_with_bearer_auth(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    assert spec["servers"] == [{"url": "/api/v1"}]
    assert "/api/v1" in spec["info"]["description"]  # generators ignore a relative server
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_every_operation_requires_the_bearer_token_and_the_org_header(
    spec: dict[str, Any],
) -> None:
    """Generated clients send what each operation declares, and nothing else."""
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            webhook = (path, method) == ("/records/ingest", "post")
            assert {"bearer": []} in operation["security"], (method, path)
            assert ({} in operation["security"]) is webhook, (method, path)
            headers = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}
            assert headers["X-Selected-Org-ID"]["required"] is not webhook, (method, path)


def test_the_audio_route_documents_range_206_and_416(spec: dict[str, Any]) -> None:
    audio = spec["paths"]["/records/{id}/audio"]["get"]
    assert "Range" in {p["name"] for p in audio["parameters"] if p["in"] == "header"}
    partial = audio["responses"]["206"]
    assert "Content-Range" in partial["headers"]
    for status in ("200", "206"):
        content = audio["responses"][status]["content"]
        assert {"audio/wav", "audio/mpeg", "application/octet-stream"} <= set(content)
        assert all(c["schema"] == {"type": "string", "format": "binary"} for c in content.values())
    refused = audio["responses"]["416"]
    error = resolved(spec, refused["content"]["application/json"]["schema"])
    assert "error" in error["properties"]


def test_openapi_lists_every_implemented_seed_route_with_its_method(spec: dict[str, Any]) -> None:
    implemented = seed_routes() & table_routes()
    assert implemented, "no seed route is implemented"

    listed = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
    }

    assert implemented - listed == set()


def test_openapi_lists_every_path_and_method_of_the_route_table(spec: dict[str, Any]) -> None:
    for route in ROUTES:
        path = re.sub(r"\{(\w+)(:\w+)?\}", r"{\1}", route.path)
        assert path in spec["paths"], path
        operation = spec["paths"][path].get(route.method.lower())
        assert operation is not None, (route.method, path)
        assert operation["operationId"] == route.operation
        assert str(route.status) in operation["responses"]


def test_openapi_lists_nothing_the_route_table_does_not_serve(spec: dict[str, Any]) -> None:
    listed = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
    }

    assert listed == table_routes()


def test_path_parameters_are_declared_required(spec: dict[str, Any]) -> None:
    for path, operations in spec["paths"].items():
        names = set(re.findall(r"\{(\w+)\}", path))
        for method, operation in operations.items():
            declared = {p["name"]: p for p in operation["parameters"] if p["in"] == "path"}
            assert set(declared) == names, (method, path)
            assert all(p["required"] for p in declared.values()), (method, path)


def test_list_records_documents_the_seed_query_parameters(spec: dict[str, Any]) -> None:
    operation = spec["paths"]["/records"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"] if p["in"] != "header"}

    assert set(parameters) >= {
        "page",
        "pageSize",
        "projectId",
        "status",
        "from",
        "to",
        "sort",
        "order",
    }
    assert all(p["in"] == "query" for p in parameters.values())
    assert set(parameters["status"]["schema"]["enum"]) == {
        "pending",
        "processing",
        "completed",
        "failed",
    }
    assert set(parameters["sort"]["schema"]["enum"]) == {"createdAt", "duration", "qualityScore"}
    assert set(parameters["order"]["schema"]["enum"]) == {"asc", "desc"}


def response_schema(spec: dict[str, Any], method: str, path: str, status: str) -> dict[str, Any]:
    schema: dict[str, Any] = spec["paths"][path][method]["responses"][status]["content"][
        "application/json"
    ]["schema"]
    return schema


def test_list_records_response_schema_has_the_seed_record_fields_and_meta(
    spec: dict[str, Any],
) -> None:
    schema = response_schema(spec, "get", "/records", "200")

    assert set(schema["properties"]) == {"data", "meta"}
    data = schema["properties"]["data"]
    assert "array" in data["type"]
    item = resolved(spec, data["items"])
    assert set(item["properties"]) == SEED_RECORD_FIELDS
    meta = resolved(spec, schema["properties"]["meta"])
    assert set(meta["properties"]) == {"page", "pageSize", "total"}
    types = {k: v["type"] for k, v in item["properties"].items()}
    assert "integer" in types["duration"] and "integer" in types["qualityScore"]
    assert types["id"] == "string"
    assert item["properties"]["createdAt"].get("format") == "date-time"


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.shape is Shape.EMPTY], ids=lambda r: f"{r.method} {r.path}"
)
def test_delete_routes_document_204_without_a_body(spec: dict[str, Any], route: Any) -> None:
    path = re.sub(r"\{(\w+)(:\w+)?\}", r"{\1}", route.path)
    success = spec["paths"][path][route.method.lower()]["responses"]["204"]

    assert "content" not in success


def test_errors_are_documented_with_the_envelope(spec: dict[str, Any]) -> None:
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            schema = operation["responses"]["default"]["content"]["application/json"]["schema"]
            error = resolved(spec, resolved(spec, schema)["properties"]["error"])
            assert set(error["required"]) == {"message", "code"}, (method, path)


def test_body_routes_document_a_json_request_body(spec: dict[str, Any]) -> None:
    create = spec["paths"]["/projects"]["post"]["requestBody"]
    schema = create["content"]["application/json"]["schema"]

    assert create["required"] is True
    assert "name" in schema["properties"]
    assert schema["additionalProperties"] is False
    invite = spec["paths"]["/users/invite"]["post"]["requestBody"]
    assert "email" in invite["content"]["application/json"]["schema"]["required"]


def test_shared_shapes_are_named_schemas_that_every_route_refers_to(spec: dict[str, Any]) -> None:
    """One Record, Project, ... class in a generated client, not one per route."""
    named = spec["components"]["schemas"]
    assert {"Record", "Project", "Analysis", "Review", "PageMeta", "Error"} <= set(named)

    def data(method: str, path: str, status: str = "200") -> dict[str, Any]:
        schema: dict[str, Any] = response_schema(spec, method, path, status)["properties"]["data"]
        return schema

    assert data("get", "/records/{id}") == {"$ref": "#/components/schemas/Record"}
    assert data("get", "/projects/{id}") == data("post", "/projects", "201")
    assert data("get", "/projects")["items"] == data("get", "/projects/{id}")
    assert data("get", "/analyses/{id}") == data("get", "/analyses")["items"]
    assert resolved(spec, data("get", "/analyses/{id}/review")) == named["Review"]
    assert "stage" in named["Record"]["properties"]
    assert set(named["Record"]["required"]) == set(named["Record"]["properties"])

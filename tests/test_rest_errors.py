"""Bad input is a 4xx in the error envelope with a stable code, never a 500, and changes nothing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from aica.models import Membership, Project, Record, Role
from tests.conftest import Tenant, assert_rest_error, make_project, make_record

API = "/api/v1"


async def org_state(org_id: str) -> dict[str, Any]:
    return {
        "projects": await Project.filter(org_id=org_id).order_by("id").values(),
        "records": await Record.filter(org_id=org_id).order_by("id").values(),
        "members": await Membership.filter(org_id=org_id)
        .order_by("id")
        .values("user_id", "role", "agent_name"),
    }


@pytest.fixture
async def project(tenant: Tenant) -> Project:
    project = await make_project(tenant.org_id, name="Untouched", description="as created")
    await make_record(project)
    return project


# --- JSON bodies -------------------------------------------------------------------------------

MALFORMED_BODIES = {
    "truncated JSON": b'{"name": "x"',
    "not JSON at all": b"name=x",
    "single quotes": b"{'name': 'x'}",
    "invalid UTF-8": b'{"name": "\xff\xfe"}',
}
NOT_AN_OBJECT = {
    "array": b'[{"name": "x"}]',
    "string": b'"x"',
    "number": b"5",
    "null": b"null",
    "empty body": b"",
}
WRONG_TYPES: dict[str, dict[str, Any]] = {
    "name is a number": {"name": 5},
    "name is an object": {"name": {"first": "x"}},
    "name is a list": {"name": ["x"]},
    "settings is a string": {"name": "x", "settings": "sales"},
    "agentChannel is a string": {"name": "x", "settings": {"agentChannel": "left"}},
    "agentChannel is a float": {"name": "x", "settings": {"agentChannel": 0.5}},
    "unknown field": {"name": "x", "bogus": 1},
    "empty name": {"name": "   "},
    "unknown profile": {"name": "x", "settings": {"profile": "nope"}},
    "agentChannel out of range": {"name": "x", "settings": {"agentChannel": 7}},
    "retentionDays negative": {"name": "x", "settings": {"retentionDays": -1}},
    "retentionDays past a century": {"name": "x", "settings": {"retentionDays": 40000}},
    "no name on create": {"description": "nameless"},
}


@pytest.mark.parametrize("body", list(MALFORMED_BODIES.values()), ids=list(MALFORMED_BODIES))
async def test_malformed_json_is_400_and_creates_nothing(
    client: httpx.AsyncClient, tenant: Tenant, project: Project, body: bytes
) -> None:
    before = await org_state(tenant.org_id)
    headers = {**tenant.headers, "Content-Type": "application/json"}

    created = await client.post(f"{API}/projects", content=body, headers=headers)
    updated = await client.patch(f"{API}/projects/{project.id}", content=body, headers=headers)

    assert_rest_error(created, 400, "BAD_USER_INPUT")
    assert_rest_error(updated, 400, "BAD_USER_INPUT")
    assert await org_state(tenant.org_id) == before


@pytest.mark.parametrize("body", list(NOT_AN_OBJECT.values()), ids=list(NOT_AN_OBJECT))
async def test_json_that_is_not_an_object_is_400(
    client: httpx.AsyncClient, tenant: Tenant, project: Project, body: bytes
) -> None:
    before = await org_state(tenant.org_id)
    headers = {**tenant.headers, "Content-Type": "application/json"}

    for method, path in [
        ("POST", "/projects"),
        ("PATCH", f"/projects/{project.id}"),
        ("POST", "/users/invite"),
        ("PATCH", f"/users/{tenant.owner.user_id}"),
    ]:
        response = await client.request(method, API + path, content=body, headers=headers)
        assert response.status_code == 400, (method, path, response.text)
        assert_rest_error(response, 400, "BAD_USER_INPUT")

    assert await org_state(tenant.org_id) == before


@pytest.mark.parametrize("body", list(WRONG_TYPES.values()), ids=list(WRONG_TYPES))
async def test_wrong_types_or_invalid_values_in_a_project_body_are_400(
    client: httpx.AsyncClient, tenant: Tenant, project: Project, body: dict[str, Any]
) -> None:
    before = await org_state(tenant.org_id)

    created = await client.post(f"{API}/projects", json=body, headers=tenant.headers)

    assert_rest_error(created, 400, "BAD_USER_INPUT")
    if "name" in body:  # a PATCH may leave the name out; with it, the same rules apply
        updated = await client.patch(
            f"{API}/projects/{project.id}", json=body, headers=tenant.headers
        )
        assert_rest_error(updated, 400, "BAD_USER_INPUT")
    assert await org_state(tenant.org_id) == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/users/invite", {"email": 5}),
        ("/users/invite", {"email": "not-an-email"}),
        ("/users/invite", {"email": "x@example.com", "role": "emperor"}),
        ("/users/invite", {"role": "agent"}),
        ("/users/{owner}", {"role": "emperor"}),
        ("/users/{owner}", {"role": 3}),
        ("/users/{owner}", {"agentName": ["x"]}),
    ],
    ids=[
        "invite email number",
        "invite bad email",
        "invite unknown role",
        "invite no email",
        "update unknown role",
        "update role number",
        "update agentName list",
    ],
)
async def test_wrong_types_in_user_bodies_are_400(
    client: httpx.AsyncClient, tenant: Tenant, path: str, body: dict[str, Any]
) -> None:
    await tenant.add(Role.agent, agent_name="Ann")
    before = await org_state(tenant.org_id)
    method = "POST" if path == "/users/invite" else "PATCH"
    url = API + path.replace("{owner}", tenant.owner.user_id)

    response = await client.request(method, url, json=body, headers=tenant.headers)

    assert_rest_error(response, 400, "BAD_USER_INPUT")
    assert await org_state(tenant.org_id) == before


async def test_a_json_body_over_the_limit_is_413_and_creates_nothing(
    client: httpx.AsyncClient, tenant: Tenant, project: Project
) -> None:
    before = await org_state(tenant.org_id)
    body = json.dumps({"name": "big", "description": "x" * (2 * 1024 * 1024)})

    response = await client.post(
        f"{API}/projects",
        content=body,
        headers={**tenant.headers, "Content-Type": "application/json"},
    )

    assert_rest_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert await org_state(tenant.org_id) == before


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/xml", "multipart/form-data; boundary=x"],
)
async def test_a_body_that_is_not_json_by_content_type_is_415(
    client: httpx.AsyncClient, tenant: Tenant, project: Project, content_type: str
) -> None:
    before = await org_state(tenant.org_id)
    headers = {**tenant.headers, "Content-Type": content_type}

    created = await client.post(f"{API}/projects", content=b'{"name": "x"}', headers=headers)
    updated = await client.patch(
        f"{API}/projects/{project.id}", content=b'{"name": "x"}', headers=headers
    )

    assert_rest_error(created, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert_rest_error(updated, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert await org_state(tenant.org_id) == before


async def test_a_form_body_that_is_not_a_project_is_refused_and_creates_nothing(
    client: httpx.AsyncClient, tenant: Tenant, project: Project
) -> None:
    """Forms are read (Bitrix24 posts them); JSON text sent as a form is still bad input."""
    before = await org_state(tenant.org_id)
    headers = {**tenant.headers, "Content-Type": "application/x-www-form-urlencoded"}

    response = await client.post(f"{API}/projects", content=b'{"name": "x"}', headers=headers)

    assert response.status_code in (400, 415), response.text
    assert_rest_error(
        response,
        response.status_code,
        {400: "BAD_USER_INPUT", 415: "UNSUPPORTED_MEDIA_TYPE"}[response.status_code],
    )
    assert await org_state(tenant.org_id) == before


async def test_json_with_a_charset_or_vendor_content_type_is_accepted(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for content_type in ("application/json; charset=utf-8", "application/vnd.api+json"):
        response = await client.post(
            f"{API}/projects",
            content=b'{"name": "typed"}',
            headers={**tenant.headers, "Content-Type": content_type},
        )
        assert response.status_code == 201, (content_type, response.text)


# --- unknown ids -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/records/rec_doesnotexist"),
        ("DELETE", "/records/rec_doesnotexist"),
        ("GET", "/projects/proj_doesnotexist"),
        ("PATCH", "/projects/proj_doesnotexist"),
        ("DELETE", "/projects/proj_doesnotexist"),
        ("PATCH", "/users/usr_doesnotexist"),
        ("DELETE", "/users/usr_doesnotexist"),
        ("GET", "/records/proj_wrongprefix"),
        ("GET", "/records/" + "x" * 300),
        ("GET", "/projects/%27%3B%20DROP%20TABLE%20projects%3B--"),
    ],
)
async def test_unknown_ids_are_404(
    client: httpx.AsyncClient, tenant: Tenant, project: Project, method: str, path: str
) -> None:
    before = await org_state(tenant.org_id)
    body = {"name": "x"} if method == "PATCH" and "projects" in path else None
    if method == "PATCH" and "users" in path:
        body = {"role": "agent"}

    response = await client.request(method, API + path, json=body, headers=tenant.headers)

    assert_rest_error(response, 404, "NOT_FOUND")
    assert await org_state(tenant.org_id) == before


async def test_record_not_found_message_is_the_documented_one(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.get(f"{API}/records/rec_doesnotexist", headers=tenant.headers)

    assert response.json() == {"error": {"message": "Record not found", "code": "NOT_FOUND"}}


# --- query parameters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "pageSize=0",
        "pageSize=101",
        "pageSize=abc",
        "pageSize=-5",
        "pageSize=1.5",
        "page=0",
        "page=-1",
        "page=abc",
        "page=99999999999999999999",
        "from=2026-13-01",
        "from=yesterday",
        "to=2026-02-30",
        "to=2026-03-05T25:00:00Z",
        "from=2026-03-06&to=2026-03-05",
        "from=2026-03-05T12:00:00Z&to=2026-03-05T11:59:59Z",
        "sort=name",
        "sort=created_at",
        "order=up",
        "order=ASCENDING",
        "status=done",
        "status=COMPLETED",
    ],
)
async def test_bad_list_parameters_are_400(
    client: httpx.AsyncClient, tenant: Tenant, project: Project, query: str
) -> None:
    response = await client.get(f"{API}/records?{query}", headers=tenant.headers)

    assert_rest_error(response, 400, "BAD_USER_INPUT")


@pytest.mark.parametrize("query", ["pageSize=0", "pageSize=101", "page=0", "pageSize=x"])
async def test_bad_pagination_is_400_on_every_list(
    client: httpx.AsyncClient, tenant: Tenant, query: str
) -> None:
    for path in ("/projects", "/users", "/records"):
        response = await client.get(f"{API}{path}?{query}", headers=tenant.headers)
        assert response.status_code == 400, (path, response.text)
        assert_rest_error(response, 400, "BAD_USER_INPUT")


@pytest.mark.parametrize("query", ["pageSize=1", "pageSize=100", "page=5", "unknownParam=1"])
async def test_boundary_pagination_and_unknown_parameters_are_accepted(
    client: httpx.AsyncClient, tenant: Tenant, project: Project, query: str
) -> None:
    response = await client.get(f"{API}/records?{query}", headers=tenant.headers)

    assert response.status_code == 200, response.text


async def test_unknown_project_filter_is_an_empty_list(
    client: httpx.AsyncClient, tenant: Tenant, project: Project
) -> None:
    response = await client.get(f"{API}/records?projectId=proj_nope", headers=tenant.headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"data": [], "meta": {"page": 1, "pageSize": 20, "total": 0}}


# --- routes and verbs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/nope", "/records/rec_x/nope", "/record", "/projects/proj_x/stats/extra"]
)
async def test_unknown_route_under_the_api_is_404_in_the_envelope(
    client: httpx.AsyncClient, tenant: Tenant, path: str
) -> None:
    response = await client.get(API + path, headers=tenant.headers)

    assert_rest_error(response, 404, "NOT_FOUND")


# "/" is the dashboard.
@pytest.mark.parametrize("path", ["/nope", "/api", "/graphql/nope", "/healthz/x"])
async def test_unknown_paths_outside_the_api_are_404_in_the_envelope(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)

    assert_rest_error(response, 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/records"),
        ("POST", "/records"),
        ("DELETE", "/projects"),
        ("POST", "/records/rec_x"),
        ("PUT", "/projects/proj_x"),
        ("GET", "/users/invite"),
    ],
)
async def test_wrong_verb_is_405_in_the_envelope_and_says_what_is_allowed(
    client: httpx.AsyncClient, tenant: Tenant, project: Project, method: str, path: str
) -> None:
    before = await org_state(tenant.org_id)

    response = await client.request(method, API + path, headers=tenant.headers)

    assert_rest_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers.get("allow"), response.headers
    assert method not in response.headers["allow"]
    assert await org_state(tenant.org_id) == before


# --- GraphQL documents ---------------------------------------------------------------------------


async def test_graphql_request_over_the_body_limit_is_413(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    query = "{ __typename }" + " " * (2 * 1024 * 1024)

    response = await client.post("/graphql", json={"query": query}, headers=tenant.headers)

    assert response.status_code == 413, response.text[:200]
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert str(1024 * 1024) in error["message"]


async def test_an_oversized_graphql_document_is_refused_before_it_runs(
    client: httpx.AsyncClient, tenant: Tenant, project: Project
) -> None:
    """~100 KB of fields: over the query size / token limits, well under the body limit."""
    fields = " ".join(f'p{i}: project(id: "{project.id}") {{ id }}' for i in range(3000))

    response = await client.post(
        "/graphql", json={"query": f"{{ {fields} }}"}, headers=tenant.headers
    )

    assert response.status_code in (200, 400, 413), response.text[:200]
    if response.status_code == 200:
        body = response.json()
        assert body.get("data") is None
        assert body["errors"], body
        code = (body["errors"][0].get("extensions") or {}).get("code")
        assert code != "INTERNAL_SERVER_ERROR", body


@pytest.mark.parametrize(
    "params",
    [{"to": "9999-12-31"}, {"from": "0001-01-01T00:00:00+05:00"}],
)
async def test_dates_at_the_edge_of_the_calendar_are_bad_input(
    client: httpx.AsyncClient, tenant: Tenant, params: dict[str, str]
) -> None:
    response = await client.get("/api/v1/records", params=params, headers=tenant.headers)
    assert_rest_error(response, 400, "BAD_USER_INPUT")


@pytest.mark.parametrize("url", ["http://[x/a.mp3", "http://example.com:99999/a.mp3"])
async def test_unparseable_ingest_urls_are_bad_input(
    client: httpx.AsyncClient, tenant: Tenant, url: str
) -> None:
    project = await Project.create(org_id=tenant.org_id, name="p")
    response = await client.post(
        "/api/v1/records/ingest",
        json={"projectId": project.id, "audioUrl": url, "externalId": "e-1"},
        headers=tenant.headers,
    )
    assert_rest_error(response, 400, "BAD_USER_INPUT")


@pytest.mark.parametrize("path", ["/api/v1/no-such-route", "/api/v1/records/rec_1/nothing"])
async def test_an_unknown_path_answers_the_json_error_envelope(
    client: httpx.AsyncClient, tenant: Tenant, path: str
) -> None:
    """Generated clients decode every error body as JSON."""
    response = await client.get(path, headers=tenant.headers)

    assert response.headers["content-type"].startswith("application/json")
    assert_rest_error(response, 404, "NOT_FOUND")

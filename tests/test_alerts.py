"""Alert rules through REST and GraphQL, judged by the pipeline on real calls.

Firings go to the suite's SMTP server (``mailbox``), to webhook receivers on 127.0.0.1 and to
``alertTriggered`` subscribers over a real WebSocket.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from aica.models import Role
from tests.audio import AudioFactory
from tests.conftest import (
    Mailbox,
    Tenant,
    assert_rest_error,
    finished,
    gql,
    make_project,
    upload,
)
from tests.http_fixtures import Receiver, audio_host, serving
from tests.ws import subscriptions

BAD_CALL = "The weather was cold and the train was late again this morning."
GOOD_CALL = (
    "Hello, thank you for calling support. My name is Anna. How can I help you today? "
    "I have resolved your issue. Is there anything else I can help you with? "
    "Thank you for calling, have a great day."
)
SEED_RULE = {
    "name": "Low Quality Alert",
    "projectId": "proj_abc123",
    "condition": {"field": "qualityScore", "operator": "lt", "value": 60},
    "actions": ["webhook", "email"],
    "enabled": True,
}
FIRINGS = """
query Firings($ruleId: ID) {
  alertFirings(ruleId: $ruleId) {
    total
    items { id ruleId recordId analysisId field operator threshold value actions agentName }
  }
}
"""
ALERT_TRIGGERED = """
subscription Alerts($projectId: ID!) {
  alertTriggered(projectId: $projectId) { id ruleId recordId field value }
}
"""


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> AudioFactory:
    return AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")


def seed_rule(project_id: str | None, **changes: Any) -> dict[str, Any]:
    return {**SEED_RULE, "projectId": project_id, **changes}


async def create_rule(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post("/api/v1/alerts", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    rule: dict[str, Any] = response.json()["data"]
    return rule


async def call(
    client: httpx.AsyncClient,
    tenant: Tenant,
    project_id: str,
    audio: AudioFactory,
    text: str,
    agent: str = "John Smith",
) -> dict[str, Any]:
    metadata = f'{{"agentName": "{agent}"}}'
    response = await upload(client, tenant, project_id, audio.speech(text), metadata=metadata)
    assert response.status_code == 201, response.text
    record = await finished(client, tenant, response.json()["data"]["id"])
    assert record["status"] == "completed", record
    return record


async def firings(client: httpx.AsyncClient, tenant: Tenant, rule_id: str) -> list[dict[str, Any]]:
    body = await gql(client, FIRINGS, {"ruleId": rule_id}, tenant.headers)
    assert "errors" not in body, body
    items: list[dict[str, Any]] = body["data"]["alertFirings"]["items"]
    return items


# --- rules: the seed's contract -----------------------------------------------------------------


async def test_the_seed_body_creates_a_rule_that_lists_updates_and_deletes(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    rule = await create_rule(client, tenant, seed_rule(project.id))
    assert rule["id"].startswith("alr_")
    assert {k: rule[k] for k in SEED_RULE} == seed_rule(project.id)

    listed = await client.get("/api/v1/alerts", headers=tenant.headers)
    assert listed.status_code == 200
    assert [r["id"] for r in listed.json()["data"]] == [rule["id"]]
    assert listed.json()["meta"]["total"] == 1

    patched = await client.patch(
        f"/api/v1/alerts/{rule['id']}",
        json={"enabled": False, "condition": {"field": "duration", "operator": "gt", "value": 600}},
        headers=tenant.headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["data"]["enabled"] is False
    assert patched.json()["data"]["condition"]["field"] == "duration"
    assert patched.json()["data"]["name"] == "Low Quality Alert"

    deleted = await client.delete(f"/api/v1/alerts/{rule['id']}", headers=tenant.headers)
    assert deleted.status_code == 204
    gone = await client.get("/api/v1/alerts", headers=tenant.headers)
    assert gone.json()["data"] == []


async def test_a_rule_without_a_project_watches_every_project(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    rule = await create_rule(client, tenant, seed_rule(None))
    assert rule["projectId"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"condition": {"field": "mood", "operator": "lt", "value": 1}}, "condition.field"),
        (
            {"condition": {"field": "qualityScore", "operator": "<", "value": 1}},
            "condition.operator",
        ),
        (
            {"condition": {"field": "qualityScore", "operator": "lt", "value": "60"}},
            "condition.value",
        ),
        (
            {"condition": {"field": "qualityScore", "operator": "lt", "value": True}},
            "condition.value",
        ),
        (
            {"condition": {"field": "complianceStatus", "operator": "lt", "value": "failed"}},
            "condition.operator",
        ),
        (
            {"condition": {"field": "complianceStatus", "operator": "eq", "value": "bad"}},
            "condition.value",
        ),
        (
            {"condition": {"field": "status", "operator": "eq", "value": "completed"}},
            "condition.value",
        ),
        ({"condition": [1, 2]}, "condition"),
        ({"actions": ["sms"]}, "actions"),
        ({"actions": []}, "actions"),
        ({"emailRecipients": ["not an address"]}, "emailRecipients"),
        ({"cooldownMinutes": -5}, "cooldownMinutes"),
        ({"name": ""}, "name"),
        ({"projectId": "proj_abc123"}, "projectId"),
    ],
)
async def test_a_bad_rule_is_a_400_naming_the_field_and_stores_nothing(
    client: httpx.AsyncClient, tenant: Tenant, change: dict[str, Any], field: str
) -> None:
    project = await make_project(tenant.org_id)
    body = {**seed_rule(project.id), **change}
    response = await client.post("/api/v1/alerts", json=body, headers=tenant.headers)
    error = assert_rest_error(response, 400, "BAD_USER_INPUT")
    assert field in (error.get("field"), error["message"]), error
    listed = await client.get("/api/v1/alerts", headers=tenant.headers)
    assert listed.json()["data"] == []


async def test_agents_may_not_see_or_manage_rules_or_webhooks(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    rule = await create_rule(client, tenant, seed_rule(project.id))
    agent = await tenant.add(Role.agent, agent_name="John Smith")
    supervisor = await tenant.add(Role.supervisor)
    h = agent.headers
    assert_rest_error(await client.get("/api/v1/alerts", headers=h), 403, "FORBIDDEN")
    assert_rest_error(
        await client.post("/api/v1/alerts", json=seed_rule(project.id), headers=h), 403, "FORBIDDEN"
    )
    assert_rest_error(
        await client.delete(f"/api/v1/alerts/{rule['id']}", headers=h), 403, "FORBIDDEN"
    )
    assert_rest_error(await client.get("/api/v1/webhooks", headers=h), 403, "FORBIDDEN")
    # Supervisors manage rules, not webhooks (admins do).
    listed = await client.get("/api/v1/alerts", headers=supervisor.headers)
    assert listed.status_code == 200
    hooks = await client.get("/api/v1/webhooks", headers=supervisor.headers)
    assert_rest_error(hooks, 403, "FORBIDDEN")


async def test_another_orgs_rule_is_not_found(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    rule = await create_rule(client, tenant, seed_rule(project.id))
    theirs = other_tenant.headers
    url = f"/api/v1/alerts/{rule['id']}"
    assert_rest_error(await client.patch(url, json={"name": "x"}, headers=theirs), 404, "NOT_FOUND")
    assert_rest_error(await client.delete(url, headers=theirs), 404, "NOT_FOUND")
    assert (await client.get("/api/v1/alerts", headers=theirs)).json()["data"] == []
    # Nor can a rule of theirs watch our project.
    body = seed_rule(project.id)
    assert_rest_error(
        await client.post("/api/v1/alerts", json=body, headers=theirs), 400, "BAD_USER_INPUT"
    )
    firings_seen = await gql(client, FIRINGS, {"ruleId": rule["id"]}, theirs)
    assert firings_seen["data"]["alertFirings"]["items"] == []


# --- firing on real calls -------------------------------------------------------------------


async def test_a_low_quality_call_fires_emails_and_pushes_the_alert_live(
    client: httpx.AsyncClient,
    base_url: str,
    tenant: Tenant,
    other_tenant: Tenant,
    audio: AudioFactory,
    mailbox: Mailbox,
) -> None:
    project = await make_project(tenant.org_id)
    theirs = await make_project(other_tenant.org_id)
    recipient = f"qa-{secrets.token_hex(3)}@example.com"
    rule = await create_rule(client, tenant, seed_rule(project.id, emailRecipients=[recipient]))
    await create_rule(client, other_tenant, seed_rule(theirs.id))

    async with subscriptions(base_url, f"Bearer {tenant.owner.token}", tenant.org_id) as live:
        await live.subscribe(ALERT_TRIGGERED, {"projectId": project.id})
        await asyncio.sleep(0.2)
        await call(client, other_tenant, theirs.id, audio, BAD_CALL)  # theirs: not ours to hear
        record = await call(client, tenant, project.id, audio, BAD_CALL)
        pushed = await live.until(lambda p: "alertTriggered" in p["data"], wait=30)

    alert = pushed["data"]["alertTriggered"]
    assert (alert["ruleId"], alert["recordId"], alert["field"]) == (
        rule["id"],
        record["id"],
        "qualityScore",
    )
    assert alert["value"] < 60
    [firing] = await firings(client, tenant, rule["id"])
    assert firing["recordId"] == record["id"] and firing["threshold"] == 60
    assert firing["actions"] == {"webhook": "no_endpoints", "email": "queued"}

    [message] = await mailbox.received(recipient)
    assert "Low Quality Alert" in message["Subject"]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for body in (text, html):
        assert record["id"] in body and "John Smith" in body and "qualityScore" in body


async def test_a_good_call_and_a_disabled_rule_are_silent(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> None:
    project = await make_project(tenant.org_id)
    rule = await create_rule(client, tenant, seed_rule(project.id, actions=["webhook"]))
    disabled = await create_rule(
        client, tenant, seed_rule(project.id, enabled=False, actions=["webhook"])
    )
    await call(client, tenant, project.id, audio, GOOD_CALL)
    await call(client, tenant, project.id, audio, BAD_CALL)
    assert len(await firings(client, tenant, rule["id"])) == 1
    assert await firings(client, tenant, disabled["id"]) == []


async def test_the_cooldown_holds_per_agent(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> None:
    project = await make_project(tenant.org_id)
    rule = await create_rule(
        client, tenant, seed_rule(project.id, actions=["webhook"], cooldownMinutes=60)
    )
    for agent in ("John Smith", "John Smith", "Mary Jones"):
        await call(client, tenant, project.id, audio, BAD_CALL, agent=agent)
    fired = await firings(client, tenant, rule["id"])
    assert sorted(f["agentName"] for f in fired) == ["John Smith", "Mary Jones"]


async def test_a_reanalysis_is_judged_again(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> None:
    project = await make_project(tenant.org_id)
    record = await call(client, tenant, project.id, audio, BAD_CALL)
    rule = await create_rule(client, tenant, seed_rule(project.id, actions=["webhook"]))
    analyses = await client.get(
        "/api/v1/analyses", params={"recordId": record["id"]}, headers=tenant.headers
    )
    analysis_id = analyses.json()["data"][0]["id"]
    again = await client.post(
        f"/api/v1/analyses/{analysis_id}/re-analyze",
        json={"profileId": "sales"},
        headers=tenant.headers,
    )
    assert again.status_code == 201, again.text
    [firing] = await firings(client, tenant, rule["id"])
    assert firing["analysisId"] == again.json()["data"]["id"]


@pytest.fixture
async def missing_audio(audio: AudioFactory) -> AsyncIterator[str]:
    async with serving(audio_host({})) as host:
        yield f"{host}/files/gone.wav"


async def test_a_failed_record_fires_a_status_rule_and_its_webhooks(
    client: httpx.AsyncClient, tenant: Tenant, missing_audio: str
) -> None:
    project = await make_project(tenant.org_id)
    condition = {"field": "status", "operator": "eq", "value": "failed"}
    rule = await create_rule(
        client, tenant, seed_rule(project.id, condition=condition, actions=["webhook"])
    )
    hook = Receiver()
    async with serving(hook.app()) as url:
        events = ["record.failed", "alert.triggered"]
        endpoint = await client.post(
            "/api/v1/webhooks",
            json={"url": f"{url}/hook", "events": events},
            headers=tenant.headers,
        )
        hook.secret = endpoint.json()["data"]["secret"]
        body = {"projectId": project.id, "audioUrl": missing_audio, "externalId": "lost-1"}
        created = await client.post("/api/v1/records/ingest", json=body, headers=tenant.headers)
        record = await finished(client, tenant, created.json()["data"]["id"])
        await hook.until(lambda: len(hook.answered) == 2)

    assert record["status"] == "failed"
    [firing] = await firings(client, tenant, rule["id"])
    assert (firing["recordId"], firing["value"], firing["analysisId"]) == (
        record["id"],
        "failed",
        None,
    )
    assert firing["actions"] == {"webhook": "queued"}
    sent = {json.loads(r["body"])["event"]: json.loads(r["body"])["data"] for r in hook.received}
    assert sent["record.failed"]["id"] == record["id"]
    assert "404" in sent["record.failed"]["error"]
    assert sent["alert.triggered"]["id"] == firing["id"]
    assert all(r["valid"] for r in hook.received)


async def test_agents_cannot_follow_alerts_and_other_orgs_cannot_follow_ours(
    base_url: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    agent = await tenant.add(Role.agent, agent_name="John Smith")
    for member, org_id, code in (
        (agent, tenant.org_id, "FORBIDDEN"),
        (other_tenant.owner, other_tenant.org_id, "NOT_FOUND"),
    ):
        async with subscriptions(base_url, f"Bearer {member.token}", org_id) as live:
            await live.subscribe(ALERT_TRIGGERED, {"projectId": project.id})
            message = await live.receive()
        assert message["type"] in ("error", "next"), message
        payload = message["payload"]
        errors = payload if message["type"] == "error" else payload["errors"]
        assert errors[0]["extensions"]["code"] == code

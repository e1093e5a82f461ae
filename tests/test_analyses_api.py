# ruff: noqa: RUF001  (Russian lines)
"""Analyses through the API: seed shapes, re-analysis, annotations, reviews, disputes, stats."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from aica.models import Analysis, ComplianceStatus, Record, RecordStatus, Role, Transcript
from aica.services.analyses import analyze_record
from tests.conftest import Tenant, assert_rest_error, error_code, gql, make_project

Z_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
SEED_ANALYSIS_KEYS = {
    "id",
    "recordId",
    "qualityScore",
    "summary",
    "improvements",
    "complianceStatus",
    "categories",
    "createdAt",
}
GOOD_CALL = [
    (0.5, 3.5, "agent", "Thank you for calling Acme, my name is John, how can I help you today?"),
    (4.0, 8.0, "customer", "Hi, I was charged twice for my subscription this month."),
    (8.5, 12.0, "agent", "I am sorry about that, let me check your account."),
    (12.5, 17.0, "agent", "I have processed your refund, it will arrive in three days."),
    (17.5, 19.0, "customer", "Great, thank you so much."),
    (19.5, 23.0, "agent", "Is there anything else I can help you with? Have a great day."),
]
RUDE_RUSSIAN_CALL = [
    (0.5, 3.5, "agent", "Здравствуйте, меня зовут Анна, чем могу помочь?"),
    (4.0, 8.0, "customer", "Я уже третий раз звоню, деньги так и не пришли."),
    (8.5, 12.0, "agent", "Вы что, тупая? Выполучите их завтра."),
    (12.5, 15.0, "agent", "Всего доброго."),
]


def segments(lines: list[tuple[float, float, str, str]]) -> list[dict[str, Any]]:
    out = []
    for start, end, speaker, text in lines:
        tokens = text.split()
        step = (end - start) / len(tokens)
        words = [
            {
                "start": round(start + i * step, 2),
                "end": round(start + (i + 1) * step, 2),
                "word": " " + token,
                "probability": 0.9,
            }
            for i, token in enumerate(tokens)
        ]
        channel = 0 if speaker == "agent" else 1
        out.append(
            {
                "start": start,
                "end": end,
                "speaker": speaker,
                "channel": channel,
                "text": text,
                "words": words,
            }
        )
    return out


async def transcribed_record(
    project_id: str,
    org_id: str,
    *,
    agent_name: str = "John Smith",
    lines: list[tuple[float, float, str, str]] = GOOD_CALL,
    language: str = "en",
) -> Record:
    record = await Record.create(
        org_id=org_id,
        project_id=project_id,
        status=RecordStatus.completed,
        agent_name=agent_name,
        duration=lines[-1][1] + 1,
        channels=2,
        language=language,
    )
    await Transcript.create(
        record_id=record.id,
        language=language,
        text=" ".join(line[3] for line in lines),
        segments=segments(lines),
    )
    return record


async def analyzed(tenant: Tenant, **options: Any) -> Analysis:
    project = await make_project(tenant.org_id)
    record = await transcribed_record(project.id, tenant.org_id, **options)
    return await analyze_record(record, "general")


# --- shapes and visibility ------------------------------------------------------------------


async def test_get_analysis_has_the_seeds_fields_and_the_general_profiles_categories(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    analysis = await analyzed(tenant)
    response = await client.get(f"/api/v1/analyses/{analysis.id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert set(data) == SEED_ANALYSIS_KEYS
    assert data["id"].startswith("ana_") and data["recordId"].startswith("rec_")
    assert isinstance(data["qualityScore"], int) and 0 <= data["qualityScore"] <= 100
    assert set(data["categories"]) == {
        "greeting",
        "problemResolution",
        "professionalism",
        "closing",
    }
    assert data["complianceStatus"] in ("passed", "failed", "not_checked")
    assert isinstance(data["improvements"], list) and isinstance(data["summary"], str)
    assert Z_TIME.match(data["createdAt"])


async def test_a_good_call_scores_its_greeting_and_closing(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    analysis = await analyzed(tenant)
    assert analysis.categories["greeting"] == 100
    assert analysis.categories["closing"] == 100
    record = (
        await client.get(f"/api/v1/records/{analysis.record_id}", headers=tenant.headers)
    ).json()["data"]
    assert record["qualityScore"] == round(analysis.quality_score)


async def test_analyses_list_filters_and_isolation(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    good = await analyzed(tenant)
    theirs = await analyzed(other_tenant)
    listed = await client.get(
        "/api/v1/analyses", params={"recordId": good.record_id}, headers=tenant.headers
    )
    body = listed.json()
    assert [a["id"] for a in body["data"]] == [good.id]
    assert body["meta"] == {"page": 1, "pageSize": 20, "total": 1}
    high = await client.get(
        "/api/v1/analyses",
        params={"minScore": good.quality_score + 0.1, "recordId": good.record_id},
        headers=tenant.headers,
    )
    assert high.json()["data"] == []
    everything = await client.get("/api/v1/analyses", headers=tenant.headers)
    assert theirs.id not in {a["id"] for a in everything.json()["data"]}
    other = await client.get(f"/api/v1/analyses/{theirs.id}", headers=tenant.headers)
    assert_rest_error(other, 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "params",
    [{"minScore": "abc"}, {"minScore": "101"}, {"complianceStatus": "maybe"}, {"from": "x"}],
)
async def test_bad_analysis_filters_are_400(
    client: httpx.AsyncClient, tenant: Tenant, params: dict[str, str]
) -> None:
    response = await client.get("/api/v1/analyses", params=params, headers=tenant.headers)
    assert_rest_error(response, 400, "BAD_USER_INPUT")


async def test_agents_see_only_their_own_calls_analyses(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    mine = await analyzed(tenant, agent_name="Ann")
    other = await analyzed(tenant, agent_name="Bob")
    ann = await tenant.add(Role.agent, agent_name="Ann")
    listed = await client.get("/api/v1/analyses", headers=ann.headers)
    assert [a["id"] for a in listed.json()["data"]] == [mine.id]
    hidden = await client.get(f"/api/v1/analyses/{other.id}", headers=ann.headers)
    assert_rest_error(hidden, 404, "NOT_FOUND")


async def test_a_call_is_scored_in_the_language_it_is_in_with_inflected_phrases_heard(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # an English call a "ru" project labelled Russian scores as it does labelled English
    english = await analyzed(tenant, language="ru")
    assert english.result["language"] == "en"
    assert english.categories == (await analyzed(tenant)).categories
    assert english.categories["greeting"] == 100
    # a Russian call: "Выполучите" glued, "тупая" inflected (the profile lists "тупой")
    russian = await analyzed(tenant, language="ru", lines=RUDE_RUSSIAN_CALL)
    by_key = {c["key"]: c for c in russian.result["criteria"]}
    assert by_key["resolve"]["passed"] is True
    assert by_key["courteous"]["passed"] is False
    assert "тупая" in by_key["courteous"]["detail"]
    shown = await client.get(f"/api/v1/analyses/{russian.id}", headers=tenant.headers)
    assert shown.json()["data"]["complianceStatus"] == "failed"


# --- re-analysis ------------------------------------------------------------------------------


async def test_reanalysis_with_another_profile_becomes_the_records_current(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    first = await analyzed(tenant)
    response = await client.post(
        f"/api/v1/analyses/{first.id}/re-analyze",
        json={"profileId": "sales"},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    second = response.json()["data"]
    assert second["id"] != first.id and second["recordId"] == first.record_id
    assert "greeting" not in second["categories"]
    record = await Record.get(pk=first.record_id)
    assert record.analysis_id == second["id"]
    assert round(record.quality_score or -1) == second["qualityScore"]
    still = await client.get(f"/api/v1/analyses/{first.id}", headers=tenant.headers)
    assert still.json()["data"]["qualityScore"] == round(first.quality_score)


async def test_reanalysis_rules(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    analysis = await analyzed(tenant)
    url = f"/api/v1/analyses/{analysis.id}/re-analyze"
    agent = await tenant.add(Role.agent, agent_name="John Smith")
    assert_rest_error(
        await client.post(url, json={"profileId": "sales"}, headers=agent.headers), 403, "FORBIDDEN"
    )
    assert_rest_error(
        await client.post(url, json={"profileId": "nope"}, headers=tenant.headers),
        404,
        "NOT_FOUND",
    )
    assert_rest_error(
        await client.post(url, json={"profileId": "sales"}, headers=other_tenant.headers),
        404,
        "NOT_FOUND",
    )
    assert await Analysis.filter(record_id=analysis.record_id).count() == 1


# --- annotations ------------------------------------------------------------------------------


async def test_supervisors_annotate_and_everyone_who_sees_the_call_reads_them(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    analysis = await analyzed(tenant)
    supervisor = await tenant.add(Role.supervisor)
    url = f"/api/v1/analyses/{analysis.id}/annotations"
    added = await client.post(
        url,
        json={
            "text": "Nice empathy here",
            "start": 8.5,
            "end": 12.0,
            "category": "professionalism",
        },
        headers=supervisor.headers,
    )
    assert added.status_code == 201, added.text
    note = added.json()["data"]
    assert (note["text"], note["start"], note["end"], note["category"]) == (
        "Nice empathy here",
        8.5,
        12.0,
        "professionalism",
    )
    assert note["authorId"] == supervisor.user_id
    agent = await tenant.add(Role.agent, agent_name="John Smith")
    listed = await client.get(url, headers=agent.headers)
    assert [n["id"] for n in listed.json()["data"]] == [note["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "x", "start": 5, "end": 2}, "end"),
        ({"text": "x", "end": 2}, "end"),
        ({"text": "x", "category": "upsell"}, "category"),
        ({"text": "x", "start": -1}, "start"),
    ],
)
async def test_bad_annotations_are_400(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any], field: str
) -> None:
    analysis = await analyzed(tenant)
    response = await client.post(
        f"/api/v1/analyses/{analysis.id}/annotations", json=body, headers=tenant.headers
    )
    assert assert_rest_error(response, 400, "BAD_USER_INPUT").get("field") == field


async def test_agents_and_other_orgs_cannot_annotate(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    analysis = await analyzed(tenant)
    url = f"/api/v1/analyses/{analysis.id}/annotations"
    agent = await tenant.add(Role.agent, agent_name="John Smith")
    assert_rest_error(
        await client.post(url, json={"text": "x"}, headers=agent.headers), 403, "FORBIDDEN"
    )
    assert_rest_error(
        await client.post(url, json={"text": "x"}, headers=other_tenant.headers), 404, "NOT_FOUND"
    )
    assert_rest_error(await client.get(url, headers=other_tenant.headers), 404, "NOT_FOUND")


# --- reviews and disputes ---------------------------------------------------------------------

HISTORY = """
query History($id: ID!) {
  analysis(id: $id) { qualityScore reviewHistory { status score isCurrent } }
}
"""
DISPUTE = """
mutation Dispute($id: ID!, $reason: String!) {
  disputeReview(analysisId: $id, reason: $reason) { id }
}
"""


async def test_reviews_supersede_each_other_and_keep_the_ais_score(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    analysis = await analyzed(tenant)
    url = f"/api/v1/analyses/{analysis.id}/review"
    assert (await client.get(url, headers=tenant.headers)).json() == {"data": None}
    first = await client.post(url, json={"status": "approved"}, headers=tenant.headers)
    assert first.status_code == 201, first.text
    second = await client.post(
        url,
        json={"status": "needs_improvement", "score": 55, "comment": "Promised a refund date"},
        headers=tenant.headers,
    )
    current = (await client.get(url, headers=tenant.headers)).json()["data"]
    assert current["id"] == second.json()["data"]["id"]
    assert (current["status"], current["score"]) == ("needs_improvement", 55.0)
    history = await gql(client, HISTORY, {"id": analysis.id}, tenant.headers)
    data = history["data"]["analysis"]
    assert data["qualityScore"] == round(analysis.quality_score)
    assert [(r["status"], r["isCurrent"]) for r in data["reviewHistory"]] == [
        ("needs_improvement", True),
        ("approved", False),
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"status": "approved", "score": 70},
        {"status": "approved", "categories": {"greeting": 50}},
        {"status": "great"},
        {"status": "approved", "score": 101, "comment": "x"},
        {"status": "approved", "categories": {"upsell": 50}, "comment": "x"},
    ],
)
async def test_bad_reviews_are_400_and_change_nothing(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any]
) -> None:
    analysis = await analyzed(tenant)
    url = f"/api/v1/analyses/{analysis.id}/review"
    assert_rest_error(
        await client.post(url, json=body, headers=tenant.headers), 400, "BAD_USER_INPUT"
    )
    assert (await client.get(url, headers=tenant.headers)).json() == {"data": None}


async def test_only_the_calls_agent_disputes_and_agents_cannot_review(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    analysis = await analyzed(tenant, agent_name="Ann")
    ann = await tenant.add(Role.agent, agent_name="Ann")
    bob = await tenant.add(Role.agent, agent_name="Bob")
    review_url = f"/api/v1/analyses/{analysis.id}/review"
    assert_rest_error(
        await client.post(review_url, json={"status": "approved"}, headers=ann.headers),
        403,
        "FORBIDDEN",
    )
    early = await gql(client, DISPUTE, {"id": analysis.id, "reason": "Too early"}, ann.headers)
    assert error_code(early) == "NOT_FOUND"  # nothing to dispute yet
    await client.post(review_url, json={"status": "approved"}, headers=tenant.headers)
    disputed = await gql(client, DISPUTE, {"id": analysis.id, "reason": "I did greet"}, ann.headers)
    assert disputed["data"]["disputeReview"]["id"].startswith("dsp_")
    again = await gql(client, DISPUTE, {"id": analysis.id, "reason": "Again"}, ann.headers)
    assert error_code(again) == "CONFLICT"
    other = await gql(client, DISPUTE, {"id": analysis.id, "reason": "Not mine"}, bob.headers)
    assert error_code(other) == "NOT_FOUND"
    review = (await client.get(review_url, headers=tenant.headers)).json()["data"]
    assert [d["reason"] for d in review["disputes"]] == ["I did greet"]


# --- project statistics -----------------------------------------------------------------------


async def scored(
    tenant: Tenant,
    project_id: str,
    day: str,
    score: float | None,
    *,
    agent: str = "Ann",
    duration: float = 100,
    status: RecordStatus = RecordStatus.completed,
    compliance: ComplianceStatus = ComplianceStatus.passed,
) -> Record:
    record = await Record.create(
        org_id=tenant.org_id,
        project_id=project_id,
        status=status,
        agent_name=agent,
        duration=duration,
    )
    await Record.filter(pk=record.id).update(
        created_at=datetime.fromisoformat(day).replace(tzinfo=UTC)
    )
    if score is not None:
        analysis = await Analysis.create(
            org_id=tenant.org_id,
            record_id=record.id,
            profile_key="general",
            quality_score=score,
            categories={"greeting": score, "closing": 100 - score},
            compliance_status=compliance,
            improvements=[],
            summary="",
            result={},
        )
        await Record.filter(pk=record.id).update(analysis_id=analysis.id, quality_score=score)
    return record


async def test_project_stats_in_the_seeds_shape_with_exact_numbers(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    await scored(tenant, project.id, "2026-03-01T09:00:00", 80, duration=100)
    await scored(
        tenant,
        project.id,
        "2026-03-05T23:30:00",
        90,
        agent="Bob",
        duration=200,
        compliance=ComplianceStatus.failed,
    )
    await scored(tenant, project.id, "2026-03-03T12:00:00", None, status=RecordStatus.failed)
    await scored(tenant, project.id, "2026-03-06T00:00:01", 10)  # outside the period
    response = await client.get(
        f"/api/v1/projects/{project.id}/stats",
        params={"from": "2026-03-01", "to": "2026-03-05"},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "data": {
            "projectId": project.id,
            "totalRecords": 3,
            "completedRecords": 2,
            "averageQualityScore": 85.0,
            "averageDuration": 150,
            "period": {"from": "2026-03-01T00:00:00Z", "to": "2026-03-05T23:59:59Z"},
        }
    }


async def test_average_quality_score_is_the_mean_of_the_scores_records_show(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    for raw in (84.6, 79.6):  # records show 85 and 80
        await scored(tenant, project.id, "2026-03-01T09:00:00", raw)
    headers = tenant.headers
    records = (
        await client.get("/api/v1/records", params={"projectId": project.id}, headers=headers)
    ).json()
    shown = sorted(r["qualityScore"] for r in records["data"])
    stats = await client.get(f"/api/v1/projects/{project.id}/stats", headers=headers)
    assert shown == [80, 85]
    assert stats.json()["data"]["averageQualityScore"] == 82.5


STATS = """
query Stats($id: ID!, $from: DateFilter, $to: DateFilter) {
  projectStats(projectId: $id, from: $from, to: $to) {
    failedRecords complianceFailureRate categoryAverages reviewedRecords reviewerAgreement
    agents { agentName records averageQualityScore averageDuration }
    daily { date records averageQualityScore }
  }
}
"""


async def test_project_stats_breakdowns_and_reviewer_agreement(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    a = await scored(tenant, project.id, "2026-03-01T09:00:00", 80, duration=100)
    await scored(
        tenant,
        project.id,
        "2026-03-01T15:00:00",
        90,
        agent="Bob",
        duration=200,
        compliance=ComplianceStatus.failed,
    )
    await scored(tenant, project.id, "2026-03-02T10:00:00", None, status=RecordStatus.failed)
    await client.post(
        f"/api/v1/analyses/{(await Record.get(pk=a.id)).analysis_id}/review",
        json={"status": "needs_improvement", "score": 70, "comment": "Too slow"},
        headers=tenant.headers,
    )
    body = await gql(
        client, STATS, {"id": project.id, "from": "2026-03-01", "to": "2026-03-02"}, tenant.headers
    )
    stats = body["data"]["projectStats"]
    assert stats["failedRecords"] == 1
    assert stats["complianceFailureRate"] == 0.5
    assert stats["categoryAverages"] == {"closing": 15.0, "greeting": 85.0}
    assert (stats["reviewedRecords"], stats["reviewerAgreement"]) == (1, 10.0)
    assert stats["agents"] == [
        {"agentName": "Ann", "records": 2, "averageQualityScore": 80.0, "averageDuration": 100},
        {"agentName": "Bob", "records": 1, "averageQualityScore": 90.0, "averageDuration": 200},
    ]
    assert stats["daily"] == [
        {"date": "2026-03-01", "records": 2, "averageQualityScore": 85.0},
        {"date": "2026-03-02", "records": 1, "averageQualityScore": None},
    ]


async def test_stats_access_rules(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    url = f"/api/v1/projects/{project.id}/stats"
    agent = await tenant.add(Role.agent, agent_name="Ann")
    assert_rest_error(await client.get(url, headers=agent.headers), 403, "FORBIDDEN")
    assert_rest_error(await client.get(url, headers=other_tenant.headers), 404, "NOT_FOUND")
    bad = await client.get(
        url, params={"from": "2026-03-05", "to": "2026-03-01"}, headers=tenant.headers
    )
    assert_rest_error(bad, 400, "BAD_USER_INPUT")


# --- profiles ---------------------------------------------------------------------------------

CREATE_PROFILE = """
mutation Create($definition: JSON!) {
  createAnalysisProfile(definition: $definition) { id key builtin }
}
"""
PROFILES = "{ analysisProfiles { key builtin } }"
CUSTOM = {
    "key": "warranty",
    "name": "Warranty desk",
    "description": "Checks the warranty script",
    "categories": [
        {
            "key": "warranty",
            "name": "Warranty",
            "weight": 1,
            "criteria": [
                {
                    "key": "serial",
                    "description": "Ask for the serial number",
                    "kind": "phrase",
                    "phrases": ["serial number"],
                    "weight": 1,
                }
            ],
        }
    ],
}


async def test_custom_profiles_are_validated_used_by_projects_and_private_to_the_org(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    created = await gql(client, CREATE_PROFILE, {"definition": CUSTOM}, tenant.headers)
    assert created["data"]["createAnalysisProfile"]["key"] == "warranty", created
    project = await client.post(
        "/api/v1/projects",
        json={"name": "Warranty", "settings": {"profile": "warranty"}},
        headers=tenant.headers,
    )
    assert project.status_code == 201, project.text
    theirs = await client.post(
        "/api/v1/projects",
        json={"name": "W", "settings": {"profile": "warranty"}},
        headers=other_tenant.headers,
    )
    assert_rest_error(theirs, 400, "BAD_USER_INPUT")
    keys = {
        p["key"]
        for p in (await gql(client, PROFILES, headers=other_tenant.headers))["data"][
            "analysisProfiles"
        ]
    }
    assert "warranty" not in keys and {"general", "sales", "collections"} <= keys


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"categories": []}, "BAD_USER_INPUT"),
        ({"key": "general"}, "CONFLICT"),
        ({"key": "Bad Key"}, "BAD_USER_INPUT"),
    ],
)
async def test_invalid_profiles_are_refused(
    client: httpx.AsyncClient, tenant: Tenant, change: dict[str, Any], code: str
) -> None:
    body = await gql(client, CREATE_PROFILE, {"definition": {**CUSTOM, **change}}, tenant.headers)
    assert error_code(body) == code, body


async def test_a_bad_regex_is_reported_with_its_path(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    definition = {**CUSTOM, "key": "regexy"}
    definition["categories"] = [
        {
            **CUSTOM["categories"][0],
            "criteria": [  # type: ignore[index]
                {"key": "r", "description": "d", "kind": "regex", "pattern": "([a-z", "weight": 1}
            ],
        }
    ]
    body = await gql(client, CREATE_PROFILE, {"definition": definition}, tenant.headers)
    assert error_code(body) == "BAD_USER_INPUT"
    assert "categories[0].criteria[0]" in body["errors"][0]["message"]


RECORDS_WITH_ANALYSIS = "{ records(pageSize: 100) { items { id analysis { qualityScore } } } }"


async def test_listing_records_with_their_analysis_runs_a_constant_number_of_queries(
    client: httpx.AsyncClient, tenant: Tenant, sql_counter: Any
) -> None:
    project = await make_project(tenant.org_id)
    await gql(client, RECORDS_WITH_ANALYSIS, headers=tenant.headers)  # token's first use is noted
    counts = []
    for _ in range(2):
        for _ in range(5):
            record = await transcribed_record(project.id, tenant.org_id)
            await analyze_record(record, "general")
        sql_counter.statements.clear()
        body = await gql(client, RECORDS_WITH_ANALYSIS, headers=tenant.headers)
        assert all(i["analysis"] for i in body["data"]["records"]["items"])
        counts.append(len(sql_counter.statements))
    assert counts[0] == counts[1]


async def test_records_filter_by_quality_score(client: httpx.AsyncClient, tenant: Tenant) -> None:
    project = await make_project(tenant.org_id)
    low = await scored(tenant, project.id, "2026-03-01T09:00:00", 40)
    high = await scored(tenant, project.id, "2026-03-01T10:00:00", 90)
    await scored(tenant, project.id, "2026-03-01T11:00:00", None, status=RecordStatus.failed)
    listed = await client.get(
        "/api/v1/records",
        params={"projectId": project.id, "minScore": 50, "sort": "qualityScore"},
        headers=tenant.headers,
    )
    assert [r["id"] for r in listed.json()["data"]] == [high.id]
    upto = await client.get(
        "/api/v1/records", params={"projectId": project.id, "maxScore": 50}, headers=tenant.headers
    )
    assert [r["id"] for r in upto.json()["data"]] == [low.id]
    bad = await client.get(
        "/api/v1/records", params={"minScore": 60, "maxScore": 50}, headers=tenant.headers
    )
    assert_rest_error(bad, 400, "BAD_USER_INPUT")


UPDATE_PROFILE = """
mutation Update($id: ID!, $definition: JSON!) {
  updateAnalysisProfile(id: $id, definition: $definition) { key name }
}
"""
DELETE_PROFILE = "mutation Delete($id: ID!) { deleteAnalysisProfile(id: $id) { key } }"


async def test_another_org_cannot_change_or_delete_a_profile_and_one_in_use_stays(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    definition = {**CUSTOM, "key": "mine"}
    created = await gql(client, CREATE_PROFILE, {"definition": definition}, tenant.headers)
    profile_id = created["data"]["createAnalysisProfile"]["id"]
    renamed = {**definition, "name": "Renamed"}
    foreign = await gql(
        client, UPDATE_PROFILE, {"id": profile_id, "definition": renamed}, other_tenant.headers
    )
    assert error_code(foreign) == "NOT_FOUND"
    gone = await gql(client, DELETE_PROFILE, {"id": profile_id}, other_tenant.headers)
    assert error_code(gone) == "NOT_FOUND"
    await client.post(
        "/api/v1/projects",
        json={"name": "Uses it", "settings": {"profile": "mine"}},
        headers=tenant.headers,
    )
    in_use = await gql(client, DELETE_PROFILE, {"id": profile_id}, tenant.headers)
    assert error_code(in_use) == "CONFLICT"
    own = await gql(
        client, UPDATE_PROFILE, {"id": profile_id, "definition": renamed}, tenant.headers
    )
    assert own["data"]["updateAnalysisProfile"] == {"key": "mine", "name": "Renamed"}


async def test_a_built_in_profiles_id_cannot_be_updated_or_deleted(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    listed = await gql(client, "{ analysisProfiles { id key builtin } }", headers=tenant.headers)
    general = next(p for p in listed["data"]["analysisProfiles"] if p["key"] == "general")
    definition = {**CUSTOM, "key": "general"}

    update = await gql(
        client, UPDATE_PROFILE, {"id": general["id"], "definition": definition}, tenant.headers
    )
    delete = await gql(client, DELETE_PROFILE, {"id": general["id"]}, tenant.headers)

    assert general["builtin"] is True
    for body in (update, delete):
        assert error_code(body) == "BAD_USER_INPUT", body
        assert body["errors"][0]["extensions"]["field"] == "id"
        assert "Built-in" in body["errors"][0]["message"]

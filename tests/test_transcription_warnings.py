"""What transcription could not do reaches the user: record warnings, flagged segments, and a
failed record rather than an empty transcript (GraphQL and REST, through the running service)."""

from __future__ import annotations

import httpx
import pytest

from tests.audio import AudioFactory, Turn
from tests.conftest import Tenant, assert_rest_error, gql, make_project
from tests.test_pipeline import finished, upload

RUSSIAN = "Добрый день, компания Ромашка, меня зовут Анна, слушаю вас. Чем могу помочь?"
MOSTLY_ENGLISH = [
    Turn(0, 0.5, "Good morning, thank you for calling. How can I help you?"),
    Turn(1, 5.0, "Hello, I was charged twice for my order."),
    Turn(0, 9.0, "I am sorry about that. I will refund the second payment today."),
    Turn(1, 14.5, "Thank you very much."),
    Turn(1, 17.0, "Спасибо, до свидания."),
]
RECORD = """
query Record($id: ID!) {
  record(id: $id) { status language warnings { code message start end channel } }
  transcript(recordId: $id) { warnings { code } segments { text lowConfidence } }
}
"""


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> AudioFactory:
    return AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")


async def test_an_unsure_passage_is_flagged_on_its_segment_and_in_the_records_warnings(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> None:
    project = await make_project(tenant.org_id)
    created = (await upload(client, tenant, project.id, audio.call(MOSTLY_ENGLISH))).json()
    record = await finished(client, tenant, created["data"]["id"])

    assert record["status"] == "completed", record
    warnings = record["warnings"]
    assert warnings, "the Russian goodbye on the English-only model must not pass unremarked"
    unsure = {"low_confidence", "untranscribed_speech", "repetition_collapsed"}
    assert {w["code"] for w in warnings} <= unsure
    # the warning points at the goodbye (17 s on), on the customer's channel
    assert any(w["channel"] == 1 and w["end"] > 17.0 and w["start"] < 20.0 for w in warnings)
    assert all(set(w) == {"code", "message", "start", "end", "channel"} for w in warnings)

    transcript = (
        await client.get(f"/api/v1/records/{record['id']}/transcript", headers=tenant.headers)
    ).json()["data"]
    assert transcript["warnings"] == warnings
    assert "refund" in transcript["text"].lower()  # the English part is all there
    assert not any(s["lowConfidence"] for s in transcript["segments"] if "refund" in s["text"])

    data = (await gql(client, RECORD, {"id": record["id"]}, tenant.headers))["data"]
    assert data["record"]["warnings"] == warnings
    assert data["transcript"]["warnings"] == [{"code": w["code"]} for w in warnings]


async def test_a_call_the_english_model_cannot_understand_fails_with_the_reason(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> None:
    project = await make_project(tenant.org_id)
    speech = audio.speech(RUSSIAN, voice="ru")
    created = (await upload(client, tenant, project.id, speech)).json()["data"]
    record = await finished(client, tenant, created["id"])

    assert record["status"] == "failed"
    assert "English-only model tiny.en" in record["error"]
    assert "AICA_WHISPER_MODEL=base" in record["error"]
    response = await client.get(
        f"/api/v1/records/{created['id']}/transcript", headers=tenant.headers
    )
    assert_rest_error(response, 404, "NOT_FOUND")


async def test_another_orgs_record_warnings_are_not_found(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, audio: AudioFactory
) -> None:
    project = await make_project(tenant.org_id)
    created = (await upload(client, tenant, project.id, audio.call(MOSTLY_ENGLISH))).json()
    await finished(client, tenant, created["data"]["id"])
    for path in ("", "/transcript"):
        response = await client.get(
            f"/api/v1/records/{created['data']['id']}{path}", headers=other_tenant.headers
        )
        assert_rest_error(response, 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("languages", "field"),
    [
        (["ru"], "settings.languages[0]"),
        (["en", "xx"], "settings.languages[1]"),
        (["auto"], "settings.languages[0]"),
    ],
)
async def test_project_languages_the_model_cannot_transcribe_are_refused(
    client: httpx.AsyncClient, tenant: Tenant, languages: list[str], field: str
) -> None:
    response = await client.post(
        "/api/v1/projects",
        headers=tenant.headers,
        json={"name": "Support", "settings": {"languages": languages}},
    )
    error = assert_rest_error(response, 400, "BAD_USER_INPUT")
    assert error.get("field") == field, error


async def test_project_languages_are_saved_normalized(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.post(
        "/api/v1/projects",
        headers=tenant.headers,
        json={"name": "Support", "settings": {"languages": ["EN-us", "en"]}},
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["settings"]["languages"] == ["en"]

"""PII redaction end to end: a spoken call through upload to completed, then everything a user
or an integration can read of it, and its audio.

The call (espeak-ng) reads a card number as digits, another as words, a phone number and an
email spelled out. Whatever the recogniser makes of them, none of it may be readable
anywhere afterwards: transcript, words, analysis, search, webhooks, alert email, logs.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import re
import secrets
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from tortoise import connections

from aica.models import Role
from tests.audio import AudioFactory, read_wav
from tests.conftest import (
    DATA_DIR,
    Mailbox,
    Tenant,
    assert_rest_error,
    error_code,
    finished,
    gql,
    make_project,
    upload,
)
from tests.http_fixtures import Receiver, serving

CALL = (
    "Hello, my card number is 4 5 3 9, 1 4 8 8, 0 3 4 3, 6 4 6 7. "
    "My other card is five four two five, two three three four, three zero one zero, "
    "nine nine zero three. Please call me back. My phone number is 4 1 5, 5 5 5, 2 6 7 1. "
    "My email address is john dot smith at gmail dot com. Thank you."
)
METADATA = '{"agentName": "Anna Lee"}'
SECRETS = re.compile(
    r"4539|1488|0343|6467|5425|2334|3010|9903|2671|smith|gmail"
    r"|\b(zero|one|two|three|four|five|six|seven|eight|nine)\b",
    re.IGNORECASE,
)
"""What the call says of its PII, as digits or words (it says no other numbers)."""

CREATE_PROJECT = """
mutation ($input: ProjectInput!) {
  createProject(input: $input) { id settings { redaction } }
}
"""
RECORD = """
query ($id: ID!) {
  record(id: $id) { redactions { kind start end channel } analysis { id summary improvements
    criteria { evidence { text } } } }
}
"""
TRANSCRIPT = """
query ($id: ID!) { transcript(recordId: $id) { text segments { text words { word } } } }
"""
AUDIO = """
query ($id: ID!, $original: Boolean) { recordAudio(id: $id, original: $original) { key } }
"""
SEARCH = """
query ($q: String!) { search(q: $q) { items { recordId snippet segments { text } } } }
"""


def assert_clean(text: str) -> None:
    assert not SECRETS.search(text), text
    assert not re.search(r"\d", text), text


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> AudioFactory:
    return AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    hook = Receiver()
    async with serving(hook.app()) as url:
        yield hook, f"{url}/hook"


async def redacting_project(client: httpx.AsyncClient, tenant: Tenant, mode: str) -> str:
    body = await gql(
        client,
        CREATE_PROJECT,
        {"input": {"name": "Payments", "settings": {"redaction": mode}}},
        tenant.headers,
    )
    assert body["data"]["createProject"]["settings"] == {"redaction": mode}, body
    project_id: str = body["data"]["createProject"]["id"]
    return project_id


async def processed(
    client: httpx.AsyncClient, tenant: Tenant, project_id: str, path: Path
) -> dict[str, Any]:
    response = await upload(client, tenant, project_id, path, metadata=METADATA)
    assert response.status_code == 201, response.text
    record = await finished(client, tenant, response.json()["data"]["id"])
    assert record["status"] == "completed", record
    return record


def rms(samples: np.ndarray[Any, Any], rate: int, start: float, end: float) -> float:
    window = samples[int(start * rate) : int(end * rate)]
    return float(np.sqrt(np.mean(np.square(window)))) if len(window) else 0.0


async def test_a_call_with_cards_a_phone_and_an_email_leaves_none_of_them_readable(
    client: httpx.AsyncClient,
    tenant: Tenant,
    audio: AudioFactory,
    receiver: tuple[Receiver, str],
    mailbox: Mailbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook, url = receiver
    project_id = await redacting_project(client, tenant, "TEXT_AND_AUDIO")
    endpoint = await client.post(
        "/api/v1/webhooks",
        json={"url": url, "events": ["record.completed", "analysis.completed", "alert.triggered"]},
        headers=tenant.headers,
    )
    assert endpoint.status_code == 201, endpoint.text
    recipient = f"qa-{secrets.token_hex(3)}@example.com"
    rule = await client.post(
        "/api/v1/alerts",
        json={
            "name": "Every call",
            "projectId": project_id,
            "condition": {"field": "qualityScore", "operator": "lt", "value": 101},
            "actions": ["webhook", "email"],
            "emailRecipients": [recipient],
        },
        headers=tenant.headers,
    )
    assert rule.status_code == 201, rule.text
    caplog.set_level(logging.DEBUG)  # SQL too: the clear transcript never reaches the database

    record = await processed(client, tenant, project_id, audio.speech(CALL, wpm=130))

    transcript = (await gql(client, TRANSCRIPT, {"id": record["id"]}, tenant.headers))["data"]
    text = transcript["transcript"]["text"]
    assert {"[CARD]", "[PHONE]", "[EMAIL]"} <= set(re.findall(r"\[[A-Z]+\]", text)), text
    assert "Hello" in text and "Thank you" in text  # the rest of the call is still there
    assert_clean(text)
    for segment in transcript["transcript"]["segments"]:
        assert_clean(segment["text"])
        assert_clean(" ".join(w["word"] for w in segment["words"]))
    rest = await client.get(f"/api/v1/records/{record['id']}/transcript", headers=tenant.headers)
    for segment in rest.json()["data"]["segments"]:
        assert_clean(segment["text"] + " ".join(w["word"] for w in segment["words"]))

    stored = (await gql(client, RECORD, {"id": record["id"]}, tenant.headers))["data"]["record"]
    kinds = [span["kind"] for span in stored["redactions"]]
    assert kinds.count("CARD") == 2 and "PHONE" in kinds and "EMAIL" in kinds, stored
    analysis = stored["analysis"]
    assert_clean(analysis["summary"])
    assert not SECRETS.search(" ".join(analysis["improvements"]))  # they say "in the last 60 s"
    evidence = [e["text"] for c in analysis["criteria"] for e in c["evidence"]]
    assert any("[CARD]" in e for e in evidence), evidence  # the greeting's segment is quoted
    for quoted in evidence:
        assert_clean(quoted)

    async with asyncio.timeout(60):  # the index job runs after the record completes
        while True:
            hits = await gql(client, SEARCH, {"q": "thank"}, tenant.headers)
            if [h for h in hits["data"]["search"]["items"] if h["recordId"] == record["id"]]:
                break
            await asyncio.sleep(0.25)
    await hook.until(lambda: len(hook.received) >= 3)
    events = {json.loads(r["body"])["event"] for r in hook.received}
    assert events == {"record.completed", "analysis.completed", "alert.triggered"}
    for received in hook.received:
        assert not SECRETS.search(received["body"].decode()), received["body"]
    [message] = await mailbox.received(recipient)
    for kind in ("plain", "html"):
        body = message.get_body((kind,)).get_content()  # type: ignore[union-attr]
        assert record["id"] in body and not SECRETS.search(body), body

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "[CARD]" in logged  # the transcript's INSERT was logged, with its values
    leaks = re.search(r"\b(4539|1488|6467|5425|9903|2671|smith|gmail)\b", logged, re.I)
    assert not leaks, logged[leaks.start() - 200 : leaks.end() + 200] if leaks else ""

    for query in ("thank", "gmail", "smith", "4539", "card"):
        result = await gql(client, SEARCH, {"q": query}, tenant.headers)
        for hit in result["data"]["search"]["items"]:
            assert_clean(hit["snippet"] + " ".join(s["text"] for s in hit["segments"]))
    index = connections.get("default")
    documents = await index.execute_query_dict(
        "SELECT * FROM search_documents WHERE record_id = $1", [record["id"]]
    )
    assert documents
    assert not SECRETS.search(json.dumps(documents, default=str)), documents
    terms = await index.execute_query_dict(
        "SELECT term FROM search_terms WHERE org_id = $1", [tenant.org_id]
    )
    assert "card" in {t["term"] for t in terms}
    assert not [t["term"] for t in terms if SECRETS.search(t["term"])]


async def test_the_redacted_audio_is_silent_where_the_data_was_and_admins_may_hear_the_original(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, audio: AudioFactory
) -> None:
    path = audio.speech(CALL, wpm=130)
    project_id = await redacting_project(client, tenant, "TEXT_AND_AUDIO")
    record = await processed(client, tenant, project_id, path)
    rid = record["id"]
    spans = (await gql(client, RECORD, {"id": rid}, tenant.headers))["data"]["record"]
    spans = spans["redactions"]
    assert spans

    served = await client.get(f"/api/v1/records/{rid}/audio", headers=tenant.headers)
    assert served.status_code == 200, served.text
    assert served.headers["content-type"].startswith("audio/wav")
    with wave.open(io.BytesIO(served.content)) as w:
        rate = w.getframerate()
        redacted = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
    original, original_rate = read_wav(path)
    speech = original[:, 0]
    for span in spans:
        assert rms(redacted, rate, span["start"], span["end"]) < 1e-3, span
        assert rms(speech, original_rate, span["start"], span["end"]) > 0.02, span
    first = spans[0]["start"]
    assert rms(redacted, rate, 0.0, first - 0.3) > 0.02  # "Hello, my card number is" is kept

    whole = await client.get(
        f"/api/v1/records/{rid}/audio", params={"original": "true"}, headers=tenant.headers
    )
    assert whole.status_code == 200, whole.text
    assert hashlib.sha256(whole.content).digest() == hashlib.sha256(path.read_bytes()).digest()

    supervisor = await tenant.add(Role.supervisor)
    agent = await tenant.add(Role.agent, agent_name="Anna Lee")
    for member in (supervisor, agent):
        theirs = await client.get(f"/api/v1/records/{rid}/audio", headers=member.headers)
        assert theirs.content == served.content
        refused = await client.get(
            f"/api/v1/records/{rid}/audio", params={"original": "true"}, headers=member.headers
        )
        assert_rest_error(refused, 403, "FORBIDDEN")
        body = await gql(client, AUDIO, {"id": rid, "original": True}, member.headers)
        assert error_code(body) == "FORBIDDEN"

    owner = await gql(client, AUDIO, {"id": rid, "original": True}, tenant.headers)
    default = await gql(client, AUDIO, {"id": rid}, tenant.headers)
    assert owner["data"]["recordAudio"]["key"] != default["data"]["recordAudio"]["key"]

    for params in ({}, {"original": "true"}):
        foreign = await client.get(
            f"/api/v1/records/{rid}/audio", params=params, headers=other_tenant.headers
        )
        assert_rest_error(foreign, 404, "NOT_FOUND")
    body = await gql(client, AUDIO, {"id": rid, "original": True}, other_tenant.headers)
    assert error_code(body) == "NOT_FOUND"

    deleted = await client.delete(f"/api/v1/records/{rid}", headers=tenant.headers)
    assert deleted.status_code in (200, 204), deleted.text
    assert not list(DATA_DIR.rglob(f"{rid}*"))  # the original and the redacted copy


async def test_text_redaction_keeps_the_audio_as_it_was(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> None:
    path = audio.speech("Please call me back. My phone number is 4 1 5, 5 5 5, 2 6 7 1.", wpm=130)
    project_id = await redacting_project(client, tenant, "TEXT")
    record = await processed(client, tenant, project_id, path)

    transcript = (await gql(client, TRANSCRIPT, {"id": record["id"]}, tenant.headers))["data"]
    assert "[PHONE]" in transcript["transcript"]["text"]
    served = await client.get(f"/api/v1/records/{record['id']}/audio", headers=tenant.headers)
    assert served.content == path.read_bytes()


async def test_the_redaction_setting_is_an_admins_choice_and_checked(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    changed = await client.patch(
        f"/api/v1/projects/{project.id}",
        json={"settings": {"redaction": "TEXT"}},
        headers=tenant.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"]["settings"]["redaction"] == "TEXT"

    bad = await client.patch(
        f"/api/v1/projects/{project.id}",
        json={"settings": {"redaction": "everything"}},
        headers=tenant.headers,
    )
    assert bad.status_code in (400, 422), bad.text
    assert bad.json()["error"]["code"] == "BAD_USER_INPUT"

    supervisor = await tenant.add(Role.supervisor)
    refused = await client.patch(
        f"/api/v1/projects/{project.id}",
        json={"settings": {"redaction": "OFF"}},
        headers=supervisor.headers,
    )
    assert_rest_error(refused, 403, "FORBIDDEN")
    fresh = await client.get(f"/api/v1/projects/{project.id}", headers=tenant.headers)
    assert fresh.json()["data"]["settings"]["redaction"] == "TEXT"

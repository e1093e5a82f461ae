"""Signed audio links: an <audio> element plays a record's recording, by byte range, without
headers; the link opens that record only, for its caller only, while the caller has access."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from aica.models import Membership, Role, Token
from aica.services import media
from tests.audio import AudioFactory
from tests.conftest import Tenant, assert_rest_error, error_code, gql, make_project, upload

AUDIO_URL = "query ($id: ID!) { recordAudioUrl(id: $id) }"
GREETING = "Hello, thank you for calling support. How can I help you today?"


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> AudioFactory:
    return AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")


async def uploaded(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory, text: str = GREETING
) -> tuple[str, bytes]:
    project = await make_project(tenant.org_id)
    path = audio.speech(text)
    created = (await upload(client, tenant, project.id, path)).json()["data"]
    return created["id"], path.read_bytes()


async def link(client: httpx.AsyncClient, record_id: str, headers: dict[str, str]) -> str:
    body = await gql(client, AUDIO_URL, {"id": record_id}, headers)
    assert "errors" not in body, body
    url: str = body["data"]["recordAudioUrl"]
    return url


def ticket_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["ticket"][0]


async def test_a_link_plays_the_whole_recording_and_byte_ranges_without_headers(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> None:
    record_id, data = await uploaded(client, tenant, audio)
    url = await link(client, record_id, tenant.headers)
    assert url.startswith(f"/api/v1/records/{record_id}/audio?ticket=")

    whole = await client.get(url)
    assert whole.status_code == 200
    assert whole.content == data
    assert whole.headers["content-type"] == "audio/wav"

    part = await client.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"


async def test_a_link_opens_its_own_record_only_and_not_once_altered(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> None:
    first, _ = await uploaded(client, tenant, audio)
    second, _ = await uploaded(client, tenant, audio, "Goodbye and have a nice day.")
    ticket = ticket_of(await link(client, first, tenant.headers))

    other_record = await client.get(f"/api/v1/records/{second}/audio", params={"ticket": ticket})
    assert_rest_error(other_record, 401, "UNAUTHENTICATED")
    # Not a key to the rest of the API either: without a token the route is refused.
    listing = await client.get("/api/v1/records", params={"ticket": ticket})
    assert_rest_error(listing, 401, "UNAUTHENTICATED")

    token_id, org_id, expires, signature = ticket.split(".")
    later = f"{token_id}.{org_id}.{int(expires) + 3600}.{signature}"
    other_end = "AA" if signature[-2:] != "AA" else "BB"
    flipped = f"{token_id}.{org_id}.{expires}.{signature[:-2]}{other_end}"
    for bad in (later, flipped, "garbage", f"tok_nope.{org_id}.{expires}.{signature}"):
        response = await client.get(f"/api/v1/records/{first}/audio", params={"ticket": bad})
        assert_rest_error(response, 401, "UNAUTHENTICATED")


async def test_an_expired_link_is_refused_with_a_reason(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> None:
    record_id, _ = await uploaded(client, tenant, audio)
    ticket = ticket_of(await link(client, record_id, tenant.headers))
    token_id, org_id, _, _ = ticket.split(".")
    token = await Token.get(pk=token_id)
    expired = int(time.time()) - 1
    signature = media._signature(token.token_hash, record_id, org_id, expired)

    response = await client.get(
        f"/api/v1/records/{record_id}/audio",
        params={"ticket": f"{token_id}.{org_id}.{expired}.{signature}"},
    )
    assert "expired" in assert_rest_error(response, 401, "UNAUTHENTICATED")["message"]


async def test_another_org_and_another_agent_get_no_link(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, audio: AudioFactory
) -> None:
    record_id, _ = await uploaded(client, tenant, audio)  # agent "John Smith"
    stranger = await gql(client, AUDIO_URL, {"id": record_id}, other_tenant.headers)
    assert error_code(stranger) == "NOT_FOUND"
    # The other org's owner, naming this org, is not a member of it.
    foreign = {**other_tenant.headers, "X-Selected-Org-ID": tenant.org_id}
    assert error_code(await gql(client, AUDIO_URL, {"id": record_id}, foreign)) == "FORBIDDEN"

    colleague = await tenant.add(Role.agent, agent_name="Jane Doe")
    assert error_code(await gql(client, AUDIO_URL, {"id": record_id}, colleague.headers)) == (
        "NOT_FOUND"
    )
    own_agent = await tenant.add(Role.agent, agent_name="John Smith")
    url = await link(client, record_id, own_agent.headers)
    assert (await client.get(url)).status_code == 200


async def test_a_link_dies_with_its_token_and_with_the_membership(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> None:
    record_id, _ = await uploaded(client, tenant, audio)
    supervisor = await tenant.add(Role.supervisor)
    removed_url = await link(client, record_id, supervisor.headers)
    owner_url = await link(client, record_id, tenant.headers)

    await Membership.filter(org_id=tenant.org_id, user_id=supervisor.user_id).delete()
    assert_rest_error(await client.get(removed_url), 403, "FORBIDDEN")

    await Token.filter(user_id=tenant.owner.user_id).update(revoked_at=datetime.now(UTC))
    assert_rest_error(await client.get(owner_url), 401, "UNAUTHENTICATED")

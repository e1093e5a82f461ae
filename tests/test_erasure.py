"""Erasure by data subject: ``eraseCustomerData`` removes exactly the records of one customer,
by phone number in any spelling or by external id, everywhere (rows, audio, redacted copy,
search entries, deliveries that mention them), in the caller's org only, for owners and admins
only; the audit keeps that it happened, not who the customer was."""

from __future__ import annotations

import httpx
import pytest

from aica.models import AuditAction, AuditEvent, Delivery, DeliveryKind, Role
from tests.audio import AudioFactory
from tests.conftest import Tenant, error_code, gql, make_project, make_record
from tests.stored_calls import files_of, rows_left, search_documents, stored_call

ERASE = """
mutation ($orgId: ID!, $phone: String, $externalId: String) {
  eraseCustomerData(orgId: $orgId, phone: $phone, externalId: $externalId) { count recordIds }
}
"""
SEARCH = "query ($q: String!) { search(q: $q) { total items { recordId } } }"


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> AudioFactory:
    return AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")


async def erase(
    client: httpx.AsyncClient, headers: dict[str, str], org_id: str, **subject: str
) -> dict[str, object]:
    return await gql(client, ERASE, {"orgId": org_id, **subject}, headers)


async def test_erasing_a_phone_removes_its_records_in_every_spelling_and_nothing_else(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, audio: AudioFactory
) -> None:
    # Given: the customer's calls with the number written three ways (one in metadata only),
    # a call of another customer, and the same number in another org
    project = await make_project(tenant.org_id)
    theirs = [
        await stored_call(project, audio, customer_phone="+1 (555) 123-4567"),
        await stored_call(project, audio, customer_phone="0015551234567"),
        await stored_call(project, audio, customer_phone=None, metadata={"caller": "15551234567"}),
    ]
    someone_else = await stored_call(project, audio, customer_phone="+15551234568")
    foreign_project = await make_project(other_tenant.org_id)
    foreign = await stored_call(foreign_project, audio, customer_phone="+15551234567")
    mentioned = await Delivery.create(
        org_id=tenant.org_id,
        kind=DeliveryKind.email,
        event="alert.triggered",
        payload={"text": f"Call {theirs[0].id} needs a look"},
    )
    unrelated = await Delivery.create(
        org_id=tenant.org_id,
        kind=DeliveryKind.email,
        event="alert.triggered",
        payload={"text": f"Call {someone_else.id} needs a look"},
    )
    ids = sorted(r.id for r in theirs)

    # When
    body = await erase(client, tenant.headers, tenant.org_id, phone="+1 555-123-4567")

    # Then: exactly their records went, everywhere
    assert "errors" not in body, body
    assert body["data"] == {"eraseCustomerData": {"count": 3, "recordIds": ids}}
    assert await rows_left(*ids) == {"records": 0, "transcripts": 0, "analyses": 0}
    assert not any(path.exists() for r in theirs for path in files_of(r))
    assert await search_documents(*ids) == 0
    found = await gql(client, SEARCH, {"q": "zanzibar"}, tenant.headers)
    assert {i["recordId"] for i in found["data"]["search"]["items"]} == {someone_else.id}
    assert not await Delivery.exists(pk=mentioned.id)
    assert await Delivery.exists(pk=unrelated.id)
    for record in (someone_else, foreign):
        assert await rows_left(record.id) == {"records": 1, "transcripts": 1, "analyses": 1}
        assert all(path.exists() for path in files_of(record))
    # the audit says who erased how many, never the number
    row = await AuditEvent.get(org_id=tenant.org_id, action=AuditAction.customer_erased)
    assert (row.actor_id, row.detail) == (tenant.owner.user_id, {"by": "phone", "records": 3})
    assert "555" not in str(row.detail)


async def test_erasing_an_external_id_removes_exactly_that_customers_records(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, audio: AudioFactory
) -> None:
    project = await make_project(tenant.org_id)
    theirs = await stored_call(project, audio, external_id="crm-42")
    other = await stored_call(project, audio, external_id="crm-43")
    foreign = await stored_call(
        await make_project(other_tenant.org_id), audio, external_id="crm-42"
    )
    admin = await tenant.add(Role.admin)

    body = await erase(client, admin.headers, tenant.org_id, externalId="crm-42")

    assert body["data"] == {"eraseCustomerData": {"count": 1, "recordIds": [theirs.id]}}
    assert await rows_left(theirs.id) == {"records": 0, "transcripts": 0, "analyses": 0}
    assert await rows_left(other.id, foreign.id) == {"records": 2, "transcripts": 2, "analyses": 2}
    row = await AuditEvent.get(org_id=tenant.org_id, action=AuditAction.customer_erased)
    assert (row.actor_id, row.detail) == (admin.user_id, {"by": "externalId", "records": 1})
    assert "crm-42" not in str(row.detail)


async def test_a_customer_with_no_records_erases_nothing_and_is_still_audited(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # a call whose metadata is not an object (written before uploads checked it) is no match
    await make_record(await make_project(tenant.org_id), metadata=["+447911123456"])

    body = await erase(client, tenant.headers, tenant.org_id, phone="+447911123456")

    assert body["data"] == {"eraseCustomerData": {"count": 0, "recordIds": []}}
    assert (
        await AuditEvent.filter(org_id=tenant.org_id, action=AuditAction.customer_erased).count()
        == 1
    )


@pytest.mark.parametrize("role", [Role.supervisor, Role.agent])
async def test_supervisors_and_agents_may_not_erase(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory, role: Role
) -> None:
    record = await stored_call(await make_project(tenant.org_id), audio, external_id="crm-1")
    member = await tenant.add(role, agent_name="John Smith")

    body = await erase(client, member.headers, tenant.org_id, externalId="crm-1")

    assert error_code(body) == "FORBIDDEN"
    assert await rows_left(record.id) == {"records": 1, "transcripts": 1, "analyses": 1}


async def test_another_orgs_id_is_not_found(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, audio: AudioFactory
) -> None:
    record = await stored_call(await make_project(other_tenant.org_id), audio, external_id="x-1")

    body = await erase(client, tenant.headers, other_tenant.org_id, externalId="x-1")

    assert error_code(body) == "NOT_FOUND"
    assert await rows_left(record.id) == {"records": 1, "transcripts": 1, "analyses": 1}


@pytest.mark.parametrize(
    "subject",
    [
        {"phone": "not a number"},
        {"phone": "12"},
        {"phone": "+1" + "5" * 70},
        {"phone": "+15551234567", "externalId": "crm-1"},
        {},
        {"externalId": "  "},
    ],
    ids=["words", "too short", "too long", "both", "neither", "blank external id"],
)
async def test_a_bad_subject_is_a_bad_user_input(
    client: httpx.AsyncClient, tenant: Tenant, subject: dict[str, str]
) -> None:
    body = await erase(client, tenant.headers, tenant.org_id, **subject)

    assert error_code(body) == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["field"] in ("phone", "externalId")
    assert not await AuditEvent.filter(org_id=tenant.org_id).exists()

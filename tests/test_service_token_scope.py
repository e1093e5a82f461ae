"""A service token acts inside its org only (issue 8, item 5): it cannot reach the account
(tokens, other orgs, new orgs), so revoking it ends everything it could do."""

from __future__ import annotations

import httpx
import pytest

from aica.models import Token
from aica.services import orgs
from tests.conftest import Tenant, error_code, gql

CREATE_SERVICE_TOKEN = """
mutation S($orgId: ID!) {
  createApiToken(name: "integration", kind: service, orgId: $orgId, expiresInDays: 30) { token }
}
"""
ORGS = "query { orgs { id } }"
PROJECTS = "query { projects { total } }"
ACCOUNT_CALLS = {
    "mint a personal token": 'mutation { createApiToken(name: "escape") { token } }',
    "mint another service token": (
        'mutation { createApiToken(name: "twin", kind: service, orgId: "ORG") { token } }'
    ),
    "list tokens": "query { apiTokens { id } }",
    "revoke a token": 'mutation { revokeApiToken(id: "TOKEN") { id } }',
    "create an org": 'mutation { createOrg(name: "Side door") { id } }',
}


async def service_token(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, str]:
    body = await gql(client, CREATE_SERVICE_TOKEN, {"orgId": tenant.org_id}, tenant.headers)
    return {"Authorization": f"Bearer {body['data']['createApiToken']['token']}"}


@pytest.mark.parametrize("action", ACCOUNT_CALLS)
async def test_a_service_token_cannot_manage_the_account(
    client: httpx.AsyncClient, tenant: Tenant, action: str
) -> None:
    headers = await service_token(client, tenant)
    owner_token = await Token.filter(user_id=tenant.owner.user_id).first()
    assert owner_token is not None
    query = ACCOUNT_CALLS[action].replace("ORG", tenant.org_id).replace("TOKEN", owner_token.id)
    tokens_before = await Token.filter(user_id=tenant.owner.user_id, revoked_at=None).count()

    body = await gql(client, query, headers=headers | {"X-Selected-Org-ID": tenant.org_id})

    assert error_code(body) == "FORBIDDEN", body
    assert await Token.filter(user_id=tenant.owner.user_id, revoked_at=None).count() == (
        tokens_before
    )


async def test_a_service_token_sees_only_its_own_org(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    second = await orgs.create_org("Second", tenant.owner.user_id)
    personal = {"Authorization": f"Bearer {tenant.owner.token}"}
    both = await gql(client, ORGS, headers=personal)
    headers = await service_token(client, tenant)

    listed = await gql(client, ORGS, headers=headers)

    assert {o["id"] for o in both["data"]["orgs"]} == {tenant.org_id, second.id}
    assert listed["data"]["orgs"] == [{"id": tenant.org_id}]
    assert "errors" not in await gql(
        client, PROJECTS, headers=headers | {"X-Selected-Org-ID": tenant.org_id}
    )

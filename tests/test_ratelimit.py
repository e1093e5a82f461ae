"""Per-token request limits: 429 with Retry-After, shared across processes through Redis."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from aica.models import TokenKind
from aica.ratelimit import ADDRESS_FACTOR, WINDOW_SECONDS, MemoryCounter, RateLimiter, RedisCounter
from aica.services import auth
from tests.conftest import REDIS_URL, Tenant, running_server
from tests.conftest import make_settings as settings_with

LIMIT = 5
RECORDS = "/api/v1/records"


async def fresh_window(margin: float = 3.0) -> None:
    """Wait out the current fixed window when it is about to end, so a burst stays inside one."""
    left = WINDOW_SECONDS - time.time() % WINDOW_SECONDS
    if left < margin:
        await asyncio.sleep(left + 0.05)


async def second_token(tenant: Tenant) -> dict[str, str]:
    raw, _ = await auth.issue_token(tenant.owner.user_id, TokenKind.personal)
    return {"Authorization": f"Bearer {raw}", "X-Selected-Org-ID": tenant.org_id}


async def no_token_in_force(authorization: bytes) -> bool:
    return False


@pytest.fixture
async def limited(base_url: str, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A second server allowing 5 requests a minute (the suite's server is practically open)."""
    settings = settings_with(rate_limit_per_minute=LIMIT)
    async with (
        running_server(settings, database_url, lifespan="off") as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        yield client


def assert_rate_limited_headers(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    retry_after = response.headers.get("retry-after")
    assert retry_after is not None and retry_after.isdigit(), response.headers
    assert 1 <= int(retry_after) <= WINDOW_SECONDS
    assert response.headers.get("x-request-id")


async def test_the_request_over_the_limit_is_429_with_retry_after_and_the_envelope(
    limited: httpx.AsyncClient, tenant: Tenant
) -> None:
    await fresh_window()

    allowed = [await limited.get(RECORDS, headers=tenant.headers) for _ in range(LIMIT)]
    refused = await limited.get(RECORDS, headers=tenant.headers)

    assert [r.status_code for r in allowed] == [200] * LIMIT
    assert [r.headers["x-ratelimit-remaining"] for r in allowed] == ["4", "3", "2", "1", "0"]
    assert_rate_limited_headers(refused)
    assert refused.json() == {
        "error": {"message": refused.json()["error"]["message"], "code": "RATE_LIMITED"}
    }
    assert refused.headers["x-ratelimit-limit"] == str(LIMIT)


async def test_another_token_keeps_its_own_budget(
    limited: httpx.AsyncClient, tenant: Tenant
) -> None:
    await fresh_window()
    other = await second_token(tenant)
    for _ in range(LIMIT + 1):
        await limited.get(RECORDS, headers=tenant.headers)

    response = await limited.get(RECORDS, headers=other)

    assert response.status_code == 200, response.text
    assert (await limited.get(RECORDS, headers=tenant.headers)).status_code == 429


async def test_graphql_over_the_limit_is_429_in_the_graphql_errors_shape(
    limited: httpx.AsyncClient, tenant: Tenant
) -> None:
    await fresh_window()
    query: dict[str, Any] = {"query": "{ projects { total } }"}

    async def post() -> httpx.Response:
        return await limited.post("/graphql", json=query, headers=tenant.headers)

    allowed = [await post() for _ in range(LIMIT)]
    refused = await post()

    assert [r.status_code for r in allowed] == [200] * LIMIT
    assert "errors" not in allowed[-1].json()
    assert_rate_limited_headers(refused)
    body = refused.json()
    assert set(body) == {"errors"}
    assert body["errors"][0]["extensions"] == {"code": "RATE_LIMITED"}
    assert body["errors"][0]["message"]


async def test_rest_and_graphql_share_one_budget_per_token(
    limited: httpx.AsyncClient, tenant: Tenant
) -> None:
    await fresh_window()
    for _ in range(LIMIT):
        assert (await limited.get(RECORDS, headers=tenant.headers)).status_code == 200

    response = await limited.post(
        "/graphql", json={"query": "{ projects { total } }"}, headers=tenant.headers
    )

    assert response.status_code == 429


async def test_anonymous_requests_are_limited_by_client_address(
    limited: httpx.AsyncClient,
) -> None:
    """Unauthenticated calls (401s) still count, so they cannot be used to probe for free."""
    await fresh_window()

    statuses = [(await limited.get(RECORDS)).status_code for _ in range(LIMIT + 1)]

    assert statuses == [401] * LIMIT + [429]


async def test_health_and_metrics_are_never_limited(
    limited: httpx.AsyncClient, tenant: Tenant
) -> None:
    await fresh_window()
    for _ in range(LIMIT + 1):
        await limited.get(RECORDS, headers=tenant.headers)

    for path in ("/healthz", "/readyz", "/metrics"):
        response = await limited.get(path, headers=tenant.headers)
        assert response.status_code == 200, (path, response.text[:200])


async def test_limit_zero_disables_limiting(
    base_url: str, database_url: str, tenant: Tenant
) -> None:
    settings = settings_with(rate_limit_per_minute=0)
    async with (
        running_server(settings, database_url, lifespan="off") as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        statuses = {
            (await client.get(RECORDS, headers=tenant.headers)).status_code for _ in range(8)
        }

    assert statuses == {200}


async def test_limiter_allows_exactly_the_limit_within_a_window() -> None:
    limiter = RateLimiter(MemoryCounter(), per_minute=2, token_in_force=no_token_in_force)

    verdicts = [await limiter.check("k") for _ in range(3)]

    assert [v.allowed for v in verdicts] == [True, True, False]
    assert [v.remaining for v in verdicts] == [1, 0, 0]
    assert all(1 <= v.retry_after <= WINDOW_SECONDS for v in verdicts)


async def test_memory_counter_starts_over_in_a_new_window() -> None:
    counter = MemoryCounter()

    assert [await counter.hit("k", 100) for _ in range(3)] == [1, 2, 3]
    assert await counter.hit("k", 101) == 1
    assert await counter.hit("other", 101) == 1


async def test_two_servers_sharing_redis_share_one_budget(
    base_url: str, database_url: str, tenant: Tenant
) -> None:
    settings = settings_with(rate_limit_per_minute=LIMIT, redis_url=REDIS_URL)
    other = await second_token(tenant)
    async with (
        running_server(settings, database_url, lifespan="off") as url_a,
        running_server(settings, database_url, lifespan="off") as url_b,
        httpx.AsyncClient(base_url=url_a) as a,
        httpx.AsyncClient(base_url=url_b) as b,
    ):
        await fresh_window()
        servers = [a, b, a, b, a]  # 3 on one server, 2 on the other: under 5 on each
        allowed = [await s.get(RECORDS, headers=tenant.headers) for s in servers]
        sixth = await b.get(RECORDS, headers=tenant.headers)
        seventh = await a.get(RECORDS, headers=tenant.headers)
        unaffected = await b.get(RECORDS, headers=other)

    assert [r.status_code for r in allowed] == [200] * LIMIT
    assert_rate_limited_headers(sixth)
    assert sixth.json()["error"]["code"] == "RATE_LIMITED"
    assert_rate_limited_headers(seventh)
    assert unaffected.status_code == 200, unaffected.text


async def test_without_redis_each_server_counts_alone(
    base_url: str, database_url: str, tenant: Tenant
) -> None:
    """The control for the test above: in-memory counters do not add up across servers."""
    settings = settings_with(rate_limit_per_minute=LIMIT)
    async with (
        running_server(settings, database_url, lifespan="off") as url_a,
        running_server(settings, database_url, lifespan="off") as url_b,
        httpx.AsyncClient(base_url=url_a) as a,
        httpx.AsyncClient(base_url=url_b) as b,
    ):
        await fresh_window()
        statuses = [(await s.get(RECORDS, headers=tenant.headers)).status_code for s in [a, b] * 4]

    assert statuses == [200] * 8


async def test_redis_counter_keys_expire_after_two_windows() -> None:
    redis = Redis.from_url(REDIS_URL)
    key = f"test-{secrets.token_hex(6)}"
    try:
        counter = RedisCounter(redis)
        assert [await counter.hit(key, 7) for _ in range(2)] == [1, 2]
        ttl = await redis.ttl(f"aica:rl:7:{key}")
        assert 0 < ttl <= 2 * WINDOW_SECONDS
    finally:
        await redis.delete(f"aica:rl:7:{key}")
        await redis.aclose()


async def test_made_up_tokens_spend_the_anonymous_budget_of_their_address(
    limited: httpx.AsyncClient, tenant: Tenant
) -> None:
    """A token earns its own budget only once verified: inventing tokens lifts nothing."""
    await fresh_window()
    statuses = [
        (
            await limited.get(
                RECORDS, headers={"Authorization": f"Bearer made-up-{secrets.token_hex(8)}"}
            )
        ).status_code
        for _ in range(LIMIT + 1)
    ]
    anonymous = await limited.get(RECORDS)
    real = await limited.get(RECORDS, headers=tenant.headers)

    assert statuses == [401] * LIMIT + [429]
    assert anonymous.status_code == 429
    assert real.status_code == 200, "a token in force keeps a budget of its own"


async def test_real_tokens_of_one_address_share_a_wider_cap(
    limited: httpx.AsyncClient, tenant: Tenant
) -> None:
    await fresh_window(margin=10)
    cap = LIMIT * ADDRESS_FACTOR
    tokens = [await second_token(tenant) for _ in range(cap // LIMIT + 1)]
    statuses = [
        (await limited.get(RECORDS, headers=headers)).status_code
        for headers in tokens
        for _ in range(LIMIT)
    ]
    assert statuses[:cap] == [200] * cap
    assert set(statuses[cap:]) == {429}

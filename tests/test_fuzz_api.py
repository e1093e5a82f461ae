"""Schemathesis against the running server: REST (/api/v1/openapi.json) and GraphQL (/graphql).

A short, reproducible run (derandomized, a few dozen examples per operation; REST with valid
and invalid data): a 5xx answer or a GraphQL error coded INTERNAL_SERVER_ERROR is a failure;
expected domain errors (NOT_FOUND, FORBIDDEN, BAD_USER_INPUT ...) are answers. Hypothesis runs in a
worker thread so the server, on this test's event loop, keeps serving.
"""

from __future__ import annotations

import asyncio
from typing import Any

import graphql
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.graphql import nodes

from tests.conftest import Tenant

REST_EXAMPLES = 8
"""Cases per operation and generation mode (REST runs valid and invalid data)."""
GRAPHQL_EXAMPLES = 25
# schemathesis' own strategies use `random` (a deprecation hypothesis warns about).
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")

_KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
_LEAVES = st.one_of(
    st.text(max_size=20).map(nodes.String), st.integers(-(2**31), 2**31 - 1).map(nodes.Int)
)
schemathesis.graphql.scalar(
    "JSON",
    st.dictionaries(_KEYS, _LEAVES, max_size=4).map(
        lambda fields: nodes.Object(
            [
                graphql.ObjectFieldNode(name=graphql.NameNode(value=key), value=value)
                for key, value in fields.items()
            ]
        )
    ),
)
# A file cannot be written inline in a document: the scalar's only literal is null.
schemathesis.graphql.scalar("Upload", st.just(nodes.Null))


def problem(response: Any) -> str | None:
    """What is wrong with an answer, if anything."""
    if response.status_code >= 500:
        return f"HTTP {response.status_code}: {response.text[:300]}"
    try:
        body = response.json()
    except ValueError:
        return None
    errors = body.get("errors") if isinstance(body, dict) else None
    for error in errors or ():
        if (error.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR":
            return f"INTERNAL_SERVER_ERROR: {error.get('message')} at {error.get('path')}"
    return None


def fuzz(
    schema: Any, headers: dict[str, str], modes: list[GenerationMode], examples: int
) -> list[str]:
    """Every operation, ``examples`` cases per mode; the failures found."""
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in modes:

            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                found = problem(case.call(headers=headers))
                if found:
                    failures.append(f"{case.operation.label}: {found}\n  {case.as_curl_command()}")

            run()
    return failures


async def test_the_rest_api_never_answers_5xx(base_url: str, tenant: Tenant) -> None:
    schema = await asyncio.to_thread(
        schemathesis.openapi.from_url, f"{base_url}/api/v1/openapi.json"
    )
    schema.config.base_url = f"{base_url}/api/v1"
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    failures = await asyncio.to_thread(fuzz, schema, tenant.headers, modes, REST_EXAMPLES)
    assert not failures, "\n".join(failures)


async def test_graphql_never_answers_an_internal_error(base_url: str, tenant: Tenant) -> None:
    schema = await asyncio.to_thread(
        schemathesis.graphql.from_url, f"{base_url}/graphql", headers=tenant.headers
    )
    modes = [GenerationMode.POSITIVE]
    failures = await asyncio.to_thread(fuzz, schema, tenant.headers, modes, GRAPHQL_EXAMPLES)
    assert not failures, "\n".join(failures)

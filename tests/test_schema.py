"""The checked-in SDL is the code's schema, every stored REST operation fits it, and each request
gets its own extensions."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import GraphQLSchema, validate

from aica.graphql.schema import build_schema
from rest_compat import operations

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def graphql_schema() -> GraphQLSchema:
    return build_schema()._schema


def test_schema_graphql_matches_the_code() -> None:
    # `aica export-schema` prints the SDL followed by one newline.
    expected = build_schema().as_str() + "\n"
    actual = (ROOT / "schema.graphql").read_text()
    assert actual == expected, (
        "schema.graphql is stale: run `aica export-schema > schema.graphql` and commit it"
    )


def test_there_are_stored_operations() -> None:
    # Guards the parametrization below against silently validating nothing.
    assert len(operations.names()) >= 10
    assert "fragments" not in operations.names()


@pytest.mark.parametrize("name", operations.names())
def test_stored_operation_validates_against_the_schema(
    graphql_schema: GraphQLSchema, name: str
) -> None:
    operation = operations.load(name)
    errors = validate(graphql_schema, operation.ast)
    assert not errors, f"{name}.graphql: " + "; ".join(e.message for e in errors)
    assert operation.definition.name is not None
    assert operation.definition.name.value == name, "the operation is named after its file"


def test_every_request_gets_extensions_of_its_own() -> None:
    """strawberry sets an extension's execution_context per request: a shared one would carry
    a request's context (and DocumentBudget's verdict) into a concurrent one."""
    schema = build_schema()

    first, second = schema.get_extensions(), schema.get_extensions()

    assert len(first) == len(second) > 0
    assert not {id(e) for e in first} & {id(e) for e in second}

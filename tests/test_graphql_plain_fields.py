"""The plain-field executor answers exactly what graphql-core's own executor answers.

Each operation runs twice on one strawberry schema (the service's scalars included): through
:class:`PlainFieldExecutor` and through strawberry's stock execution context; data, errors and
their paths, and the order of every object's keys must be the same. The cases are the ones the
fast path must recognise and those it must hand back: aliases, fragments, skipped fields,
``__typename``, enums, custom scalars, nulls, a null in a non-null field, a value a scalar
refuses, resolvers (sync and async) beside plain fields, arguments.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry
from strawberry.schema.config import StrawberryConfig

from aica.graphql.executor import PlainFieldExecutor
from aica.graphql.scalars import JSON, SCALARS


@strawberry.enum
class Mood(enum.Enum):
    calm = "calm"
    angry = "angry"


@strawberry.type
class Owner:
    id: strawberry.ID
    name: str


@strawberry.type
class Call:
    id: strawberry.ID
    title: str
    score: int | None
    mood: Mood
    at: datetime
    tags: list[str]
    meta: JSON
    owner: Owner | None
    ratio: float = 0.5

    @strawberry.field
    def shout(self) -> str:
        return self.title.upper()

    @strawberry.field
    async def later(self) -> int:
        return len(self.title)

    @strawberry.field
    def padded(self, width: int = 5) -> str:
        return self.title.ljust(width, ".")


def call(i: int, **overrides: Any) -> Call:
    values: dict[str, Any] = {
        "id": strawberry.ID(f"c{i}"),
        "title": f"Звонок {i}",  # Russian text passes through untouched
        "score": i * 10 if i % 2 else None,
        "mood": Mood.calm if i % 3 else Mood.angry,
        "at": datetime(2026, 3, 5, 10, i, tzinfo=UTC),
        "tags": ["a", "b"],
        "meta": JSON({"n": i, "nested": {"ok": True}}),
        "owner": Owner(id=strawberry.ID(f"o{i}"), name="Alice") if i % 2 else None,
    }
    values.update(overrides)
    return Call(**values)


CALLS: list[Call] = []


@strawberry.type
class Query:
    @strawberry.field
    def calls(self) -> list[Call]:
        return CALLS


def schemas() -> tuple[strawberry.Schema, strawberry.Schema]:
    config = StrawberryConfig(scalar_map=SCALARS)
    fast = strawberry.Schema(Query, config=config, execution_context_class=PlainFieldExecutor)
    stock = strawberry.Schema(Query, config=config)
    return fast, stock


FAST, STOCK = schemas()

EVERYTHING = """
query Everything($skip: Boolean!) {
  calls {
    __typename id title score mood at tags meta ratio shout later padded(width: 12)
    first: title again: id
    owner { id name __typename }
    ...Extra
    ... on Call { tail: score }
    hidden: title @skip(if: $skip)
  }
}
fragment Extra on Call { at mood short: padded }
"""


async def both(query: str, variables: dict[str, Any] | None = None) -> tuple[Any, Any]:
    fast = await FAST.execute(query, variable_values=variables)
    stock = await STOCK.execute(query, variable_values=variables)
    return fast, stock


def errors_of(result: Any) -> list[tuple[str, list[Any] | None]]:
    return sorted((e.message, e.path) for e in result.errors or [])


def key_orders(value: Any) -> list[list[str]]:
    """Every object's keys in order, depth first: JSON clients see this order."""
    if isinstance(value, dict):
        return [list(value), *(o for v in value.values() for o in key_orders(v))]
    if isinstance(value, list):
        return [o for v in value for o in key_orders(v)]
    return []


def same(fast: Any, stock: Any) -> None:
    assert fast.data == stock.data
    assert key_orders(fast.data) == key_orders(stock.data)
    assert errors_of(fast) == errors_of(stock)


@pytest.fixture(autouse=True)
def calls() -> Any:
    CALLS[:] = [call(i) for i in range(6)]
    yield
    CALLS.clear()


@pytest.mark.parametrize("skip", [True, False])
async def test_a_mixed_selection_is_answered_as_graphql_core_answers_it(skip: bool) -> None:
    fast, stock = await both(EVERYTHING, {"skip": skip})

    same(fast, stock)
    assert not fast.errors
    first = fast.data["calls"][1]
    assert first["title"] == "Звонок 1" and first["shout"] == "Звонок 1".upper()
    assert first["mood"] == "calm" and first["at"] == "2026-03-05T10:01:00Z"
    assert first["meta"] == {"n": 1, "nested": {"ok": True}}
    assert ("hidden" in first) is not skip


async def test_a_null_in_a_non_null_field_is_the_same_error_at_the_same_path() -> None:
    CALLS[2] = call(2, title=None)

    fast, stock = await both("{ calls { id title score } }")

    same(fast, stock)
    assert fast.data is None  # the non-null list of non-null calls cannot hold the hole
    assert errors_of(fast) == [
        ("Cannot return null for non-nullable field Call.title.", ["calls", 2, "title"])
    ]


async def test_a_value_the_scalar_refuses_is_the_same_error_at_the_same_path() -> None:
    CALLS[4] = call(4, score="many")

    fast, stock = await both("{ calls { id score mood } }")

    same(fast, stock)
    assert [path for _, path in errors_of(fast)] == [["calls", 4, "score"]]
    assert fast.data["calls"][4] == {"id": "c4", "score": None, "mood": "calm"}


async def test_an_enum_value_outside_the_enum_is_the_same_error() -> None:
    CALLS[1] = call(1, mood="sleepy")

    fast, stock = await both("{ calls { id mood } }")

    same(fast, stock)
    assert fast.errors and fast.errors[0].path == ["calls", 1, "mood"]

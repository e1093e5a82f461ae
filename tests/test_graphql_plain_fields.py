"""The plain-field executor answers exactly what graphql-core's own executor answers.

Each operation runs twice on one strawberry schema (the service's scalars included): through
:class:`PlainFieldExecutor` and through strawberry's stock execution context; data, errors and
their paths, and the order of every object's keys must be the same. The cases are the ones the
fast path must recognise and those it must hand back: aliases, fragments, skipped fields,
``__typename``, enums, custom scalars, nulls, a null in a non-null field, a value a scalar
refuses, resolvers (sync and async) beside plain fields, arguments, related objects a list
prefetched (and one it did not), lists with null items.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry
from strawberry.schema.config import StrawberryConfig

from aica.graphql.executor import PREFETCHED, PlainFieldExecutor
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
    prefetched: strawberry.Private[dict[str, Any]] = dataclasses.field(default_factory=dict)

    @strawberry.field(metadata=PREFETCHED)
    def manager(self) -> Owner | None:
        """What a list prefetches, loaded one by one when it did not."""
        LOADED.append(self.id)
        return self.prefetched.get("manager", manager_of(self.id))

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


def manager_of(call_id: str) -> Owner | None:
    return None if call_id.endswith("3") else Owner(id=strawberry.ID(f"m{call_id}"), name="Boss")


CALLS: list[Call] = []
LOADED: list[str] = []
"""Ids of the calls whose ``manager`` resolver ran."""


@strawberry.type
class Query:
    @strawberry.field
    def calls(self) -> list[Call]:
        return CALLS

    @strawberry.field
    def maybe_calls(self) -> list[Call | None]:
        return [None if i % 2 else c for i, c in enumerate(CALLS)]


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
    LOADED.clear()


def prefetch_managers() -> None:
    for c in CALLS:
        c.prefetched["manager"] = manager_of(c.id)


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


MANAGERS = "{ calls { id title manager { id name } } }"


async def test_prefetched_related_objects_are_read_without_their_resolver() -> None:
    prefetch_managers()

    fast, stock = await both(MANAGERS)

    same(fast, stock)
    assert not fast.errors
    assert fast.data["calls"][1]["manager"] == {"id": "mc1", "name": "Boss"}
    assert fast.data["calls"][3]["manager"] is None
    assert [c.id for c in CALLS] == LOADED  # the stock executor's calls only


async def test_a_related_object_not_prefetched_is_loaded_by_its_resolver() -> None:
    prefetch_managers()
    del CALLS[2].prefetched["manager"]

    fast, stock = await both(MANAGERS)

    same(fast, stock)
    assert LOADED.count("c2") == 2 and LOADED.count("c1") == 1


async def test_an_error_inside_a_prefetched_object_is_the_same_error_at_the_same_path() -> None:
    prefetch_managers()
    CALLS[4].prefetched["manager"] = Owner(id=strawberry.ID("m4"), name=None)  # type: ignore[arg-type]

    fast, stock = await both(MANAGERS)

    same(fast, stock)
    assert [e.path for e in fast.errors or []] == [["calls", 4, "manager", "name"]]
    assert fast.data["calls"][4]["manager"] is None
    assert fast.data["calls"][0]["manager"] == {"id": "mc0", "name": "Boss"}


async def test_a_list_with_null_items_is_answered_as_graphql_core_answers_it() -> None:
    prefetch_managers()

    fast, stock = await both("{ maybeCalls { id at manager { name } } }")

    same(fast, stock)
    assert fast.data["maybeCalls"][1] is None and fast.data["maybeCalls"][2]["id"] == "c2"


@pytest.mark.parametrize("score", [2**31, -(2**31) - 1, True, 7.0, "8"])
async def test_an_int_field_coerces_and_refuses_as_graphql_core_does(score: Any) -> None:
    CALLS[1] = call(1, score=score)

    fast, stock = await both("{ calls { id score } }")

    same(fast, stock)

"""Plain data fields without graphql-core's per-field machinery.

A page of 100 records selects over a thousand fields, nearly all of them attributes read as
they are (``id``, ``status``, ``createdAt``). For each one graphql-core builds a path and a
resolve info, checks for awaitables and walks ``complete_value``: most of a page's CPU. A field
that strawberry marks as basic (no resolver, no extension, read with ``getattr``), that takes no
arguments and returns a scalar or enum is read and coerced here directly; the other fields of
the object go through graphql-core as always. Anything unusual on a plain field (a null in a
non-null field, a value the scalar refuses) sends the whole object back to graphql-core, which
reports it as it always has.
"""

from __future__ import annotations

from collections.abc import Awaitable
from operator import attrgetter
from typing import Any, NamedTuple

from graphql import (
    GraphQLLeafType,
    GraphQLObjectType,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField


class _Plain(NamedTuple):
    name: str
    """The response name (the alias, if any)."""
    read: attrgetter[Any]
    leaf: GraphQLLeafType
    nullable: bool


class _Plan(NamedTuple):
    plain: list[_Plain]
    others: GroupedFieldSet
    grouped: GroupedFieldSet
    """Kept alive with the plan: plans are found by the grouped field set's id."""


class _Irregular(Exception):
    """A plain field's value needs graphql-core's handling (and error reporting)."""


class PlainFieldExecutor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[tuple[str, int], _Plan] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        plan = self._plan(parent_type, grouped_field_set)
        if not plan.plain:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        try:
            values = _read(plan.plain, source_value)
        except Exception:  # graphql-core, below, raises it again where it belongs
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        if not plan.others:
            return values
        rest = super().execute_fields(
            parent_type, source_value, path, plan.others, position_context
        )
        if self.is_awaitable(rest):
            return _merge_later(plan.grouped, values, rest)
        return _merge(plan.grouped, values, rest)  # type: ignore[arg-type]

    def _plan(self, parent_type: GraphQLObjectType, grouped: GroupedFieldSet) -> _Plan:
        key = (parent_type.name, id(grouped))
        plan = self._plans.get(key)
        if plan is None:
            plain: list[_Plain] = []
            others: GroupedFieldSet = {}
            for name, details in grouped.items():
                found = self._plain(parent_type, name, details[0].node.name.value)
                if found is None:
                    others[name] = details
                else:
                    plain.append(found)
            plan = self._plans[key] = _Plan(plain, others, grouped)
        return plan

    def _plain(self, parent_type: GraphQLObjectType, name: str, field_name: str) -> _Plain | None:
        field = self.schema.get_field(parent_type, field_name)
        definition = field.extensions.get("strawberry-definition") if field else None
        if (
            field is None
            or field.args
            or not isinstance(definition, StrawberryField)
            or not getattr(field.resolve, "_is_default", False)  # strawberry's basic field
            or definition.default_resolver is not getattr
            or (self.middleware_manager and self.middleware_manager.middlewares)
        ):
            return None
        leaf = get_nullable_type(field.type)
        if not is_leaf_type(leaf):
            return None
        nullable = not is_non_null_type(field.type)
        return _Plain(name, attrgetter(definition.python_name), leaf, nullable)


def _read(plain: list[_Plain], source: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in plain:
        value = field.read(source)
        if value is None:
            if not field.nullable:
                raise _Irregular
            values[field.name] = None
            continue
        coerced = field.leaf.coerce_output_value(value)
        if coerced is None or coerced is Undefined:
            raise _Irregular
        values[field.name] = coerced
    return values


def _merge(
    grouped: GroupedFieldSet, values: dict[str, Any], rest: dict[str, Any]
) -> dict[str, Any]:
    """One object in the order the fields were selected."""
    values.update(rest)
    return {name: values[name] for name in grouped if name in values}


async def _merge_later(
    grouped: GroupedFieldSet, values: dict[str, Any], rest: Awaitable[dict[str, Any]]
) -> dict[str, Any]:
    return _merge(grouped, values, await rest)

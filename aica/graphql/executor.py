"""Plain data fields without graphql-core's per-field machinery.

A page of 100 records selects over a thousand fields, nearly all of them attributes read as
they are (``id``, ``status``, ``createdAt``). For each one graphql-core builds a path and a
resolve info, checks for awaitables and walks ``complete_value``: most of a page's CPU. A field
that strawberry marks as basic (no resolver, no extension, read with ``getattr``), that takes no
arguments and returns a scalar or enum is read and coerced here directly; the other fields of
the object go through graphql-core as always.

Two more shortcuts for lists: an object field declared with ``metadata=PREFETCHED`` (a related
object the list's resolver loaded for the whole page, kept in the item's ``prefetched``
dict) is completed like a plain field when its own selection is plain; and a list whose
items' selection is all plain is completed in one loop, without a path per item.

Anything unusual (a null in a non-null field, a value the scalar refuses, a related object
that was not prefetched) sends the whole object, or list, back to graphql-core, which
reports it as it always has.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping
from operator import attrgetter
from types import MappingProxyType
from typing import Any, NamedTuple

from graphql import (
    GraphQLEnumType,
    GraphQLLeafType,
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

_PREFETCHED = "aica.prefetched"
PREFETCHED: Mapping[str, bool] = MappingProxyType({_PREFETCHED: True})
"""``metadata`` of a field whose value list resolvers put in the item's ``prefetched`` dict
under the field's name (its resolver reads it from there too, or loads it when it is not)."""


_INT32 = range(-(2**31), 2**31)
"""GraphQL's Int."""


class _Field(NamedTuple):
    name: str
    """The response name (the alias, if any)."""
    nullable: bool
    read: attrgetter[Any] | None
    """A leaf: the attribute to read."""
    leaf: GraphQLLeafType | None
    same: type | None
    """A leaf: values of exactly this type need no coercion: they are their own output
    (``str`` for String and ID, ``bool`` for Boolean, ``int`` for Int within 32 bits), or,
    for an enum, the Python enum whose members ``names`` maps."""
    names: dict[Any, str] | None
    """An enum: its members' names, as strawberry's enum type writes them."""
    key: str | None
    """A prefetched object: its key in ``prefetched``."""
    plan: _Plan | None
    """A prefetched object: how to complete it."""


class _Plan(NamedTuple):
    plain: list[_Field]
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

    def complete_list_value(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> AwaitableOrValue[list[Any]]:
        """A list of objects whose selection is all plain, in one loop."""
        plan = (
            self._object_plan(return_type.of_type, field_details_list)
            if isinstance(result, list) and position_context is None
            else None
        )
        if plan is not None and not self.get_stream_usage(field_details_list, path):
            try:
                return _read_all(plan.plain, result, not is_non_null_type(return_type.of_type))
            except Exception:  # graphql-core, below, reports it item by item
                pass
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _object_plan(
        self, return_type: GraphQLOutputType, field_details_list: FieldDetailsList
    ) -> _Plan | None:
        """The plan for an object type's selection, when all of it is plain."""
        object_type = get_nullable_type(return_type)
        if not is_object_type(object_type) or object_type.is_type_of is not None:
            return None
        grouped, defer_usages, _ = self.collect_subfields(object_type, field_details_list)
        if defer_usages:
            return None
        plan = self._plan(object_type, grouped)
        return None if plan.others else plan

    def _plan(self, parent_type: GraphQLObjectType, grouped: GroupedFieldSet) -> _Plan:
        key = (parent_type.name, id(grouped))
        plan = self._plans.get(key)
        if plan is None:
            plain: list[_Field] = []
            others: GroupedFieldSet = {}
            for name, details in grouped.items():
                found = self._plain(parent_type, name, details)
                if found is None:
                    others[name] = details
                else:
                    plain.append(found)
            plan = self._plans[key] = _Plan(plain, others, grouped)
        return plan

    def _plain(
        self, parent_type: GraphQLObjectType, name: str, details: FieldDetailsList
    ) -> _Field | None:
        field = self.schema.get_field(parent_type, details[0].node.name.value)
        definition = field.extensions.get("strawberry-definition") if field else None
        if (
            field is None
            or field.args
            or not isinstance(definition, StrawberryField)
            or (self.middleware_manager and self.middleware_manager.middlewares)
        ):
            return None
        nullable = not is_non_null_type(field.type)
        if definition.metadata.get(_PREFETCHED):
            plan = self._object_plan(field.type, details)
            if plan is None:
                return None
            return _Field(name, nullable, None, None, None, None, definition.python_name, plan)
        leaf = get_nullable_type(field.type)
        if (
            not getattr(field.resolve, "_is_default", False)  # strawberry's basic field
            or definition.default_resolver is not getattr
            or not is_leaf_type(leaf)
        ):
            return None
        read = attrgetter(definition.python_name)
        names = _names(leaf)
        same = getattr(leaf, "wrapped_cls", None) if names else _SAME.get(leaf.name)
        return _Field(name, nullable, read, leaf, same, names, None, None)


_SAME = {"String": str, "ID": str, "Boolean": bool, "Int": int}


def _names(leaf: GraphQLLeafType) -> dict[Any, str] | None:
    """Strawberry's enum type finds a member's name by a loop over the values."""
    members = getattr(leaf, "wrapped_cls", None)
    if not isinstance(leaf, GraphQLEnumType) or members is None:
        return None
    by_value = {value.value: name for name, value in leaf.values.items()}
    return {member: by_value[member.value] for member in members if member.value in by_value}


def _read(plain: list[_Field], source: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, nullable, read, leaf, same, names, key, plan in plain:
        # A related object that was not prefetched is a KeyError: graphql-core then calls the
        # field's resolver, which loads it.
        value: Any = read(source) if plan is None else source.prefetched[key]  # type: ignore[misc]
        if value is None:
            if not nullable:
                raise _Irregular
            values[name] = None
        elif plan is not None:
            values[name] = _read(plan.plain, value)
        elif type(value) is same and names is not None:
            values[name] = names[value]
        elif type(value) is same and (same is not int or value in _INT32):
            values[name] = value
        else:
            coerced = leaf.coerce_output_value(value)  # type: ignore[union-attr]
            if coerced is None or coerced is Undefined:
                raise _Irregular
            values[name] = coerced
    return values


def _read_all(plain: list[_Field], items: Iterable[Any], nullable: bool) -> list[Any]:
    completed: list[Any] = []
    for item in items:
        if item is not None:
            completed.append(_read(plain, item))
        elif nullable:
            completed.append(None)
        else:
            raise _Irregular
    return completed


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

"""Plain data fields without graphql-core's per-field machinery.

A page of 100 records selects over a thousand fields, nearly all of them attributes read as
they are (``id``, ``status``, ``createdAt``). For each one graphql-core builds a resolve info,
a path, checks for awaitables and walks ``complete_value``: most of a page's CPU. A field that
strawberry marks as basic (no resolver, no extension, read with ``getattr``), that takes no
arguments and returns a scalar or enum is read and coerced here directly. Anything unusual (a
null in a non-null field, a value the scalar refuses, an error) falls back to graphql-core,
which reports it as always.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, NamedTuple

from graphql import (
    GraphQLLeafType,
    GraphQLObjectType,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import AwaitableOrValue, Path, Undefined, UndefinedType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField


class _Plain(NamedTuple):
    read: attrgetter[Any]
    leaf: GraphQLLeafType
    nullable: bool


class PlainFieldExecutor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain: dict[tuple[str, str], _Plain | None] = {}

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> AwaitableOrValue[Any] | UndefinedType:
        name = field_details_list[0].node.name.value
        key = (parent_type.name, name)
        try:
            plain = self._plain[key]
        except KeyError:
            plain = self._plain[key] = self._plan(parent_type, name)
        if plain is not None:
            try:
                value = plain.read(source)
                if value is None:
                    if plain.nullable:
                        return None
                else:
                    coerced = plain.leaf.coerce_output_value(value)
                    if coerced is not None and coerced is not Undefined:
                        return coerced
            except Exception:  # graphql-core, below, raises it again where it belongs
                pass
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _plan(self, parent_type: GraphQLObjectType, name: str) -> _Plain | None:
        field = self.schema.get_field(parent_type, name)
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
        return _Plain(attrgetter(definition.python_name), leaf, not is_non_null_type(field.type))

"""What an operation may ask the server to do: each field weighted by the lists above it.

Every field costs 1 per time it is resolved. A field with a ``pageSize`` argument hands that
size (its ``first`` when given; from a literal, a variable or the argument's default) to the
list of the page it returns; any other list counts as :data:`LIST_ITEMS`. Introspection costs
one per field (its size is the schema's, not the data's). 30 aliases of ``analyses(pageSize:
100) { items { review { disputes } reviewHistory annotations } }`` cost over 150,000 and are
refused with QUERY_TOO_COMPLEX before anything runs; the REST routes' stored operations cost a
few thousand at their largest page.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_list_type,
)
from strawberry.extensions import SchemaExtension

from aica.errors import TooComplex
from aica.graphql.budget import fragments
from aica.services.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

LIST_ITEMS = 10
"""Items assumed in a list that has no page size (an analysis's annotations, a review's
disputes)."""


class QueryCost(SchemaExtension):
    def __init__(self, *, max_cost: int) -> None:
        self.max_cost = max_cost

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            cost = operation_cost(
                context.schema._schema,
                context.graphql_document,
                context.operation_name,
                context.variables or {},
            )
            if cost > self.max_cost:
                raise TooComplex(
                    f"The operation would cost {cost} (fields times the items of the lists "
                    f"they are in); at most {self.max_cost}. Ask for smaller pages or fewer "
                    "nested lists.",
                    limit=self.max_cost,
                )
        yield


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any],
) -> int:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0  # validation has said why
    root = schema.get_root_type(operation.operation)
    return _Cost(schema, fragments(document), variables).of(operation.selection_set, root, None)


class _Cost:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def of(self, selection_set: SelectionSetNode | None, parent: Any, page: int | None) -> int:
        """Cost of ``selection_set`` on ``parent`` (None: introspection, one per field)."""
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self.schema.get_type(condition.name.value) if condition else parent
                total += self.of(selection.selection_set, on if parent else None, page)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    on = self.schema.get_type(fragment.type_condition.name.value)
                    total += self.of(fragment.selection_set, on if parent else None, page)
        return total

    def _field(self, node: FieldNode, parent: Any, page: int | None) -> int:
        name = node.name.value
        field: GraphQLField | None = getattr(parent, "fields", {}).get(name) if parent else None
        if field is None:  # introspection (or __typename)
            return 1 + self.of(node.selection_set, None, None)
        items = (page or LIST_ITEMS) if is_list_type(get_nullable_type(field.type)) else 1
        size = self._page_size(node, field)
        return items * (1 + self.of(node.selection_set, get_named_type(field.type), size))

    def _page_size(self, node: FieldNode, field: GraphQLField) -> int | None:
        if "pageSize" not in field.args:
            return None
        size = self._argument(node, "first") if "first" in field.args else None
        if not isinstance(size, int):
            size = self._argument(node, "pageSize")
        if not isinstance(size, int):
            default = field.args["pageSize"].default_value
            size = default if isinstance(default, int) else DEFAULT_PAGE_SIZE
        return max(1, min(int(size), MAX_PAGE_SIZE))

    def _argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            if isinstance(argument.value, IntValueNode):
                return int(argument.value.value)
            if isinstance(argument.value, VariableNode):
                return self.variables.get(argument.value.name.value)
        return None

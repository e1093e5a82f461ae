"""What a query selects, for resolvers that load related objects ahead for a whole list."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)

from aica.graphql.context import Info


def _fields(
    selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode]
) -> Iterator[FieldNode]:
    """Fields, with fragments (named or inline) flattened into their parent."""
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            yield from _fields(fragments[selection.name.value].selection_set, fragments)


def selected_under(info: Info, name: str) -> set[str]:
    """Names of the fields selected under this field's child ``name`` (e.g. ``items``).

    Read from the document itself: strawberry's ``selected_fields`` converts the whole
    selection, arguments included, which cost more than the list's own query did.
    """
    raw = info._raw_info
    fragments = raw.fragments
    children: Iterable[FieldNode] = (
        child for node in raw.field_nodes for child in _fields(node.selection_set, fragments)
    )
    return {
        field.name.value
        for child in children
        if child.name.value == name
        for field in _fields(child.selection_set, fragments)
    }

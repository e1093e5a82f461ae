"""What a query selects, for resolvers that load related objects ahead for a whole list."""

from __future__ import annotations

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from aica.graphql.context import Info


def _fields(selections: list[Selection]) -> list[SelectedField]:
    """Fields, with fragments (named or inline) flattened into their parent."""
    out: list[SelectedField] = []
    for selection in selections:
        if isinstance(selection, SelectedField):
            out.append(selection)
        elif isinstance(selection, FragmentSpread | InlineFragment):
            out.extend(_fields(selection.selections))
    return out


def selected_under(info: Info, name: str) -> set[str]:
    """Names of the fields selected under this field's child ``name`` (e.g. ``items``)."""
    wanted: set[str] = set()
    for field in _fields(info.selected_fields):
        for child in _fields(field.selections):
            if child.name == name:
                wanted.update(f.name for f in _fields(child.selections))
    return wanted

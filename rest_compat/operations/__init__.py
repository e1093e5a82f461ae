"""Stored GraphQL operations, one named document a file, with shared fragments appended."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    parse,
    print_ast,
)

HERE = Path(__file__).parent
_SPREAD = re.compile(r"\.\.\.\s*([_A-Za-z][_0-9A-Za-z]*)")


@dataclass(frozen=True)
class Operation:
    name: str
    document: str
    ast: DocumentNode

    @property
    def definition(self) -> OperationDefinitionNode:
        return next(d for d in self.ast.definitions if isinstance(d, OperationDefinitionNode))

    @property
    def root_field(self) -> str:
        """The single top-level field whose value becomes the response's ``data``."""
        selection = self.definition.selection_set.selections[0]
        assert isinstance(selection, FieldNode)
        return selection.alias.value if selection.alias else selection.name.value


@cache
def _fragments() -> dict[str, str]:
    ast = parse((HERE / "fragments.graphql").read_text())
    return {
        d.name.value: print_ast(d) for d in ast.definitions if isinstance(d, FragmentDefinitionNode)
    }


def _with_fragments(source: str) -> str:
    """Append the fragments ``source`` spreads, transitively (unused ones fail validation)."""
    fragments = _fragments()
    needed: list[str] = []
    pending = _SPREAD.findall(source)
    while pending:
        name = pending.pop()
        if name in fragments and name not in needed:
            needed.append(name)
            pending.extend(_SPREAD.findall(fragments[name]))
    return "\n\n".join([source.strip(), *(fragments[n] for n in sorted(needed))])


@cache
def load(name: str) -> Operation:
    document = _with_fragments((HERE / f"{name}.graphql").read_text())
    return Operation(name, document, parse(document))


def names() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.graphql") if p.stem != "fragments")

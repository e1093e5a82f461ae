"""What a document may cost before it is validated, and what callers without a token may run.

Validation is the step no cache saves when every document differs (varied whitespace misses the
validation cache), and graphql-core compares every pair of same-named fields at one level: 495
copies of ``orgs { id }`` cost 2.7 s of event-loop CPU. So a parsed document is measured
first, in linear time: its selections with fragments expanded (``max_query_fields``) and the
copies of one response name at one level (:data:`MAX_REPEATS`). Callers without a valid token
get a small document (:data:`ANONYMOUS_BYTES`, :data:`ANONYMOUS_TOKENS`) calling only the root
fields that work without one, introspection excluded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

from aica.errors import AicaError, TooComplex, Unauthenticated
from aica.graphql.context import Context

MAX_REPEATS = 10
"""Copies of one response name in one selection set (fragments merged in)."""
ANONYMOUS_BYTES = 2000
ANONYMOUS_TOKENS = 200
ANONYMOUS_FIELDS = frozenset({"login", "acceptInvite", "ingestBitrix24Event", "__typename"})


class DocumentBudget(SchemaExtension):
    def __init__(self, *, max_bytes: int, max_tokens: int, max_fields: int) -> None:
        self.max_bytes = max_bytes
        self.max_tokens = max_tokens
        self.max_fields = max_fields
        self.refusal: AicaError | None = None
        """Why the caller is anonymous (no token, or the token's own error)."""

    @property
    def anonymous(self) -> bool:
        return self.refusal is not None

    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context
        self.refusal = await _authentication_error(context.context)
        max_bytes = ANONYMOUS_BYTES if self.anonymous else self.max_bytes
        if context.query is not None and len(context.query) > max_bytes:
            raise TooComplex(f"The document is longer than {max_bytes} characters", limit=max_bytes)
        tokens = ANONYMOUS_TOKENS if self.anonymous else self.max_tokens
        context.parse_options["max_tokens"] = tokens
        yield

    def on_validate(self) -> Iterator[None]:
        document = self.execution_context.graphql_document
        query = self.execution_context.query
        if document is not None:
            if self.refusal is not None:
                _check_anonymous(document, self.refusal)
            if (query, self.max_fields) not in _WITHIN:
                _check_size(document, self.max_fields)
                if query:
                    _WITHIN[(query, self.max_fields)] = True
        yield


_WITHIN: LRUCache[tuple[str, int], bool] = LRUCache(maxsize=512)
"""Documents measured and found within ``max_fields``: the same few come again and again."""


async def _authentication_error(context: Context) -> AicaError | None:
    if not context.authorization:
        return Unauthenticated(
            "Missing bearer token: without one only login, acceptInvite and "
            "ingestBitrix24Event may be called"
        )
    try:
        await context.principal()
    except AicaError as exc:
        return exc
    return None


def _check_anonymous(document: DocumentNode, refusal: AicaError) -> None:
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        for selection in definition.selection_set.selections:
            if not isinstance(selection, FieldNode) or selection.name.value not in ANONYMOUS_FIELDS:
                raise refusal


def fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _check_size(document: DocumentNode, max_fields: int) -> None:
    measure = _Measure(fragments(document))
    total = 0
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            total += measure.selections(definition.selection_set)
    if total > max_fields:
        raise TooComplex(
            f"The document selects {total} fields (fragments expanded); at most {max_fields}",
            limit=max_fields,
        )
    for selection_set in _selection_sets(document):
        for name, copies in measure.names(selection_set).most_common(1):
            if copies <= MAX_REPEATS:
                continue
            raise TooComplex(
                f"{name!r} is selected {copies} times at one level; at most {MAX_REPEATS}",
                limit=MAX_REPEATS,
            )


class _Measure:
    """Counts over fragments, each fragment measured once (cycles count as empty: validation
    reports them)."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self._sizes: dict[str, int] = {}
        self._names: dict[str, Counter[str]] = {}

    def selections(self, selection_set: SelectionSetNode | None) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += 1 + self.selections(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                total += self.selections(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment_size(selection.name.value)
        return total

    def _fragment_size(self, name: str) -> int:
        if name not in self._sizes:
            self._sizes[name] = 0  # a cycle through this fragment adds nothing
            fragment = self.fragments.get(name)
            self._sizes[name] = self.selections(fragment.selection_set) if fragment else 0
        return self._sizes[name]

    def names(self, selection_set: SelectionSetNode) -> Counter[str]:
        """Response names at this level, fragments and inline fragments merged in."""
        counts: Counter[str] = Counter()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                counts[(selection.alias or selection.name).value] += 1
            elif isinstance(selection, InlineFragmentNode):
                counts.update(self.names(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                counts.update(self._fragment_names(selection.name.value))
        return counts

    def _fragment_names(self, name: str) -> Counter[str]:
        if name not in self._names:
            self._names[name] = Counter()
            fragment = self.fragments.get(name)
            if fragment is not None:
                self._names[name] = self.names(fragment.selection_set)
        return self._names[name]


def _selection_sets(document: DocumentNode) -> Iterator[SelectionSetNode]:
    stack: list[SelectionSetNode] = [
        d.selection_set
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)
    ]
    while stack:
        selection_set = stack.pop()
        yield selection_set
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                stack.append(selection.selection_set)

"""Input no resolver should see, refused before execution with the field named.

PostgreSQL text holds neither NUL nor an unpaired surrogate (the driver's error quoted its own
internals), and a subscription over HTTP has no stream to run on. (Nesting is bounded where
request bodies are decoded: :mod:`aica.nesting`.) Values arrive as variables (the REST shim
always sends them so) or as literals in the document; a field is named by its path below the
variable or argument, without the conventional ``input`` wrapper (``name``,
``metadata.agentName``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cachetools import LRUCache
from graphql import (
    ArgumentNode,
    DocumentNode,
    ListValueNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
    Visitor,
    visit,
)
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from aica.errors import BadInput

_ROOT = "input"


class InputGuard(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.operation_type is OperationType.SUBSCRIPTION and not isinstance(
            getattr(context.context, "request", None), WebSocket
        ):
            raise BadInput(
                "Subscriptions run over the WebSocket (graphql-transport-ws), not HTTP",
                field="query",
            )
        for name, value in (context.variables or {}).items():
            check_value(value, [name])
        document = context.graphql_document
        if document is not None and context.query not in _CLEAN:
            for argument in _arguments(document):
                _check_literal(argument.value, [argument.name.value])
            if context.query:
                _CLEAN[context.query] = True
        yield


_CLEAN: LRUCache[str, bool] = LRUCache(maxsize=512)
"""Documents whose literals passed: a client sends the same few documents again and again."""


def check_value(value: Any, path: list[str]) -> None:
    """Refuse text the database cannot store anywhere in ``value`` (a decoded JSON value)."""
    stack: list[tuple[Any, list[str]]] = [(value, path)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, str):
            _check_text(item, at)
        elif isinstance(item, dict):
            for key, child in item.items():
                _check_text(str(key), at)
                stack.append((child, [*at, str(key)]))
        elif isinstance(item, list):
            stack.extend((child, at) for child in item)


def _check_literal(node: ValueNode, path: list[str]) -> None:
    stack: list[tuple[ValueNode, list[str]]] = [(node, path)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, StringValueNode):
            _check_text(item.value, at)
        elif isinstance(item, ObjectValueNode):
            stack.extend((f.value, [*at, f.name.value]) for f in item.fields)
        elif isinstance(item, ListValueNode):
            stack.extend((v, at) for v in item.values)


def _check_text(text: str, path: list[str]) -> None:
    if "\x00" in text:
        field = _field(path)
        raise BadInput(f"{field} must not contain NUL characters", field=field)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        field = _field(path)
        raise BadInput(
            f"{field} must be valid Unicode text (it holds an unpaired surrogate)", field=field
        ) from None


def _field(path: list[str]) -> str:
    if len(path) > 1 and path[0] == _ROOT:
        path = path[1:]
    return ".".join(path)


def _arguments(document: DocumentNode) -> list[ArgumentNode]:
    found: list[ArgumentNode] = []

    class Collect(Visitor):
        def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
            found.append(node)

    visit(document, Collect())
    return found

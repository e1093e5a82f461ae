"""How deep JSON input may nest: deeper input is refused before anything recurses over it.

The JSON parser, GraphQL's value coercion, the profile parser and the database driver all
recurse per level; a body nested thousands deep raised RecursionError (a 500 or a dropped
connection). No record, profile or CRM event needs more than a few levels.
"""

from __future__ import annotations

import json
from typing import Any

from aica.errors import BadInput

MAX_JSON_DEPTH = 32


def loads(raw: str | bytes, field: str | None = None) -> Any:
    """``json.loads``, with nesting beyond :data:`MAX_JSON_DEPTH` refused naming ``field``
    (ValueError stays for malformed JSON)."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise too_deep(field) from None
    if too_nested(value):
        if field is None and isinstance(value, dict):  # name the member that is too deep
            field = next((k for k, v in value.items() if too_nested(v, MAX_JSON_DEPTH - 1)), None)
        raise too_deep(field)
    return value


def too_nested(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether lists/objects in ``value`` nest deeper than ``limit`` (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def too_deep(field: str | None) -> BadInput:
    where = field or "The request body"
    message = f"{where} is nested deeper than {MAX_JSON_DEPTH} levels"
    return BadInput(message, field=field) if field else BadInput(message)

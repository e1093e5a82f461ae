"""Validation remembered by document text.

strawberry's ``ValidationCache`` keys its LRU cache by the parsed document, and hashing a
document hashes every node in it: on a list request that cost about 4% of the request's CPU,
every time. The same text always parses to the same document, and a schema's rules are
fixed, so the text is key enough.
"""

from __future__ import annotations

from collections.abc import Iterator

from cachetools import LRUCache
from graphql import GraphQLError, GraphQLSchema
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

_Key = tuple[GraphQLSchema, str, tuple[type, ...]]
_ERRORS: LRUCache[_Key, list[GraphQLError]] = LRUCache(maxsize=512)
"""Validation errors (mostly none) by schema, document text and rules."""


class ValidationByText(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            schema, rules = context.schema._schema, context.validation_rules
            key = (schema, context.query, rules) if context.query else None
            errors = _ERRORS.get(key) if key else None
            if errors is None:
                errors = validate_document(schema, document, rules)
                if key:
                    _ERRORS[key] = errors
            context.pre_execution_errors = errors
        yield

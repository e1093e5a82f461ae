"""Error policy: domain errors pass through with their code, values the database refuses are
the caller's input, and everything else is masked as an internal error."""

from __future__ import annotations

import logging

import asyncpg
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from aica.errors import AicaError

log = logging.getLogger("aica.graphql")


def _original(error: GraphQLError) -> BaseException | None:
    original = error.original_error
    while isinstance(original, GraphQLError):  # variable coercion wraps the scalar's error
        original = original.original_error
    return original


def refused_value(error: GraphQLError) -> asyncpg.PostgresError | None:
    """What PostgreSQL refused because of the caller's values, under Tortoise's wrapping:
    class 22 (a NUL in text, a value too long, out of range) or a unique key taken by a
    concurrent request."""
    cause = _original(error)
    while cause is not None:
        if isinstance(cause, asyncpg.DataError | asyncpg.UniqueViolationError):
            return cause
        cause = cause.__cause__
    return None


def is_unexpected(error: GraphQLError) -> bool:
    """True for failures of our own (bugs, outages), which are logged and masked."""
    original = _original(error)
    return (
        original is not None
        and not isinstance(original, AicaError)
        and refused_value(error) is None
    )


_REASONS: tuple[tuple[type[asyncpg.PostgresError], str], ...] = (
    (asyncpg.StringDataRightTruncationError, "a text is longer than its field allows"),
    (asyncpg.NumericValueOutOfRangeError, "a number is out of range"),
    (asyncpg.CharacterNotInRepertoireError, "a text holds characters that cannot be stored"),
    (asyncpg.UntranslatableCharacterError, "a text holds characters that cannot be stored"),
)


def _plain_reason(refused: asyncpg.PostgresError) -> str:
    """What was wrong, in our words: the driver's message names its own internals."""
    for kind, reason in _REASONS:
        if isinstance(refused, kind):
            return reason
    return "a value is not valid for its field"


class MaskUnexpectedErrors(MaskErrors):
    """strawberry's MaskErrors, with codes so clients (and the REST shim) can tell them apart."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=self._rewritten, error_message="Internal server error")

    @staticmethod
    def _rewritten(error: GraphQLError) -> bool:
        return is_unexpected(error) or refused_value(error) is not None

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        refused = refused_value(error)
        if isinstance(refused, asyncpg.UniqueViolationError):
            return GraphQLError(
                "It already exists (created by another request at the same time)",
                nodes=error.nodes,
                path=error.path,
                extensions={"code": "CONFLICT"},
            )
        if refused is not None:
            return GraphQLError(
                f"Invalid value: {_plain_reason(refused)}",
                nodes=error.nodes,
                path=error.path,
                extensions={"code": "BAD_USER_INPUT"},
            )
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked

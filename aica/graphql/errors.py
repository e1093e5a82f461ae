"""Error policy: domain errors pass through with their code, everything else is masked."""

from __future__ import annotations

import logging

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from aica.errors import AicaError

log = logging.getLogger("aica.graphql")


def is_unexpected(error: GraphQLError) -> bool:
    """True for errors raised by our code that are not ``AicaError`` (bugs, outages)."""
    original = error.original_error
    return original is not None and not isinstance(original, AicaError)


class MaskUnexpectedErrors(MaskErrors):
    """strawberry's MaskErrors, with a code so clients (and the REST shim) can tell a 500."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message="Internal server error")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked

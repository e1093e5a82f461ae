"""Bounds of the record fields callers set (upload metadata, ingest), checked before saving so
an over-long value is a 400 naming the field rather than an ORM error."""

from __future__ import annotations

from collections.abc import Mapping

from aica.errors import BadInput

MAX_LENGTHS = {"agentName": 200, "agentExternalId": 200, "customerPhone": 64, "externalId": 200}
"""The columns' sizes (``aica.models.Record``)."""


def check_lengths(
    values: Mapping[str, object], prefix: str = "", names: Mapping[str, str] | None = None
) -> None:
    """``values`` by record field; errors name ``prefix`` + the caller's name for the field."""
    for key, limit in MAX_LENGTHS.items():
        value = values.get(key)
        if isinstance(value, str) and len(value) > limit:
            field = prefix + (names or {}).get(key, key)
            raise BadInput(f"{field} must be at most {limit} characters", field=field)

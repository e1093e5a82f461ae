"""Prefixed, random primary keys shared by every aggregate."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from tortoise import fields
from tortoise.validators import MaxLengthValidator

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def new_id(prefix: str) -> str:
    """``rec_x9y8z7w6k2m4``: readable in logs, unguessable across orgs (62 bits)."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(12))


def id_field(factory: Callable[[], str]) -> fields.CharField[str]:
    """``factory`` must be a module-level function: migrations serialise it by name."""
    field = fields.CharField(primary_key=True, max_length=32, default=factory)
    # A client's over-long id must match nothing (404), not fail validation in a lookup (500);
    # ids are generated here and the varchar(32) column still bounds what is written.
    field.validators = [v for v in field.validators if not isinstance(v, MaxLengthValidator)]
    return field

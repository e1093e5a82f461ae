"""The long-lived collaborators one process shares: settings, storage, events, grants."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache

from aica.config import Settings
from aica.events import Broadcaster, create_broadcaster
from aica.storage import Storage, create_storage


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    storage: Storage
    events: Broadcaster
    grants: TTLCache[Hashable, Any]
    """Tokens lately found in force, with their memberships (``services.auth.grant``)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        return cls(
            settings,
            create_storage(settings),
            create_broadcaster(settings.redis_url),
            TTLCache(maxsize=MAX_GRANTS, ttl=settings.auth_cache_seconds),
        )


MAX_GRANTS = 10_000
"""Tokens remembered at once; past that the oldest go first."""

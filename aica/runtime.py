"""The long-lived collaborators one process shares: settings, storage, events."""

from __future__ import annotations

from dataclasses import dataclass

from aica.config import Settings
from aica.events import Broadcaster, create_broadcaster
from aica.storage import Storage


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    storage: Storage
    events: Broadcaster

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        return cls(settings, Storage(settings.data_dir), create_broadcaster(settings.redis_url))

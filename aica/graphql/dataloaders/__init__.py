"""Per-request DataLoaders (module-level loaders would leak across event loops)."""

from __future__ import annotations

from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from aica.graphql.dataloaders.project_by_id import Key, Result, load_projects


@dataclass
class Loaders:
    project_by_id: DataLoader[Key, Result] = field(
        default_factory=lambda: DataLoader(load_fn=load_projects)
    )

"""Per-request DataLoaders (module-level loaders would leak across event loops)."""

from __future__ import annotations

from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from aica.graphql.dataloaders import analysis_by_id, project_by_id


@dataclass
class Loaders:
    project_by_id: DataLoader[project_by_id.Key, project_by_id.Result] = field(
        default_factory=lambda: DataLoader(load_fn=project_by_id.load_projects)
    )
    analysis_by_id: DataLoader[analysis_by_id.Key, analysis_by_id.Result] = field(
        default_factory=lambda: DataLoader(load_fn=analysis_by_id.load_analyses)
    )

"""Per-request DataLoaders (module-level loaders would leak across event loops)."""

from __future__ import annotations

from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from aica.graphql.dataloaders import (
    analysis_by_id,
    annotations_by_analysis,
    current_review_by_analysis,
    disputes_by_review,
    project_by_id,
    review_history_by_analysis,
)


@dataclass
class Loaders:
    project_by_id: DataLoader[project_by_id.Key, project_by_id.Result] = field(
        default_factory=lambda: DataLoader(load_fn=project_by_id.load_projects)
    )
    analysis_by_id: DataLoader[analysis_by_id.Key, analysis_by_id.Result] = field(
        default_factory=lambda: DataLoader(load_fn=analysis_by_id.load_analyses)
    )
    current_review_by_analysis: DataLoader[
        current_review_by_analysis.Key, current_review_by_analysis.Result
    ] = field(
        default_factory=lambda: DataLoader(load_fn=current_review_by_analysis.load_current_reviews)
    )
    review_history_by_analysis: DataLoader[
        review_history_by_analysis.Key, review_history_by_analysis.Result
    ] = field(
        default_factory=lambda: DataLoader(load_fn=review_history_by_analysis.load_review_histories)
    )
    annotations_by_analysis: DataLoader[
        annotations_by_analysis.Key, annotations_by_analysis.Result
    ] = field(default_factory=lambda: DataLoader(load_fn=annotations_by_analysis.load_annotations))
    disputes_by_review: DataLoader[disputes_by_review.Key, disputes_by_review.Result] = field(
        default_factory=lambda: DataLoader(load_fn=disputes_by_review.load_disputes)
    )

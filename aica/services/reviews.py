"""What people add to an analysis: time-anchored annotations, QA reviews, agents' disputes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from tortoise.transactions import in_transaction

from aica.errors import BadInput, Conflict, Forbidden, NotFound
from aica.models import Analysis, Annotation, Dispute, Record, Review, ReviewStatus, Role
from aica.services.access import Actor
from aica.services.analyses import get_analysis

MAX_TEXT = 10_000
T = TypeVar("T")


def _text(value: str, field: str, *, required: bool) -> str:
    value = value.strip()
    if required and not value:
        raise BadInput(f"{field} must not be empty", field=field)
    if len(value) > MAX_TEXT:
        raise BadInput(f"{field} must be at most {MAX_TEXT} characters", field=field)
    return value


# Reads of many analyses (or reviews) at once, for DataLoaders: the caller has already been
# allowed to read each one (it came from a list or lookup scoped to the caller).


async def annotations_of(analysis_ids: Sequence[str]) -> dict[str, list[Annotation]]:
    rows = await Annotation.filter(analysis_id__in=analysis_ids).order_by("created_at", "id")
    return _grouped(rows, lambda a: a.analysis_id)


async def current_reviews(analysis_ids: Sequence[str]) -> dict[str, Review]:
    rows = await Review.filter(analysis_id__in=analysis_ids, is_current=True).order_by(
        "-created_at", "-id"
    )
    return {key: group[0] for key, group in _grouped(rows, lambda r: r.analysis_id).items()}


async def review_histories(analysis_ids: Sequence[str]) -> dict[str, list[Review]]:
    rows = await Review.filter(analysis_id__in=analysis_ids).order_by("-created_at", "-id")
    return _grouped(rows, lambda r: r.analysis_id)


async def disputes_of(review_ids: Sequence[str]) -> dict[str, list[Dispute]]:
    rows = await Dispute.filter(review_id__in=review_ids).order_by("created_at", "id")
    return _grouped(rows, lambda d: d.review_id)


def _grouped(rows: Iterable[T], key: Callable[[T], str]) -> dict[str, list[T]]:
    """Rows by ``key``, each group in the rows' order."""
    groups: dict[str, list[T]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return groups


async def add_annotation(
    actor: Actor,
    analysis_id: str,
    *,
    text: str,
    start: float | None = None,
    end: float | None = None,
    category: str | None = None,
) -> Annotation:
    actor.require(Role.supervisor, "annotate calls")
    analysis = await get_analysis(actor, analysis_id)
    if start is not None and start < 0:
        raise BadInput("start must be 0 or more", field="start")
    if end is not None and (start is None or end < start):
        raise BadInput("end needs a start and must not be before it", field="end")
    if category is not None and category not in analysis.categories:
        raise BadInput(
            f"Unknown category {category!r}; the analysis has {', '.join(analysis.categories)}",
            field="category",
        )
    return await Annotation.create(
        analysis_id=analysis.id,
        author_id=actor.user_id,
        text=_text(text, "text", required=True),
        start=start,
        end=end,
        category=category,
    )


@dataclass(frozen=True, slots=True)
class ReviewInput:
    status: ReviewStatus
    comment: str = ""
    score: float | None = None
    categories: dict[str, int] | None = None


def parse_categories(raw: object) -> dict[str, int] | None:
    """Reviewer category scores: a JSON object of integers 0-100 (checked against the
    analysis's categories when submitted)."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in raw.values()
    ):
        raise BadInput("categories must be an object of numbers", field="categories")
    return {str(k): round(v) for k, v in raw.items()}


async def _current(analysis_id: str) -> Review | None:
    return (
        await Review.filter(analysis_id=analysis_id, is_current=True)
        .order_by("-created_at", "-id")
        .first()
    )


async def _lock(analysis: Analysis) -> None:
    """Serialises reviews and disputes of one analysis (two submits must not both become
    current, one agent must not dispute twice)."""
    await Analysis.select_for_update().filter(pk=analysis.id).first()


def _check_review(analysis: Analysis, review: ReviewInput) -> str:
    comment = _text(review.comment, "comment", required=False)
    overrides = review.score is not None or bool(review.categories)
    if overrides and not comment:
        raise BadInput("A score override needs a comment saying why", field="comment")
    if review.score is not None and not 0 <= review.score <= 100:
        raise BadInput("score must be between 0 and 100", field="score")
    for key, value in (review.categories or {}).items():
        if key not in analysis.categories:
            raise BadInput(f"Unknown category {key!r}", field=f"categories.{key}")
        if not 0 <= value <= 100:
            raise BadInput(f"categories.{key} must be between 0 and 100", field=f"categories.{key}")
    return comment


async def submit_review(actor: Actor, analysis_id: str, review: ReviewInput) -> Review:
    """The new review becomes current; earlier ones stay as history."""
    actor.require(Role.supervisor, "review calls")
    analysis = await get_analysis(actor, analysis_id)
    comment = _check_review(analysis, review)
    async with in_transaction():
        await _lock(analysis)
        await Review.filter(analysis_id=analysis.id, is_current=True).update(is_current=False)
        return await Review.create(
            analysis_id=analysis.id,
            reviewer_id=actor.user_id,
            status=review.status,
            score=review.score,
            categories=review.categories or None,
            comment=comment,
        )


async def dispute_review(actor: Actor, analysis_id: str, reason: str) -> Dispute:
    """Only the call's own agent disputes, and only a review that exists."""
    analysis = await get_analysis(actor, analysis_id)
    record = await Record.get(pk=analysis.record_id)
    if not actor.owns(record.agent_name, record.agent_external_id):
        raise Forbidden("Only the call's agent can dispute its review")
    reason = _text(reason, "reason", required=True)
    async with in_transaction():
        await _lock(analysis)
        review = await _current(analysis.id)
        if review is None:
            raise NotFound("The analysis has no review to dispute")
        if await Dispute.exists(review_id=review.id, agent_id=actor.user_id):
            raise Conflict("You have already disputed this review")
        return await Dispute.create(review_id=review.id, agent_id=actor.user_id, reason=reason)

"""Full-text search over records, transcripts and analyses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from aica import models
from aica.graphql.context import Info
from aica.graphql.scalars import DateFilter
from aica.search import base
from aica.services import search
from aica.services.pagination import PageRequest

strawberry.enum(base.DocumentType, name="SearchDocumentType")


@strawberry.type
class TextRange:
    start: int
    end: int = strawberry.field(description="Exclusive.")


@strawberry.type
class SearchSegment:
    start: float = strawberry.field(description="Seconds from the start of the call.")
    end: float
    text: str


@strawberry.type
class SearchHit:
    record_id: strawberry.ID
    type: base.DocumentType
    snippet: str = strawberry.field(description="The text around the match.")
    score: float = strawberry.field(description="Relevance, 0 to 1 (higher is better).")
    created_at: datetime
    highlights: list[TextRange] = strawberry.field(
        description="Where the matching words are in the snippet (character offsets)."
    )
    segments: list[SearchSegment] = strawberry.field(
        description="Transcript hits: the segments that match, for a player to jump to."
    )

    @classmethod
    def from_hit(cls, hit: base.Hit) -> SearchHit:
        return cls(
            record_id=strawberry.ID(hit.record_id),
            type=hit.type,
            snippet=hit.snippet,
            score=hit.score,
            created_at=hit.created_at,
            highlights=[TextRange(start=a, end=b) for a, b in hit.highlights],
            segments=[SearchSegment(start=s.start, end=s.end, text=s.text) for s in hit.segments],
        )


@strawberry.type
class SearchResults:
    items: list[SearchHit]
    total: int = strawberry.field(description="Matches, counted exactly up to 1,000.")
    total_is_exact: bool = strawberry.field(
        description="False when there are more than 1,000 matches (total then says 1,000)."
    )
    page: int
    page_size: int
    query: str = strawberry.field(description="The query as given.")
    corrected_query: str | None = strawberry.field(
        description="Nothing matched as typed: the words searched for instead."
    )


@strawberry.type
class SearchQueries:
    @strawberry.field(
        description="Phrases in quotes, -word to exclude, every other word must match, the "
        "last word (or word*) as a prefix; misspelt words are corrected when nothing matches."
        " Agents find only their own calls."
    )
    async def search(
        self,
        info: Info,
        q: str,
        project_id: strawberry.ID | None = None,
        type: base.DocumentType | None = None,
        from_: Annotated[DateFilter | None, strawberry.argument(name="from")] = None,
        to: DateFilter | None = None,
        agent_name: str | None = None,
        status: models.RecordStatus | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> SearchResults:
        actor = await info.context.actor()
        flt = search.SearchFilter(
            project_id=project_id,
            type=base.DocumentType(type) if type else None,
            created_from=from_,
            created_to=to,
            agent_name=agent_name,
            status=models.RecordStatus(status) if status else None,
        )
        found = await search.search(
            actor, info.context.settings, q, flt, PageRequest(page, page_size)
        )
        corrected = found.results.corrected
        return SearchResults(
            items=[SearchHit.from_hit(h) for h in found.results.hits],
            total=found.results.total,
            total_is_exact=found.results.total_exact,
            page=found.page,
            page_size=found.page_size,
            query=found.query.text,
            corrected_query=(
                " ".join(w for t in corrected.included for w in t.words) if corrected else None
            ),
        )

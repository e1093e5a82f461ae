"""Call records."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import strawberry

from aica import models
from aica.errors import BadInput
from aica.graphql.context import Info
from aica.graphql.executor import PREFETCHED
from aica.graphql.scalars import JSON, DateFilter
from aica.graphql.selection import selected_under
from aica.graphql.types.transcripts import SpeakerSeparation, TranscriptWarning
from aica.services import deletion, projects, records
from aica.services.pagination import CursorRequest, PageRequest, Total
from aica.services.records import RecordSort, SortOrder
from aica.services.rows import Row, stored_json

if TYPE_CHECKING:
    from aica.graphql.types.analyses import Analysis
    from aica.graphql.types.projects import Project

T = TypeVar("T")

strawberry.enum(models.RecordStatus, name="RecordStatus")
strawberry.enum(models.RecordSource, name="RecordSource")
strawberry.enum(RecordSort, name="RecordSort")
strawberry.enum(SortOrder, name="SortOrder")

_STATUSES = {status.value: status for status in models.RecordStatus}
_SOURCES = {source.value: source for source in models.RecordSource}
"""Members by stored value: a dict lookup, several times cheaper than calling the enum."""


@strawberry.type(description="Personal data found and hidden in the call: where, never what.")
class RedactedSpan:
    kind: str = strawberry.field(
        description="CARD, PHONE, EMAIL, IBAN, ACCOUNT, DOB or ID (the transcript's placeholder)."
    )
    start: float
    end: float
    channel: int

    @classmethod
    def many(cls, raw: list[dict[str, Any]]) -> list[RedactedSpan]:
        return [cls(**span) for span in raw]


@strawberry.type
class Record:
    id: strawberry.ID
    project_id: strawberry.ID
    type: str
    status: models.RecordStatus
    progress: int
    stage: str | None = strawberry.field(
        description="While processing: downloading, transcribing, redacting, analyzing, "
        "indexing, metering or alerting."
    )
    error: str | None
    duration: int | None = strawberry.field(description="Seconds, rounded.")
    quality_score: int | None
    agent_name: str | None
    agent_external_id: str | None
    customer_phone: str | None = strawberry.field(
        description="Masked (+1***4567) in lists and for agents."
    )
    source: models.RecordSource
    external_id: str | None
    file_name: str | None
    format: str | None
    size: int | None
    sha256: str | None
    channels: int | None
    language: str | None
    language_probability: float | None = strawberry.field(
        description="How sure language detection was (0..1); null when not detected."
    )
    created_at: datetime
    completed_at: datetime | None

    stored: strawberry.Private[Row]
    """The JSON columns as stored, converted only when selected (lists seldom select them)."""
    analysis_id: strawberry.Private[str | None] = None
    prefetched: strawberry.Private[dict[str, Any]] = dataclasses.field(default_factory=dict)
    """Related objects a list resolver loaded for the whole page (see ``prefetch``)."""

    @strawberry.field(
        description="What to know about the transcript: speech that could not be transcribed, "
        "unsure passages, a call in a language the project does not list."
    )
    def warnings(self) -> list[TranscriptWarning]:
        return TranscriptWarning.many(stored_json(self.stored["warnings"]))

    @strawberry.field(
        description="Personal data the project's redaction replaced in the transcript (and "
        "silenced in the audio with TEXT_AND_AUDIO)."
    )
    def redactions(self) -> list[RedactedSpan]:
        return RedactedSpan.many(stored_json(self.stored["redactions"]))

    @strawberry.field(description="How agent and customer were told apart; null until transcribed.")
    def speaker_separation(self) -> SpeakerSeparation | None:
        return SpeakerSeparation.from_stored(stored_json(self.stored["speaker_separation"]))

    @strawberry.field
    def metadata(self) -> JSON:
        return JSON(_as_dict(stored_json(self.stored["metadata"])))

    # Sync resolvers on purpose: a list of 100 items whose fields all return coroutines sends
    # graphql-core down its gather path, about a quarter of a page's CPU. Lists prefetch for
    # the whole page (``prefetch``); a single record falls back to awaiting the loader.
    @strawberry.field(
        description="The current analysis (the newest), once analyzed.", metadata=PREFETCHED
    )
    def analysis(
        self, info: Info
    ) -> Annotated[Analysis, strawberry.lazy("aica.graphql.types.analyses")] | None:
        if "analysis" in self.prefetched or self.analysis_id is None:
            return cast("Analysis | None", self.prefetched.get("analysis"))
        return cast("Analysis | None", _load_analysis(info, self.analysis_id))

    @strawberry.field(metadata=PREFETCHED)
    def project(
        self, info: Info
    ) -> Annotated[Project, strawberry.lazy("aica.graphql.types.projects")] | None:
        if "project" in self.prefetched:
            return cast("Project | None", self.prefetched["project"])
        return cast("Project | None", _load_project(info, self.project_id))

    @classmethod
    def from_model(cls, record: models.Record, *, mask_phone: bool) -> Record:
        return cls.from_row({c: getattr(record, c) for c in records.COLUMNS}, mask_phone)

    @classmethod
    def from_row(cls, row: Row, mask_phone: bool) -> Record:
        """A row of :data:`records.COLUMNS`: lists read their page as rows, not models."""
        phone = row["customer_phone"]
        return cls(
            id=strawberry.ID(row["id"]),
            project_id=strawberry.ID(row["project_id"]),
            type=row["type"],
            status=_STATUSES[row["status"]],
            progress=row["progress"],
            stage=row["stage"],
            error=row["error"],
            duration=_round(row["duration"]),
            quality_score=_round(row["quality_score"]),
            agent_name=row["agent_name"],
            agent_external_id=row["agent_external_id"],
            customer_phone=records.mask_phone(phone) if mask_phone else phone,
            source=_SOURCES[row["source"]],
            external_id=row["external_id"],
            file_name=row["file_name"],
            format=row["format"],
            size=row["size"],
            sha256=row["sha256"],
            channels=row["channels"],
            language=row["language"],
            language_probability=row["language_probability"],
            created_at=row["created_at"],
            completed_at=row["completed_at"],
            stored=row,
            analysis_id=row["analysis_id"],
        )


async def _load_project(info: Info, project_id: str) -> Project | None:
    from aica.graphql.types.projects import Project

    row = await info.context.loaders.project_by_id.load(project_id)
    return Project.from_row(row) if row else None


async def _load_analysis(info: Info, analysis_id: str) -> Analysis | None:
    from aica.graphql.types.analyses import Analysis

    analysis = await info.context.loaders.analysis_by_id.load(analysis_id)
    return Analysis.from_model(analysis) if analysis else None


async def prefetch(info: Info, items: list[Record]) -> None:
    """The page's projects (one statement) and analyses (one DataLoader batch), when the
    query selects them."""
    from aica.graphql.types.projects import Project

    wanted = selected_under(info, "items")
    if "project" in wanted:
        ids = list(dict.fromkeys(r.project_id for r in items))
        found = {row["id"]: Project.from_row(row) for row in await projects.rows_by_ids(ids)}
        for item in items:
            item.prefetched["project"] = found.get(item.project_id)
    if "analysis" in wanted:
        analysis_ids = [r.analysis_id for r in items if r.analysis_id]
        analyses = await _batch(analysis_ids, partial(_load_analysis, info))
        for item in items:
            item.prefetched["analysis"] = analyses.get(item.analysis_id or "")


async def _batch(ids: list[str], load: Callable[[str], Awaitable[T | None]]) -> dict[str, T | None]:
    """Each id once; the DataLoader behind ``load`` turns them into one query."""
    unique = list(dict.fromkeys(ids))
    return dict(zip(unique, await asyncio.gather(*(load(i) for i in unique)), strict=True))


def _round(value: float | None) -> int | None:
    return None if value is None else round(value)


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` for the next page; null when this page is empty."
    )


@strawberry.type(name="RecordPaginated")
class RecordPage:
    items: list[Record]
    page: int = strawberry.field(description="The `page` argument (1 when paging by cursor).")
    page_size: int = strawberry.field(description="Items asked for: `pageSize`, or `first`.")
    page_info: PageInfo
    counted: strawberry.Private[Callable[[], Awaitable[Total]]]

    # Counted only when asked for, and once for both fields.
    @strawberry.field(
        description="Matching records: exact when filtered by no more than project, status "
        "and dates, or with `exactTotal`; otherwise counted exactly up to 1,000."
    )
    async def total(self) -> int:
        return (await self.counted()).count

    @strawberry.field(description="False when there are more than 1,000 (total then says 1,000).")
    async def total_is_exact(self) -> bool:
        return (await self.counted()).exact


def _once(make: Callable[[], Awaitable[T]]) -> Callable[[], Awaitable[T]]:
    task: asyncio.Future[T] | None = None

    def get() -> Awaitable[T]:
        nonlocal task
        if task is None:
            task = asyncio.ensure_future(make())
        return task

    return get


@strawberry.type
class RecordQueries:
    @strawberry.field(
        description="Records of the selected org; agents see only their own. Page by `page` "
        "and `pageSize`, or by cursor: `first`, then `after` the previous page's "
        "`pageInfo.endCursor` (as fast on the last page as on the first)."
    )
    async def records(
        self,
        info: Info,
        project_id: strawberry.ID | None = None,
        status: models.RecordStatus | None = None,
        from_: Annotated[DateFilter | None, strawberry.argument(name="from")] = None,
        to: DateFilter | None = None,
        min_score: float | None = None,
        max_score: float | None = None,
        sort: RecordSort = RecordSort.createdAt,
        order: SortOrder = SortOrder.desc,
        page: int = 1,
        page_size: int = 20,
        first: int | None = None,
        after: str | None = None,
        exact_total: Annotated[
            bool, strawberry.argument(description="Count every match for `total`.")
        ] = False,
    ) -> RecordPage:
        actor = await info.context.actor()
        flt = records.RecordFilter(
            project_id=project_id,
            status=models.RecordStatus(status) if status else None,
            created_from=from_,
            created_to=to,
            min_score=min_score,
            max_score=max_score,
        )
        request = _page_request(page, page_size, first, after)
        result = await records.list_records(actor, flt, request, RecordSort(sort), SortOrder(order))
        items = [Record.from_row(r, mask_phone=True) for r in result.items]
        await prefetch(info, items)
        return RecordPage(
            items=items,
            page=page,
            page_size=request.first if isinstance(request, CursorRequest) else page_size,
            page_info=PageInfo(has_next_page=result.has_next, end_cursor=result.end_cursor),
            counted=_once(partial(records.count_records, actor, flt, exact=exact_total)),
        )

    @strawberry.field
    async def record(self, info: Info, id: strawberry.ID) -> Record:
        actor = await info.context.actor()
        record = await records.get_record(actor, id)
        return Record.from_model(record, mask_phone=actor.is_agent)


@strawberry.type
class RecordMutations:
    @strawberry.mutation(description="Delete a record and its audio (admins and owners).")
    async def delete_record(self, info: Info, id: strawberry.ID) -> Record:
        actor = await info.context.actor()
        runtime = info.context.runtime
        record = await deletion.delete_record(actor, runtime.settings, runtime.storage, id)
        return Record.from_model(record, mask_phone=False)


def _page_request(
    page: int, page_size: int, first: int | None, after: str | None
) -> PageRequest | CursorRequest:
    if first is None and after is None:
        return PageRequest(page, page_size)
    if page != 1:
        raise BadInput("page cannot be combined with first/after", field="page")
    return CursorRequest(page_size if first is None else first, after)

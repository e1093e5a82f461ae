"""The schema: root types composed from per-domain mixins, with limits and caches."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    ParserCache,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from aica.config import Settings
from aica.graphql.budget import DocumentBudget
from aica.graphql.cost import QueryCost
from aica.graphql.errors import MaskUnexpectedErrors, is_unexpected, log
from aica.graphql.executor import PlainFieldExecutor
from aica.graphql.inputs import InputGuard
from aica.graphql.scalars import SCALARS
from aica.graphql.types.alerts import AlertMutations, AlertQueries, AlertSubscriptions
from aica.graphql.types.analyses import AnalysisMutations, AnalysisQueries
from aica.graphql.types.billing import BillingMutations, BillingQueries
from aica.graphql.types.ingest import IngestMutations
from aica.graphql.types.integrations import IntegrationMutations, IntegrationQueries
from aica.graphql.types.media import MediaQueries
from aica.graphql.types.orgs import OrgMutations, OrgQueries
from aica.graphql.types.privacy import PrivacyMutations, PrivacyQueries
from aica.graphql.types.projects import ProjectMutations, ProjectQueries
from aica.graphql.types.records import RecordMutations, RecordQueries
from aica.graphql.types.search import SearchQueries
from aica.graphql.types.speakers import SpeakerMutations
from aica.graphql.types.stats import StatsQueries
from aica.graphql.types.subscriptions import RecordSubscriptions
from aica.graphql.types.transcripts import TranscriptQueries
from aica.graphql.types.uploads import AudioQueries, UploadMutations
from aica.graphql.types.users import UserMutations, UserQueries
from aica.graphql.types.webhooks import WebhookMutations, WebhookQueries
from aica.graphql.validation import ValidationByText


@strawberry.type
class Query(
    OrgQueries,
    UserQueries,
    ProjectQueries,
    RecordQueries,
    TranscriptQueries,
    AudioQueries,
    MediaQueries,
    IntegrationQueries,
    AnalysisQueries,
    StatsQueries,
    AlertQueries,
    WebhookQueries,
    BillingQueries,
    SearchQueries,
    PrivacyQueries,
):
    pass


@strawberry.type
class Mutation(
    OrgMutations,
    UserMutations,
    ProjectMutations,
    RecordMutations,
    UploadMutations,
    IngestMutations,
    IntegrationMutations,
    AnalysisMutations,
    AlertMutations,
    WebhookMutations,
    BillingMutations,
    SpeakerMutations,
    PrivacyMutations,
):
    pass


@strawberry.type
class Subscription(RecordSubscriptions, AlertSubscriptions):
    pass


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log only what is unexpected; expected errors are answers, not incidents."""
        for error in errors:
            if is_unexpected(error):
                log.error("unexpected error in %s", error.path, exc_info=error.original_error)


def build_schema(settings: Settings | None = None) -> Schema:
    settings = settings or Settings()
    # Extensions are made for every request: strawberry sets each one's execution_context per
    # request, so one instance shared by concurrent requests (and DocumentBudget's refusal)
    # would leak from a request waiting on the database into the next. The depth and alias
    # rules are made once, so a document meets the same rule classes every time (the key
    # validation is remembered by).
    limits = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_query_aliases).validation_rules,
    ]
    extensions: Iterable[Any] = [
        # Before ValidationByText, which validates in its own pre-validation hook.
        partial(
            DocumentBudget,
            max_bytes=settings.max_query_bytes,
            max_tokens=settings.max_query_tokens,
            max_fields=settings.max_query_fields,
        ),
        partial(ParserCache, maxsize=512),
        ValidationByText,
        partial(AddValidationRules, limits),
        InputGuard,
        partial(QueryCost, max_cost=settings.max_query_cost),
        MaskUnexpectedErrors,
    ]
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=list(extensions),
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALARS),
        execution_context_class=PlainFieldExecutor,
    )

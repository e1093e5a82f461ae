"""Alert rules, their firings, and the alertTriggered subscription."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated, Any

import strawberry

from aica import models
from aica.errors import Forbidden, NotFound
from aica.events import alert_channel
from aica.graphql.context import Info
from aica.graphql.scalars import JSON, DateFilter
from aica.graphql.types.pages import Paginated
from aica.graphql.types.subscriptions import watch
from aica.services import alerts, projects
from aica.services.pagination import PageRequest


@strawberry.type
class AlertRule:
    id: strawberry.ID
    name: str
    project_id: strawberry.ID | None = strawberry.field(
        description="Null: the rule watches every project of the org."
    )
    condition: JSON = strawberry.field(
        description='{"field", "operator", "value"}: field qualityScore, duration, '
        "complianceStatus, status (failed), categories.<key>, or a call metric; operator lt, "
        "lte, gt, gte, eq, neq."
    )
    actions: list[str] = strawberry.field(description="webhook and/or email.")
    email_recipients: list[str] | None = strawberry.field(
        description="Null: the org's owners, admins and supervisors."
    )
    cooldown_minutes: int | None = strawberry.field(
        description="At most one firing per agent within this many minutes."
    )
    enabled: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, rule: models.AlertRule) -> AlertRule:
        return cls(
            id=strawberry.ID(rule.id),
            name=rule.name,
            project_id=strawberry.ID(rule.project_id) if rule.project_id else None,
            condition=JSON(rule.condition),
            actions=list(rule.actions),
            email_recipients=rule.email_recipients,
            cooldown_minutes=rule.cooldown_minutes,
            enabled=rule.enabled,
            created_at=rule.created_at,
            updated_at=rule.updated_at,
        )


@strawberry.input
class AlertRuleInput:
    name: str | None = None
    project_id: strawberry.ID | None = strawberry.UNSET
    condition: JSON | None = None
    actions: list[str] | None = None
    email_recipients: list[str] | None = None
    cooldown_minutes: int | None = None
    enabled: bool | None = None

    def changes(self) -> alerts.RuleChanges:
        return alerts.RuleChanges(
            name=self.name,
            project_id=self.project_id or None,
            clear_project=self.project_id is None,
            condition=self.condition,
            actions=self.actions,
            email_recipients=self.email_recipients,
            cooldown_minutes=self.cooldown_minutes,
            enabled=self.enabled,
        )


@strawberry.type
class AlertFiring:
    id: strawberry.ID
    rule_id: strawberry.ID
    project_id: strawberry.ID
    record_id: strawberry.ID
    analysis_id: strawberry.ID | None
    agent_name: str | None
    field: str
    operator: str
    threshold: JSON = strawberry.field(description="The rule's value.")
    value: JSON = strawberry.field(description="The record's value that matched.")
    actions: JSON = strawberry.field(
        description="Each action and what became of it: queued, no_endpoints, "
        "no_recipients, not_configured."
    )
    created_at: datetime

    @classmethod
    def from_model(cls, firing: models.AlertFiring) -> AlertFiring:
        return cls(
            id=strawberry.ID(firing.id),
            rule_id=strawberry.ID(firing.rule_id),
            project_id=strawberry.ID(firing.project_id),
            record_id=strawberry.ID(firing.record_id),
            analysis_id=strawberry.ID(firing.analysis_id) if firing.analysis_id else None,
            agent_name=firing.agent_name,
            field=firing.field,
            operator=firing.operator,
            threshold=_json(firing.matched["threshold"]),
            value=_json(firing.matched["value"]),
            actions=JSON(dict(firing.actions)),
            created_at=firing.created_at,
        )


def _json(value: Any) -> JSON:
    return value  # type: ignore[no-any-return]  # a number or a string, as stored


@strawberry.type
class AlertQueries:
    @strawberry.field(description="Alert rules (supervisors and above).")
    async def alert_rules(
        self,
        info: Info,
        project_id: strawberry.ID | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> Paginated[AlertRule]:
        actor = await info.context.actor()
        result = await alerts.list_rules(actor, project_id, PageRequest(page, page_size))
        return Paginated.of(result, AlertRule.from_model)

    @strawberry.field
    async def alert_rule(self, info: Info, id: strawberry.ID) -> AlertRule:
        actor = await info.context.actor()
        return AlertRule.from_model(await alerts.get_rule(actor, id))

    @strawberry.field(description="Alerts that fired, newest first.")
    async def alert_firings(
        self,
        info: Info,
        rule_id: strawberry.ID | None = None,
        project_id: strawberry.ID | None = None,
        from_: Annotated[DateFilter | None, strawberry.argument(name="from")] = None,
        to: DateFilter | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> Paginated[AlertFiring]:
        actor = await info.context.actor()
        flt = alerts.FiringFilter(rule_id, project_id, from_, to)
        result = await alerts.list_firings(actor, flt, PageRequest(page, page_size))
        return Paginated.of(result, AlertFiring.from_model)


@strawberry.type
class AlertMutations:
    @strawberry.mutation
    async def create_alert_rule(self, info: Info, input: AlertRuleInput) -> AlertRule:
        actor = await info.context.actor()
        return AlertRule.from_model(await alerts.create_rule(actor, input.changes()))

    @strawberry.mutation
    async def update_alert_rule(
        self, info: Info, id: strawberry.ID, input: AlertRuleInput
    ) -> AlertRule:
        actor = await info.context.actor()
        return AlertRule.from_model(await alerts.update_rule(actor, id, input.changes()))

    @strawberry.mutation
    async def delete_alert_rule(self, info: Info, id: strawberry.ID) -> AlertRule:
        actor = await info.context.actor()
        return AlertRule.from_model(await alerts.delete_rule(actor, id))


@strawberry.type
class AlertSubscriptions:
    @strawberry.subscription(description="Alerts firing on the project's calls (supervisors+).")
    async def alert_triggered(
        self, info: Info, project_id: strawberry.ID
    ) -> AsyncGenerator[AlertFiring, None]:
        actor = await info.context.actor()
        await projects.get_project(actor, project_id)  # another org's project: NOT_FOUND
        actor.require(models.Role.supervisor, "follow alerts")
        async for actor, message in watch(info, alert_channel(project_id)):
            if message.get("orgId") != actor.org_id:
                continue
            try:
                firing = await alerts.get_firing(actor, str(message.get("firingId")))
            except (NotFound, Forbidden):
                continue  # deleted since, or the caller is no longer a supervisor
            yield AlertFiring.from_model(firing)

"""Alert rules: validated on save, judged after every analysis and on every failed record.

A condition is ``{"field", "operator", "value"}`` over what a supervisor reads on a call:
its score, duration, compliance, a category's score, a call metric, or the record failing.
A firing is stored once per rule, record and trigger (the analysis, or the failure), and
its actions go out through the outbox (``aica.services.webhooks``) in the same transaction.
"""

from __future__ import annotations

import logging
import operator as op
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from aica.config import Settings
from aica.errors import BadInput, NotFound
from aica.events import Broadcaster, alert_channel, publish_safely
from aica.models import (
    AlertFiring,
    AlertRule,
    Analysis,
    Project,
    Record,
    Role,
)
from aica.services import email, outbox, users
from aica.services.access import Actor, in_org
from aica.services.auth import normalize_email
from aica.services.pagination import Page, PageRequest, paginate
from aica.services.records import within
from aica.services.timerange import DateBound, utc_iso

log = logging.getLogger("aica.alerts")

ACTIONS = ("webhook", "email")
_NUMBER_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "lt": op.lt,
    "lte": op.le,
    "gt": op.gt,
    "gte": op.ge,
    "eq": op.eq,
    "neq": op.ne,
}
_METRICS = {
    "talkRatio": "talkRatio",
    "silence": "silence",
    "silenceRatio": "silenceRatio",
    "longestSilence": "longestSilence",
    "overtalk": "overtalk",
    "wordsPerMinute": "agentWpm",
    "agentWpm": "agentWpm",
    "customerWpm": "customerWpm",
}
"""Condition field -> key of the analysis's call metrics."""
_CHOICES = {
    "complianceStatus": ("passed", "failed", "not_checked"),
    "status": ("failed",),
}
"""Fields compared as text (eq / neq only), with the values they take."""
_MAX_RECIPIENTS = 50


@dataclass(slots=True)
class RuleChanges:
    name: str | None = None
    project_id: str | None = None
    clear_project: bool = False
    condition: Mapping[str, Any] | None = None
    actions: list[str] | None = None
    email_recipients: list[str] | None = None
    cooldown_minutes: int | None = None
    enabled: bool | None = None


@dataclass(frozen=True, slots=True)
class FiringFilter:
    rule_id: str | None = None
    project_id: str | None = None
    created_from: DateBound | None = None
    created_to: DateBound | None = None


def check_condition(condition: Any) -> dict[str, Any]:
    """The condition as stored; a 400 naming the part that is wrong."""
    if not isinstance(condition, Mapping):
        raise BadInput("condition must be an object {field, operator, value}", field="condition")
    field = condition.get("field")
    operator = condition.get("operator")
    value = condition.get("value")
    if not isinstance(field, str) or not _known_field(field):
        raise BadInput(
            f"Unknown condition field {field!r}: use qualityScore, duration, complianceStatus, "
            f"status, categories.<key> or a call metric ({', '.join(_METRICS)})",
            field="condition.field",
        )
    if operator not in _NUMBER_OPERATORS:
        raise BadInput(
            f"Unknown operator {operator!r}: use {', '.join(_NUMBER_OPERATORS)}",
            field="condition.operator",
        )
    if field in _CHOICES:
        if operator not in ("eq", "neq"):
            raise BadInput(f"{field} compares with eq or neq only", field="condition.operator")
        if value not in _CHOICES[field]:
            raise BadInput(
                f"{field} is one of {', '.join(_CHOICES[field])}", field="condition.value"
            )
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise BadInput(f"{field} compares with a number", field="condition.value")
    return {"field": field, "operator": operator, "value": value}


def _known_field(field: str) -> bool:
    if field.startswith("categories."):
        return 0 < len(field) - len("categories.") <= 64
    return field in ("qualityScore", "duration") or field in _METRICS or field in _CHOICES


def _check_actions(actions: list[str]) -> list[str]:
    unknown = [a for a in actions if a not in ACTIONS]
    if unknown or not actions:
        raise BadInput(f"actions must be a non-empty list of {', '.join(ACTIONS)}", field="actions")
    return list(dict.fromkeys(actions))


def _check_recipients(recipients: list[str]) -> list[str]:
    if len(recipients) > _MAX_RECIPIENTS:
        raise BadInput(f"At most {_MAX_RECIPIENTS} email recipients", field="emailRecipients")
    try:
        return [normalize_email(address) for address in recipients]
    except BadInput as exc:
        exc.extensions["field"] = "emailRecipients"
        raise


async def _apply(actor: Actor, rule: AlertRule, changes: RuleChanges) -> None:
    if changes.name is not None:
        if not changes.name.strip() or len(changes.name) > 200:
            raise BadInput("name must be 1-200 characters", field="name")
        rule.name = changes.name
    if changes.clear_project:
        rule.project_id = None
    elif changes.project_id is not None:
        if not await Project.exists(pk=changes.project_id, org_id=actor.org_id):
            raise BadInput(f"Unknown project {changes.project_id!r}", field="projectId")
        rule.project_id = changes.project_id
    if changes.condition is not None:
        rule.condition = check_condition(changes.condition)
    if changes.actions is not None:
        rule.actions = _check_actions(changes.actions)
    if changes.email_recipients is not None:
        rule.email_recipients = _check_recipients(changes.email_recipients) or None
    if changes.cooldown_minutes is not None:
        if not 0 <= changes.cooldown_minutes <= 7 * 24 * 60:
            raise BadInput("cooldownMinutes must be 0-10080", field="cooldownMinutes")
        rule.cooldown_minutes = changes.cooldown_minutes or None
    if changes.enabled is not None:
        rule.enabled = changes.enabled


async def create_rule(actor: Actor, changes: RuleChanges) -> AlertRule:
    actor.require(Role.supervisor, "manage alert rules")
    for name, given in (("name", changes.name), ("condition", changes.condition)):
        if given is None:
            raise BadInput(f"{name} is required", field=name)
    rule = AlertRule(org_id=actor.org_id, actions=["webhook"])  # unless the rule names its own
    await _apply(actor, rule, changes)
    await rule.save()
    return rule


async def get_rule(actor: Actor, rule_id: str) -> AlertRule:
    actor.require(Role.supervisor, "see alert rules")
    return await in_org(actor, AlertRule, rule_id, "Alert rule")


async def list_rules(actor: Actor, project_id: str | None, request: PageRequest) -> Page[AlertRule]:
    actor.require(Role.supervisor, "see alert rules")
    query = AlertRule.filter(org_id=actor.org_id)
    if project_id is not None:
        query = query.filter(project_id=project_id)
    return await paginate(query.order_by("-created_at", "id"), request)


async def update_rule(actor: Actor, rule_id: str, changes: RuleChanges) -> AlertRule:
    rule = await get_rule(actor, rule_id)
    await _apply(actor, rule, changes)
    await rule.save()
    return rule


async def delete_rule(actor: Actor, rule_id: str) -> AlertRule:
    rule = await get_rule(actor, rule_id)
    await rule.delete()
    return rule


async def list_firings(actor: Actor, flt: FiringFilter, request: PageRequest) -> Page[AlertFiring]:
    actor.require(Role.supervisor, "see alerts")
    query = AlertFiring.filter(org_id=actor.org_id, record__deleting_at__isnull=True)
    if flt.rule_id is not None:
        query = query.filter(rule_id=flt.rule_id)
    if flt.project_id is not None:
        query = query.filter(project_id=flt.project_id)
    query = within(query, flt.created_from, flt.created_to, None, None)
    return await paginate(query.order_by("-created_at", "-id"), request)


# --- evaluation -------------------------------------------------------------------------------


def _value(field: str, record: Record, analysis: Analysis | None) -> Any:
    """The record's value for ``field``; None when the call has none (a mono call's talk
    ratio, a silent call's score) or the field is not about this trigger."""
    if field == "status":
        return str(record.status) if analysis is None else None
    if analysis is None:
        return None
    if field == "qualityScore":
        return analysis.quality_score
    if field == "duration":
        return record.duration
    if field == "complianceStatus":
        return str(analysis.compliance_status)
    if field.startswith("categories."):
        return (analysis.categories or {}).get(field.removeprefix("categories."))
    metrics = (analysis.result or {}).get("metrics") or {}
    return metrics.get(_METRICS[field])


def _matches(condition: Mapping[str, Any], actual: Any) -> bool:
    if actual is None:
        return False
    compare = _NUMBER_OPERATORS[str(condition["operator"])]
    try:
        return bool(compare(actual, condition["value"]))
    except TypeError:  # a rule saved for another type of value
        return False


async def _cooling_down(rule: AlertRule, agent_name: str | None) -> bool:
    if not rule.cooldown_minutes:
        return False
    since = datetime.now(UTC) - timedelta(minutes=rule.cooldown_minutes)
    return await AlertFiring.filter(
        rule_id=rule.id, agent_name=agent_name, created_at__gte=since
    ).exists()


async def evaluate(
    settings: Settings, record: Record, analysis: Analysis | None
) -> list[AlertFiring]:
    """Fire the org's enabled rules that match; call inside the transaction of the result.

    ``analysis`` is the new analysis, or None when the record has just failed."""
    rules = await AlertRule.filter(org_id=record.org_id, enabled=True).select_for_update()
    fired: list[AlertFiring] = []
    trigger = analysis.id if analysis is not None else "failed"
    for rule in rules:
        if rule.project_id not in (None, record.project_id):
            continue
        actual = _value(str(rule.condition["field"]), record, analysis)
        if not _matches(rule.condition, actual) or await _cooling_down(rule, record.agent_name):
            continue
        if await AlertFiring.exists(rule_id=rule.id, record_id=record.id, trigger=trigger):
            continue  # this stage ran before for this very result
        firing = AlertFiring(
            org_id=record.org_id,
            rule=rule,
            record_id=record.id,
            project_id=record.project_id,
            analysis_id=analysis.id if analysis else None,
            trigger=trigger,
            agent_name=record.agent_name,
            field=rule.condition["field"],
            operator=rule.condition["operator"],
            matched={"value": actual, "threshold": rule.condition["value"]},
        )
        try:
            await firing.save()
        except IntegrityError:
            continue
        firing.actions = await _act(settings, rule, firing, record)
        await firing.save(update_fields=["actions"])
        fired.append(firing)
    return fired


async def _act(
    settings: Settings, rule: AlertRule, firing: AlertFiring, record: Record
) -> dict[str, str]:
    outcome: dict[str, str] = {}
    if "webhook" in rule.actions:
        data = firing_json(rule, firing)
        sent = await outbox.queue_webhooks(
            record.org_id, record.project_id, outbox.ALERT_TRIGGERED, data
        )
        outcome["webhook"] = "queued" if sent else "no_endpoints"
    if "email" in rule.actions:
        if settings.smtp_host is None:
            log.info("alert %s: email is not configured (AICA_SMTP_HOST)", firing.id)
            outcome["email"] = "not_configured"
        else:
            to = rule.email_recipients or await users.member_emails(
                record.org_id, Role.owner, Role.admin, Role.supervisor
            )
            if to:
                message = email.alert_message(settings, rule, firing, record, to)
                await outbox.queue_email(record.org_id, outbox.ALERT_TRIGGERED, message)
            outcome["email"] = "queued" if to else "no_recipients"
    return outcome


async def publish(events: Broadcaster, fired: list[AlertFiring]) -> None:
    """Tell ``alertTriggered`` subscribers, once the firings are committed."""
    for firing in fired:
        message = {"firingId": firing.id, "orgId": firing.org_id}
        await publish_safely(events, alert_channel(firing.project_id), message)


async def get_firing(actor: Actor, firing_id: str) -> AlertFiring:
    actor.require(Role.supervisor, "see alerts")
    firing = await in_org(actor, AlertFiring, firing_id, "Alert")
    if await Record.filter(pk=firing.record_id, deleting_at__isnull=False).exists():
        raise NotFound.of("Alert")  # its call is being deleted
    return firing


def firing_json(rule: AlertRule, firing: AlertFiring) -> dict[str, Any]:
    """What webhooks and subscribers receive about a firing."""
    return {
        "id": firing.id,
        "ruleId": rule.id,
        "ruleName": rule.name,
        "projectId": firing.project_id,
        "recordId": firing.record_id,
        "analysisId": firing.analysis_id,
        "agentName": firing.agent_name,
        "condition": dict(rule.condition),
        "value": firing.matched["value"],
        "createdAt": utc_iso(firing.created_at),
    }

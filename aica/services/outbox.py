"""The outbox: what leaves the machine (webhooks, email) is written as a delivery row in the
transaction of the result that caused it, and a delivery job of its own sends it.

So a crash never loses a notification nor sends one for a result that was rolled back, and a
slow receiver never holds a record back. Call these inside that transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aica.models import Delivery, DeliveryKind, WebhookEndpoint
from aica.queue import enqueue_delivery
from aica.services.timerange import utc_iso

RECORD_COMPLETED = "record.completed"
RECORD_FAILED = "record.failed"
ANALYSIS_COMPLETED = "analysis.completed"
ALERT_TRIGGERED = "alert.triggered"
BUDGET_THRESHOLD = "budget.threshold"
EVENTS = (RECORD_COMPLETED, RECORD_FAILED, ANALYSIS_COMPLETED, ALERT_TRIGGERED, BUDGET_THRESHOLD)


async def queue_webhooks(
    org_id: str, project_id: str | None, event: str, data: dict[str, Any]
) -> int:
    """A delivery to each enabled endpoint of the org (or of this project) that takes
    ``event``; how many. An event of no project (``None``) goes to org-wide endpoints."""
    endpoints = await WebhookEndpoint.filter(org_id=org_id, enabled=True)
    chosen = [e for e in endpoints if event in e.events and e.project_id in (None, project_id)]
    for endpoint in chosen:
        await queue_webhook(endpoint, event, data)
    return len(chosen)


async def queue_webhook(endpoint: WebhookEndpoint, event: str, data: dict[str, Any]) -> Delivery:
    delivery = await Delivery.create(
        org_id=endpoint.org_id,
        kind=DeliveryKind.webhook,
        endpoint=endpoint,
        event=event,
        payload={"event": event, "timestamp": utc_iso(datetime.now(UTC)), "data": data},
    )
    await enqueue_delivery(delivery.id)
    return delivery


async def queue_email(org_id: str, event: str, message: dict[str, Any]) -> Delivery:
    """``message``: ``{"to": [...], "subject", "text", "html"}``."""
    delivery = await Delivery.create(
        org_id=org_id, kind=DeliveryKind.email, event=event, payload=message
    )
    await enqueue_delivery(delivery.id)
    return delivery

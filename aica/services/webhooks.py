"""Outgoing webhook endpoints: managed by admins, per org or per project; their delivery log."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from aica.config import Settings
from aica.errors import BadInput, Conflict, NotFound
from aica.models import (
    AuditAction,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Project,
    Role,
    WebhookEndpoint,
)
from aica.services import audit, outbox
from aica.services.access import Actor, in_org
from aica.services.downloads import AddressPolicy, DownloadFailed, DownloadUnavailable, check_url
from aica.services.pagination import Page, PageRequest, paginate

_MAX_ENDPOINTS = 50


@dataclass(slots=True)
class EndpointChanges:
    url: str | None = None
    events: list[str] | None = None
    project_id: str | None = None
    enabled: bool | None = None


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


async def _check_url(url: str, settings: Settings) -> str:
    """Public http(s) addresses only (as for ingest); checked again at every delivery."""
    if len(url) > 2000:
        raise BadInput("url must be at most 2000 characters", field="url")
    policy = AddressPolicy.from_settings(settings)
    try:
        await check_url(url, policy)
    except (DownloadFailed, DownloadUnavailable) as exc:
        raise BadInput(f"The webhook URL cannot be used: {exc}", field="url") from None
    return url


def _check_events(events: list[str]) -> list[str]:
    unknown = [e for e in events if e not in outbox.EVENTS]
    if unknown or not events:
        raise BadInput(
            f"events must be a non-empty list of {', '.join(outbox.EVENTS)}", field="events"
        )
    return list(dict.fromkeys(events))


async def create_endpoint(
    actor: Actor, settings: Settings, changes: EndpointChanges
) -> WebhookEndpoint:
    actor.require(Role.admin, "manage webhooks")
    if changes.url is None:
        raise BadInput("url is required", field="url")
    if await WebhookEndpoint.filter(org_id=actor.org_id).count() >= _MAX_ENDPOINTS:
        raise Conflict(f"An organization has at most {_MAX_ENDPOINTS} webhook endpoints")
    endpoint = WebhookEndpoint(org_id=actor.org_id, secret=new_secret(), events=list(outbox.EVENTS))
    await _apply(actor, settings, endpoint, changes)
    async with in_transaction():
        await endpoint.save()
        await audit.by(actor, AuditAction.webhook_created, target_id=endpoint.id)
    return endpoint


async def update_endpoint(
    actor: Actor, settings: Settings, endpoint_id: str, changes: EndpointChanges
) -> WebhookEndpoint:
    endpoint = await get_endpoint(actor, endpoint_id)
    await _apply(actor, settings, endpoint, changes)
    async with in_transaction():
        await endpoint.save()
        await audit.by(actor, AuditAction.webhook_updated, target_id=endpoint.id)
    return endpoint


async def _apply(
    actor: Actor, settings: Settings, endpoint: WebhookEndpoint, changes: EndpointChanges
) -> None:
    if changes.url is not None:
        endpoint.url = await _check_url(changes.url, settings)
    if changes.events is not None:
        endpoint.events = _check_events(changes.events)
    if changes.project_id is not None:
        if not await Project.exists(pk=changes.project_id, org_id=actor.org_id):
            raise BadInput(f"Unknown project {changes.project_id!r}", field="projectId")
        endpoint.project_id = changes.project_id
    if changes.enabled is not None:
        endpoint.enabled = changes.enabled
        if changes.enabled:
            endpoint.disabled_reason = None


async def get_endpoint(actor: Actor, endpoint_id: str) -> WebhookEndpoint:
    actor.require(Role.admin, "manage webhooks")
    return await in_org(actor, WebhookEndpoint, endpoint_id, "Webhook endpoint")


async def list_endpoints(actor: Actor, request: PageRequest) -> Page[WebhookEndpoint]:
    actor.require(Role.admin, "manage webhooks")
    query = WebhookEndpoint.filter(org_id=actor.org_id).order_by("-created_at", "id")
    return await paginate(query, request)


async def delete_endpoint(actor: Actor, endpoint_id: str) -> WebhookEndpoint:
    endpoint = await get_endpoint(actor, endpoint_id)
    async with in_transaction():
        await endpoint.delete()
        await audit.by(actor, AuditAction.webhook_deleted, target_id=endpoint.id)
    return endpoint


async def send_test(actor: Actor, endpoint_id: str) -> Delivery:
    """A ``test`` event through the real delivery path (signed, logged, retried)."""
    endpoint = await get_endpoint(actor, endpoint_id)
    if not endpoint.enabled:
        raise Conflict("The endpoint is disabled: enable it first", field="id")
    async with in_transaction():
        return await outbox.queue_webhook(
            endpoint, "test", {"message": "A test event from AICA", "endpointId": endpoint.id}
        )


async def list_deliveries(
    actor: Actor, endpoint_id: str, status: DeliveryStatus | None, request: PageRequest
) -> Page[Delivery]:
    endpoint = await get_endpoint(actor, endpoint_id)
    query = Delivery.filter(endpoint_id=endpoint.id, kind=DeliveryKind.webhook)
    if status is not None:
        query = query.filter(status=status)
    return await paginate(query.order_by("-created_at", "-id"), request)


async def redeliver(actor: Actor, delivery_id: str) -> Delivery:
    """Send a logged delivery's body again, as a new delivery (a new webhook-id)."""
    actor.require(Role.admin, "manage webhooks")
    old = await Delivery.get_or_none(
        pk=delivery_id, org_id=actor.org_id, kind=DeliveryKind.webhook
    ).select_related("endpoint")
    if old is None or old.endpoint is None:
        raise NotFound.of("Webhook delivery")
    if not old.endpoint.enabled:
        raise Conflict("The endpoint is disabled: enable it first", field="id")
    async with in_transaction():
        return await outbox.queue_webhook(old.endpoint, old.event, old.payload["data"])

"""Outgoing webhook endpoints and their delivery log (admins and owners)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from aica import models
from aica.graphql.context import Info
from aica.graphql.types.pages import Paginated
from aica.services import webhooks
from aica.services.pagination import PageRequest


@strawberry.type
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    events: list[str] = strawberry.field(
        description="record.completed, record.failed, analysis.completed, alert.triggered."
    )
    project_id: strawberry.ID | None = strawberry.field(
        description="Null: events of every project of the org."
    )
    enabled: bool
    disabled_reason: str | None = strawberry.field(
        description="Why the service disabled it (deliveries kept failing, or 410 Gone)."
    )
    secret: str | None = strawberry.field(
        description="whsec_... signing secret (Standard Webhooks); only in the answer that "
        "creates the endpoint."
    )
    created_at: datetime

    @classmethod
    def from_model(
        cls, endpoint: models.WebhookEndpoint, *, secret: bool = False
    ) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(endpoint.id),
            url=endpoint.url,
            events=list(endpoint.events),
            project_id=strawberry.ID(endpoint.project_id) if endpoint.project_id else None,
            enabled=endpoint.enabled,
            disabled_reason=endpoint.disabled_reason,
            secret=endpoint.secret if secret else None,
            created_at=endpoint.created_at,
        )


@strawberry.input
class WebhookEndpointInput:
    url: str | None = None
    events: list[str] | None = None
    project_id: strawberry.ID | None = None
    enabled: bool | None = None

    def changes(self) -> webhooks.EndpointChanges:
        return webhooks.EndpointChanges(self.url, self.events, self.project_id, self.enabled)


@strawberry.type
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(description="Sent as webhook-id; kept across retries.")
    endpoint_id: strawberry.ID
    event: str
    status: models.DeliveryStatus
    attempts: int
    response_status: int | None
    latency_ms: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def from_model(cls, delivery: models.Delivery) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(delivery.id),
            endpoint_id=strawberry.ID(delivery.endpoint_id or ""),
            event=delivery.event,
            status=delivery.status,
            attempts=delivery.attempts,
            response_status=delivery.response_status,
            latency_ms=delivery.latency_ms,
            last_error=delivery.last_error,
            created_at=delivery.created_at,
            finished_at=delivery.finished_at,
        )


@strawberry.type
class WebhookQueries:
    @strawberry.field
    async def webhook_endpoints(
        self, info: Info, page: int = 1, page_size: int = 20
    ) -> Paginated[WebhookEndpoint]:
        actor = await info.context.actor()
        result = await webhooks.list_endpoints(actor, PageRequest(page, page_size))
        return Paginated.of(result, WebhookEndpoint.from_model)

    @strawberry.field(description="An endpoint's deliveries, newest first.")
    async def webhook_deliveries(
        self,
        info: Info,
        endpoint_id: strawberry.ID,
        status: models.DeliveryStatus | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> Paginated[WebhookDelivery]:
        actor = await info.context.actor()
        request = PageRequest(page, page_size)
        result = await webhooks.list_deliveries(actor, endpoint_id, status, request)
        return Paginated.of(result, WebhookDelivery.from_model)


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(description="The answer carries the signing secret, once.")
    async def create_webhook_endpoint(
        self, info: Info, input: WebhookEndpointInput
    ) -> WebhookEndpoint:
        actor = await info.context.actor()
        endpoint = await webhooks.create_endpoint(actor, info.context.settings, input.changes())
        return WebhookEndpoint.from_model(endpoint, secret=True)

    @strawberry.mutation(description="Change the URL, events or project; enable it again.")
    async def update_webhook_endpoint(
        self, info: Info, id: strawberry.ID, input: WebhookEndpointInput
    ) -> WebhookEndpoint:
        actor = await info.context.actor()
        changes = input.changes()
        endpoint = await webhooks.update_endpoint(actor, info.context.settings, id, changes)
        return WebhookEndpoint.from_model(endpoint)

    @strawberry.mutation
    async def delete_webhook_endpoint(self, info: Info, id: strawberry.ID) -> WebhookEndpoint:
        actor = await info.context.actor()
        return WebhookEndpoint.from_model(await webhooks.delete_endpoint(actor, id))

    @strawberry.mutation(description="Send a signed test event through the delivery path.")
    async def send_test_webhook(self, info: Info, id: strawberry.ID) -> WebhookDelivery:
        actor = await info.context.actor()
        return WebhookDelivery.from_model(await webhooks.send_test(actor, id))

    @strawberry.mutation(description="Send a logged delivery's event again (a new delivery).")
    async def redeliver_webhook(self, info: Info, delivery_id: strawberry.ID) -> WebhookDelivery:
        actor = await info.context.actor()
        return WebhookDelivery.from_model(await webhooks.redeliver(actor, delivery_id))

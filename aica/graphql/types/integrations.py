"""Bitrix24 telephony: the portal connection and the call-end events it posts."""

from __future__ import annotations

from datetime import datetime

import strawberry

from aica import models
from aica.graphql.context import Info
from aica.graphql.scalars import JSON
from aica.graphql.types.records import Record
from aica.services import bitrix24
from aica.services.downloads import AddressPolicy

strawberry.enum(models.MissedCalls, name="MissedCalls")


@strawberry.type
class Bitrix24Connection:
    id: strawberry.ID
    project_id: strawberry.ID
    domain: str
    has_rest_url: bool
    missed_calls: models.MissedCalls
    created_at: datetime

    @classmethod
    def from_model(cls, connection: models.Bitrix24Connection) -> Bitrix24Connection:
        return cls(
            id=strawberry.ID(connection.id),
            project_id=strawberry.ID(connection.project_id),
            domain=connection.domain,
            has_rest_url=bool(connection.rest_url),
            missed_calls=models.MissedCalls(connection.missed_calls),
            created_at=connection.created_at,
        )


@strawberry.input
class Bitrix24ConnectionInput:
    project_id: strawberry.ID
    domain: str
    application_token: str
    rest_url: str = strawberry.field(
        description=(
            "An inbound webhook of the portal (https://<domain>/rest/<user>/<secret>/): it "
            "proves the portal is yours (app.info must answer) and fetches recordings."
        ),
    )
    missed_calls: models.MissedCalls = models.MissedCalls.skip


@strawberry.type
class IntegrationQueries:
    @strawberry.field
    async def bitrix24_connections(self, info: Info) -> list[Bitrix24Connection]:
        actor = await info.context.actor()
        return [Bitrix24Connection.from_model(c) for c in await bitrix24.list_connections(actor)]


@strawberry.type
class IntegrationMutations:
    @strawberry.mutation(description="Connect a Bitrix24 portal (one organization per portal).")
    async def save_bitrix24_connection(
        self, info: Info, input: Bitrix24ConnectionInput
    ) -> Bitrix24Connection:
        actor = await info.context.actor()
        connection = await bitrix24.save_connection(
            actor,
            project_id=input.project_id,
            domain=input.domain,
            application_token=input.application_token,
            rest_url=input.rest_url,
            missed_calls=models.MissedCalls(input.missed_calls),
            policy=AddressPolicy.from_settings(info.context.settings),
        )
        return Bitrix24Connection.from_model(connection)

    @strawberry.mutation
    async def delete_bitrix24_connection(self, info: Info, id: strawberry.ID) -> Bitrix24Connection:
        actor = await info.context.actor()
        return Bitrix24Connection.from_model(await bitrix24.delete_connection(actor, id))

    @strawberry.mutation(
        description=(
            "A Bitrix24 ONVOXIMPLANTCALLEND event as Bitrix24 posts it; authenticated by its "
            "auth.application_token, not a bearer token. Null when a missed call is skipped."
        )
    )
    async def ingest_bitrix24_event(self, info: Info, event: JSON) -> Record | None:
        record = await bitrix24.ingest_event(info.context.runtime.events, event)
        # Authenticated by an app token, not a member: nothing beyond the phone's mask.
        return Record.from_model(record, mask_phone=True) if record else None

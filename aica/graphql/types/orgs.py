"""Organisations and the caller's own account."""

from __future__ import annotations

from datetime import datetime

import strawberry

from aica import models
from aica.graphql.context import Info
from aica.services import orgs


@strawberry.type
class Org:
    id: strawberry.ID
    name: str
    created_at: datetime

    @classmethod
    def from_model(cls, org: models.Org) -> Org:
        return cls(id=strawberry.ID(org.id), name=org.name, created_at=org.created_at)


@strawberry.type
class OrgQueries:
    @strawberry.field(description="Organizations the caller belongs to.")
    async def orgs(self, info: Info) -> list[Org]:
        principal = await info.context.principal()
        return [Org.from_model(org) for org in await orgs.orgs_of(principal)]


@strawberry.type
class OrgMutations:
    @strawberry.mutation(description="Create an organization owned by the caller.")
    async def create_org(self, info: Info, name: str) -> Org:
        principal = await info.context.principal()
        principal.require_personal("create organizations")
        return Org.from_model(await orgs.create_org(name, principal.user_id))

"""Who is acting, in which org, with which role; and the checks every service shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from tortoise.expressions import Q
from tortoise.models import Model

from aica.errors import Forbidden, NotFound
from aica.models import Role


@dataclass(frozen=True, slots=True)
class Actor:
    """A member acting inside one org (service tokens act as the member who created them)."""

    user_id: str
    org_id: str
    role: Role
    agent_name: str | None = None
    agent_external_id: str | None = None

    def at_least(self, role: Role) -> bool:
        return self.role.rank >= role.rank

    def require(self, role: Role, action: str) -> None:
        if not self.at_least(role):
            raise Forbidden(f"Only {role.value}s and above can {action}", requiredRole=role.value)

    @property
    def is_agent(self) -> bool:
        return self.role is Role.agent

    def owns(self, agent_name: str | None, agent_external_id: str | None) -> bool:
        """Whether a call with this agent identity is this member's own."""
        return bool(
            (self.agent_name and agent_name == self.agent_name)
            or (self.agent_external_id and agent_external_id == self.agent_external_id)
        )

    def own_records(self, via: str = "") -> Q:
        """Records an agent may see: theirs by name or external id; nothing if unlinked.

        ``via`` reaches the record through a relation (``"record__"`` from an analysis).
        """
        none_at_all: dict[str, Any] = {f"{via}pk__in": []}
        q = Q(**none_at_all)
        if self.agent_name:
            q |= Q(**{f"{via}agent_name": self.agent_name})
        if self.agent_external_id:
            q |= Q(**{f"{via}agent_external_id": self.agent_external_id})
        return q


M = TypeVar("M", bound=Model)


async def in_org(actor: Actor, model: type[M], pk: str, what: str) -> M:
    """The actor's org's ``model`` row ``pk``; any other org's is NOT_FOUND, like a missing one."""
    row = await model.get_or_none(pk=pk, org_id=actor.org_id)
    if row is None:
        raise NotFound.of(what)
    return row

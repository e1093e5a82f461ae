"""The per-request context: settings, caller, selected org, DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from aica.config import Settings
from aica.errors import AicaError, BadInput, Unauthenticated
from aica.graphql.dataloaders import Loaders
from aica.runtime import Runtime
from aica.services import auth
from aica.services.access import Actor


@dataclass
class Context:
    runtime: Runtime
    request: Request | WebSocket | None
    response: Response | WebSocket | None
    authorization: str | None
    """The raw bearer token (``Authorization`` header, or ``connection_init`` payload)."""
    selected_org_id: str | None
    loaders: Loaders = field(default_factory=Loaders)
    connection_params: dict[str, object] | None = None
    """Set by strawberry from a WebSocket's ``connection_init`` payload."""
    _principal: auth.Principal | None = None
    _grant: auth.Grant | None = None
    """The token read with the caller's membership in the selected org (one query)."""
    _actor: Actor | None = None
    _fresh: bool = False

    async def principal(self) -> auth.Principal:
        if self._principal is None:
            self._grant = await auth.grant(
                self.bearer_token(), self.selected_org_id, self.runtime.grants, fresh=self._fresh
            )
            self._principal = self._grant.principal
        return self._principal

    def bearer_token(self) -> str:
        if not self.authorization:
            raise Unauthenticated("Missing bearer token")
        return self.authorization

    async def actor(self) -> Actor:
        """The caller acting in the selected org (``X-Selected-Org-ID``)."""
        if self._actor is None:
            principal = await self.principal()
            org_id = self.selected_org_id or principal.bound_org_id
            if not org_id:
                raise BadInput(
                    "Select an organization with the X-Selected-Org-ID header",
                    field="X-Selected-Org-ID",
                )
            if self._grant is not None:
                self._actor = self._grant.actor_in(org_id)
            else:  # a principal found otherwise (a signed audio link): its membership now
                self._actor = await auth.actor_for(principal, org_id)
        return self._actor

    async def actor_now(self) -> Actor:
        """The caller as the database says now: a socket lives for hours, through token
        revocation, removal from the org and role changes (one indexed read)."""
        self._principal = self._grant = self._actor = None
        self._fresh = True
        return await self.actor()

    async def access_changed(self, user_id: str) -> None:
        """Live sockets of ``user_id`` re-check their caller now, not at their next event, and
        no process goes on trusting what it remembered of them."""
        await auth.access_changed(self.runtime.events, self.runtime.grants, user_id)

    async def close_socket(self, error: AicaError) -> None:
        """End a WebSocket whose caller lost access (4403, as a refused connection_init)."""
        if isinstance(self.request, WebSocket):
            await self.request.close(code=4403, reason=error.message[:120])

    @property
    def settings(self) -> Settings:
        return self.runtime.settings


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


Info = strawberry.Info[Context, None]

"""Members of an org, login, invitations and API tokens."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum

import strawberry

from aica import models
from aica.graphql.context import Info
from aica.graphql.types.pages import Paginated
from aica.services import auth, users
from aica.services.pagination import PageRequest

strawberry.enum(models.Role, name="Role")
strawberry.enum(models.TokenKind, name="TokenKind")


@strawberry.type
class User:
    id: strawberry.ID
    email: str
    name: str
    role: models.Role
    agent_name: str | None
    agent_external_id: str | None
    created_at: datetime

    @classmethod
    def from_member(cls, member: models.Membership) -> User:
        return cls(
            id=strawberry.ID(member.user.id),
            email=member.user.email,
            # An invitee's account may predate the invitation: its name is theirs to show.
            name="" if member.pending else member.user.name,
            role=models.Role(member.role),
            agent_name=member.agent_name,
            agent_external_id=member.agent_external_id,
            created_at=member.created_at,
        )


@strawberry.type
class Invitation:
    user: User
    invite_token: str = strawberry.field(
        description=(
            "One-time token for acceptInvite (it can do nothing else), valid 7 days; hand it "
            "to the invited person. Until they accept, the member is listed but cannot act."
        )
    )


@strawberry.type
class Session:
    id: strawberry.ID = strawberry.field(description="The token's id, as apiTokens lists it.")
    token: str
    user_id: strawberry.ID


@strawberry.type
class ApiToken:
    id: strawberry.ID
    name: str
    kind: models.TokenKind
    org_id: strawberry.ID | None
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime

    @classmethod
    def from_model(cls, token: models.Token) -> ApiToken:
        return cls(
            id=strawberry.ID(token.id),
            name=token.name,
            kind=models.TokenKind(token.kind),
            org_id=strawberry.ID(token.org_id) if token.org_id else None,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
            last_used_at=token.last_used_at,
            created_at=token.created_at,
        )


@strawberry.type
class NewApiToken:
    token: str = strawberry.field(description="Shown once; only its hash is stored.")
    api_token: ApiToken


@strawberry.enum
class CreatableTokenKind(Enum):
    personal = "personal"
    service = "service"


@strawberry.input
class InviteUserInput:
    email: str
    role: models.Role = models.Role.agent
    name: str = ""
    agent_name: str | None = None
    agent_external_id: str | None = None


@strawberry.input
class UpdateUserInput:
    role: models.Role | None = None
    agent_name: str | None = None
    agent_external_id: str | None = None


@strawberry.type
class UserQueries:
    @strawberry.field(description="Members of the selected organization (supervisors and up).")
    async def users(self, info: Info, page: int = 1, page_size: int = 20) -> Paginated[User]:
        actor = await info.context.actor()
        result = await users.list_members(actor, PageRequest(page, page_size))
        return Paginated.of(result, User.from_member)

    @strawberry.field
    async def user(self, info: Info, id: strawberry.ID) -> User:
        actor = await info.context.actor()
        return User.from_member(await users.get_member(actor, id))

    @strawberry.field(description="The caller's active API tokens.")
    async def api_tokens(self, info: Info) -> list[ApiToken]:
        principal = await info.context.principal()
        return [ApiToken.from_model(t) for t in await auth.list_tokens(principal)]


@strawberry.type
class UserMutations:
    @strawberry.mutation(description="Exchange email and password for a session token.")
    async def login(self, info: Info, email: str, password: str) -> Session:
        ttl = timedelta(hours=info.context.settings.session_token_ttl_hours)
        raw, token = await auth.login(email, password, ttl)
        return Session(id=strawberry.ID(token.id), token=raw, user_id=strawberry.ID(token.user_id))

    @strawberry.mutation(
        description=(
            "Join the organization with the invitation token as bearer. A new account sets "
            "its password here; an account that belongs to another organization gives its "
            "current password."
        )
    )
    async def accept_invite(self, info: Info, password: str, name: str | None = None) -> bool:
        user = await users.accept_invite(info.context.bearer_token(), password, name)
        await info.context.access_changed(user.id)  # a new password revokes old tokens
        return True

    @strawberry.mutation
    async def invite_user(self, info: Info, input: InviteUserInput) -> Invitation:
        actor = await info.context.actor()
        invitation = await users.invite(
            actor,
            input.email,
            models.Role(input.role),
            name=input.name,
            agent_name=input.agent_name,
            agent_external_id=input.agent_external_id,
        )
        return Invitation(
            user=User.from_member(invitation.membership), invite_token=invitation.invite_token
        )

    @strawberry.mutation(description="Change a member's role or agent identity.")
    async def update_user(self, info: Info, id: strawberry.ID, input: UpdateUserInput) -> User:
        actor = await info.context.actor()
        member = await users.update_member(
            actor,
            id,
            role=models.Role(input.role) if input.role else None,
            agent_name=input.agent_name,
            agent_external_id=input.agent_external_id,
        )
        await info.context.access_changed(id)
        return User.from_member(member)

    @strawberry.mutation(description="Remove a member from the organization.")
    async def remove_user(self, info: Info, id: strawberry.ID) -> User:
        actor = await info.context.actor()
        member = await users.remove_member(actor, id)
        await info.context.access_changed(id)
        return User.from_member(member)

    @strawberry.mutation
    async def create_api_token(
        self,
        info: Info,
        name: str,
        kind: CreatableTokenKind = CreatableTokenKind.personal,
        org_id: strawberry.ID | None = None,
        expires_in_days: int | None = None,
    ) -> NewApiToken:
        principal = await info.context.principal()
        raw, token = await auth.create_token(
            principal,
            models.TokenKind(kind.value),
            name,
            org_id=org_id,
            expires_in_days=expires_in_days,
        )
        return NewApiToken(token=raw, api_token=ApiToken.from_model(token))

    @strawberry.mutation
    async def revoke_api_token(self, info: Info, id: strawberry.ID) -> ApiToken:
        principal = await info.context.principal()
        token = await auth.revoke_token(principal, id)
        await info.context.access_changed(principal.user_id)
        return ApiToken.from_model(token)

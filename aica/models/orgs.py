"""Tenancy: organisations, users, memberships and API tokens."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from aica.models.base import id_field, new_id


def new_org_id() -> str:
    return new_id("org")


def new_usr_id() -> str:
    return new_id("usr")


def new_mem_id() -> str:
    return new_id("mem")


def new_tok_id() -> str:
    return new_id("tok")


def new_inv_id() -> str:
    return new_id("inv")


class Role(StrEnum):
    """Ordered lowest to highest; ``rank`` compares them."""

    agent = "agent"
    supervisor = "supervisor"
    admin = "admin"
    owner = "owner"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


class TokenKind(StrEnum):
    session = "session"
    personal = "personal"
    service = "service"


class Org(Model):
    id = id_field(new_org_id)
    name = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "orgs"


class User(Model):
    id = id_field(new_usr_id)
    email = fields.CharField(max_length=320, unique=True)
    name = fields.CharField(max_length=200, default="")
    password_hash = fields.CharField(max_length=200, null=True)
    failed_logins = fields.SmallIntField(default=0, db_default=0)
    """Wrong passwords since the last right one; they set ``login_blocked_until``."""
    login_blocked_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"


class Membership(Model):
    id = id_field(new_mem_id)
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="memberships", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="memberships", on_delete=fields.CASCADE
    )
    role = fields.CharEnumField(Role, max_length=16)
    agent_name = fields.CharField(max_length=200, null=True)
    """Links an agent member to the records where they are the agent."""
    agent_external_id = fields.CharField(max_length=200, null=True)
    pending = fields.BooleanField(default=False, db_default=False)
    """Invited but not accepted yet: the member is listed and managed, but grants nothing."""
    created_at = fields.DatetimeField(auto_now_add=True)

    org_id: str
    user_id: str

    class Meta:
        table = "memberships"
        unique_together = (("org", "user"),)


class Invitation(Model):
    """One org's invitation of one account; only its token's holder accepts it.

    Its own row per org, so one org's invitations never touch another's; removing the
    pending member deletes it.
    """

    id = id_field(new_inv_id)
    membership: fields.OneToOneRelation[Membership] = fields.OneToOneField(
        "models.Membership", related_name="invitation", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    accepted_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    membership_id: str

    class Meta:
        table = "invitations"


class Token(Model):
    id = id_field(new_tok_id)
    token_hash = fields.CharField(max_length=64, unique=True)
    kind = fields.CharEnumField(TokenKind, max_length=16)
    name = fields.CharField(max_length=200, default="")
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="tokens", on_delete=fields.CASCADE
    )
    org: fields.ForeignKeyNullableRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="tokens", on_delete=fields.CASCADE, null=True
    )
    """Set for service tokens: they act only inside this org."""
    expires_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    user_id: str
    org_id: str | None

    class Meta:
        table = "tokens"

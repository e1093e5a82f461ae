"""Members of an org: invite, change role, remove; the last owner is protected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from aica.errors import Conflict, Forbidden, NotFound
from aica.models import Membership, Role, Token, TokenKind, User
from aica.services.access import Actor
from aica.services.auth import hash_password, issue_token, normalize_email
from aica.services.pagination import Page, PageRequest, paginate

INVITE_TTL = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Invitation:
    membership: Membership
    invite_token: str | None
    """A one-time token for a user who has no password yet (they set it with acceptInvite)."""


async def list_members(actor: Actor, request: PageRequest) -> Page[Membership]:
    actor.require(Role.supervisor, "list users")
    query = Membership.filter(org_id=actor.org_id).select_related("user").order_by("created_at")
    return await paginate(query, request)


async def get_member(actor: Actor, user_id: str) -> Membership:
    if not actor.at_least(Role.supervisor) and user_id != actor.user_id:
        raise NotFound.of("User")
    member = await Membership.get_or_none(org_id=actor.org_id, user_id=user_id).select_related(
        "user"
    )
    if member is None:
        raise NotFound.of("User")
    return member


def _check_can_grant(actor: Actor, role: Role) -> None:
    actor.require(Role.admin, "manage users")
    if role is Role.owner and actor.role is not Role.owner:
        raise Forbidden("Only owners can make other owners")


async def invite(
    actor: Actor,
    email: str,
    role: Role,
    *,
    name: str = "",
    agent_name: str | None = None,
    agent_external_id: str | None = None,
) -> Invitation:
    _check_can_grant(actor, role)
    email = normalize_email(email)
    async with in_transaction():
        user = await User.get_or_none(email=email)
        if user is None:
            user = await User.create(email=email, name=name.strip()[:200])
        elif await Membership.exists(org_id=actor.org_id, user_id=user.id):
            raise Conflict(f"{email} is already a member of this organization")
        member = await Membership.create(
            org_id=actor.org_id,
            user=user,
            role=role,
            agent_name=_clean(agent_name),
            agent_external_id=_clean(agent_external_id),
        )
    token = None
    # The token goes to this org's admin: it sets the account's password, so it must only
    # exist while the account belongs to this org alone. Joining a second org spends any
    # invitation still open (an earlier org's admin would otherwise hold a key to this one).
    if user.password_hash is None:
        if await _in_other_orgs(user.id, actor.org_id):
            await _revoke_invitations(user.id)
        else:
            token, _ = await issue_token(
                user.id, TokenKind.invite, org_id=actor.org_id, name="invite", ttl=INVITE_TTL
            )
    return Invitation(member, token)


async def _in_other_orgs(user_id: str, org_id: str | None) -> bool:
    return await Membership.filter(user_id=user_id).exclude(org_id=org_id).exists()


async def _revoke_invitations(user_id: str) -> None:
    await Token.filter(user_id=user_id, kind=TokenKind.invite, revoked_at=None).update(
        revoked_at=datetime.now(UTC)
    )


async def accept_invite(
    user_id: str, token_id: str, org_id: str | None, password: str, name: str | None
) -> User:
    """Set the password once; the invitation token (bound to ``org_id``) is spent."""
    user = await User.get(pk=user_id)
    if user.password_hash is not None:
        raise Conflict("This account already has a password")
    if org_id is None or await _in_other_orgs(user_id, org_id):
        await _revoke_invitations(user_id)
        raise Forbidden(
            "This invitation is no longer valid: the account belongs to another organization"
        )
    user.password_hash = hash_password(password)
    if name:
        user.name = name.strip()[:200]
    async with in_transaction():
        await user.save(update_fields=["password_hash", "name"])
        await Token.filter(pk=token_id).update(revoked_at=datetime.now(UTC))
    return user


async def update_member(
    actor: Actor,
    user_id: str,
    *,
    role: Role | None = None,
    agent_name: str | None = None,
    agent_external_id: str | None = None,
) -> Membership:
    actor.require(Role.admin, "manage users")
    async with in_transaction():
        member = await _locked_member(actor, user_id)
        if role is not None and role is not member.role:
            _check_can_grant(actor, role)
            if member.role is Role.owner:
                if actor.role is not Role.owner:
                    raise Forbidden("Only owners can change an owner's role")
                await _ensure_not_last_owner(actor.org_id, "demote")
            member.role = role
        if agent_name is not None:
            member.agent_name = _clean(agent_name)
        if agent_external_id is not None:
            member.agent_external_id = _clean(agent_external_id)
        await member.save()
    return await get_member(actor, user_id)


async def remove_member(actor: Actor, user_id: str) -> Membership:
    if user_id != actor.user_id:
        actor.require(Role.admin, "remove users")
    async with in_transaction():
        member = await _locked_member(actor, user_id)
        if member.role is Role.owner:
            if actor.role is not Role.owner:
                raise Forbidden("Only owners can remove an owner")
            await _ensure_not_last_owner(actor.org_id, "remove")
        await member.fetch_related("user")
        await member.delete()
    return member


async def _locked_member(actor: Actor, user_id: str) -> Membership:
    member = (
        await Membership.select_for_update().filter(org_id=actor.org_id, user_id=user_id).first()
    )
    if member is None:
        raise NotFound.of("User")
    member.role = Role(member.role)
    return member


async def _ensure_not_last_owner(org_id: str, verb: str) -> None:
    """Lock every owner row so two concurrent demotions cannot both pass the count."""
    owners = await Membership.select_for_update().filter(org_id=org_id, role=Role.owner)
    if len(owners) <= 1:
        raise Conflict(f"Cannot {verb} the last owner of the organization")


def _clean(value: str | None) -> str | None:
    """Blank clears an agent link."""
    value = (value or "").strip()[:200]
    return value or None

"""Members of an org: invite and accept, change role, remove; the last owner is protected."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from aica import models
from aica.errors import Conflict, Forbidden, NotFound, Unauthenticated
from aica.models import AuditAction, Membership, Role, Token, User
from aica.services import audit
from aica.services.access import Actor
from aica.services.auth import check_password, hash_token, normalize_email
from aica.services.pagination import Page, PageRequest, paginate
from aica.services.passwords import hash_password

INVITE_TTL = timedelta(days=7)
INVITE_TOKEN_PREFIX = "aica_it_"


@dataclass(frozen=True, slots=True)
class Invitation:
    membership: Membership
    invite_token: str
    """One-time, good only for acceptInvite; shown once to the inviting admin."""


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
    """A pending member of this org and its invitation; no other org's rows are touched.

    The answer is the same whether or not the address already has an account elsewhere.
    """
    _check_can_grant(actor, role)
    email = normalize_email(email)
    raw = INVITE_TOKEN_PREFIX + secrets.token_urlsafe(32)
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
            pending=True,
        )
        await models.Invitation.create(
            membership=member,
            token_hash=hash_token(raw),
            expires_at=datetime.now(UTC) + INVITE_TTL,
        )
    return Invitation(member, raw)


async def accept_invite(raw_token: str, password: str, name: str | None) -> User:
    """The token's holder joins the org; whether they may also set the password depends.

    The token went to the inviting org's admin, so it may set the password only of an
    account that belongs to no other org (every other credential of it is then revoked).
    An account active elsewhere joins by its current password, never by the token alone.
    """
    invitation = await models.Invitation.get_or_none(
        token_hash=hash_token(raw_token)
    ).select_related("membership__user")
    now = datetime.now(UTC)
    if invitation is None or invitation.accepted_at is not None or invitation.expires_at <= now:
        raise Unauthenticated("This invitation is not valid: used, expired or withdrawn")
    member = invitation.membership
    user = member.user
    elsewhere = Membership.filter(user_id=user.id, pending=False).exclude(org_id=member.org_id)
    new_hash = None
    if await elsewhere.exists():
        await check_password(user, password)
    else:
        new_hash = await hash_password(password)
    async with in_transaction():
        if not await models.Invitation.filter(pk=invitation.pk, accepted_at=None).update(
            accepted_at=now
        ):
            raise Unauthenticated("This invitation is not valid: used, expired or withdrawn")
        await Membership.filter(pk=member.pk).update(pending=False)
        if name and name.strip():
            user.name = name.strip()[:200]
            await user.save(update_fields=["name"])
        if new_hash is not None:
            await _replace_password(user.id, new_hash)
    return user


async def set_password(email: str, password: str) -> User:
    """For operators (there is no e-mail yet): a new password, and every old token revoked."""
    user = await User.get_or_none(email=normalize_email(email))
    if user is None:
        raise NotFound.of("User")
    new_hash = await hash_password(password)
    async with in_transaction():
        await _replace_password(user.id, new_hash)
    return user


async def _replace_password(user_id: str, password_hash: str) -> None:
    """Whoever held the account's old password or tokens holds nothing any more."""
    await User.filter(pk=user_id).update(
        password_hash=password_hash, failed_logins=0, login_blocked_until=None
    )
    await Token.filter(user_id=user_id, revoked_at=None).update(revoked_at=datetime.now(UTC))


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
                await _ensure_not_last_owner(member, "demote")
            await audit.by(
                actor,
                AuditAction.member_role_changed,
                target_id=user_id,
                detail={"from": member.role.value, "to": role.value},
            )
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
            await _ensure_not_last_owner(member, "remove")
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


async def _ensure_not_last_owner(member: Membership, verb: str) -> None:
    """Lock every owner row so two concurrent demotions cannot both pass the count.

    Invited owners who have not accepted do not count: they cannot run the org yet.
    """
    if member.pending:
        return
    owners = await Membership.select_for_update().filter(
        org_id=member.org_id, role=Role.owner, pending=False
    )
    if len(owners) <= 1:
        raise Conflict(f"Cannot {verb} the last owner of the organization")


def _clean(value: str | None) -> str | None:
    """Blank clears an agent link."""
    value = (value or "").strip()[:200]
    return value or None


async def member_emails(org_id: str, *roles: Role) -> list[str]:
    """Addresses of the org's members in ``roles`` who have accepted (whom to notify)."""
    members = Membership.filter(org_id=org_id, role__in=roles, pending=False)
    return sorted({m.user.email for m in await members.prefetch_related("user")})

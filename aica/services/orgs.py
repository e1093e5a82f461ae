"""Organisations and the first owner of each."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.transactions import in_transaction

from aica.errors import BadInput
from aica.models import Membership, Org, Role, TokenKind, User
from aica.services.auth import Principal, issue_token, normalize_email
from aica.services.passwords import hash_password

FIRST_START_LOCK = 0x61696361_626F6F74  # "aicaboot": the advisory lock key of the first start


@dataclass(frozen=True, slots=True)
class Bootstrapped:
    org: Org
    user: User
    token: str


async def create_org(name: str, owner_id: str) -> Org:
    name = name.strip()
    if not name:
        raise BadInput("Organization name must not be empty", field="name")
    async with in_transaction():
        org = await Org.create(name=name[:200])
        await Membership.create(org=org, user_id=owner_id, role=Role.owner)
    return org


async def bootstrap(org_name: str, email: str, password: str | None = None) -> Bootstrapped:
    """Create an org with ``email`` as owner (creating the user if new) and a personal token.

    Run again with the same email, it adds another org owned by the same user.
    """
    email = normalize_email(email)
    user = await User.get_or_none(email=email)
    if user is None:
        user = await User.create(
            email=email, password_hash=await hash_password(password) if password else None
        )
    elif password:
        user.password_hash = await hash_password(password)
        await user.save(update_fields=["password_hash"])
    org = await create_org(org_name, user.id)
    raw, _ = await issue_token(user.id, TokenKind.personal, name="bootstrap")
    return Bootstrapped(org, user, raw)


async def bootstrap_if_empty(org_name: str, email: str) -> Bootstrapped | None:
    """The first start's org and owner, on an empty database only.

    Once, however many API processes start on it at the same moment: each asks under a
    transaction-scoped advisory lock, so the others see the first one's org.
    """
    async with in_transaction() as connection:
        await connection.execute_query("SELECT pg_advisory_xact_lock($1)", [FIRST_START_LOCK])
        if await Org.exists():
            return None
        return await bootstrap(org_name, email)


async def orgs_of(principal: Principal) -> list[Org]:
    """Where the caller is a member (a service token: its own org only); invitations not yet
    accepted do not count."""
    query = Org.filter(memberships__user_id=principal.user_id, memberships__pending=False)
    if principal.bound_org_id is not None:
        query = query.filter(id=principal.bound_org_id)
    return await query.order_by("created_at")

"""Login and opaque bearer tokens (stored as SHA-256 hashes)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cachetools import TTLCache
from tortoise import Tortoise
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from aica.errors import BadInput, Forbidden, NotFound, Unauthenticated
from aica.events import (
    ACCESS_ANY,
    ACCESS_CHANGED,
    Broadcaster,
    access_channel,
    publish_safely,
)
from aica.models import AuditAction, Membership, Role, Token, TokenKind, User
from aica.services import audit
from aica.services.access import Actor
from aica.services.passwords import verify_password

TOKEN_PREFIX = {
    TokenKind.session: "aica_st_",
    TokenKind.personal: "aica_pt_",
    TokenKind.service: "aica_sk_",
}
_LAST_USED_RESOLUTION = timedelta(minutes=5)
MAX_TOKEN_DAYS = 3650
FREE_FAILURES = 5
"""Wrong passwords an account takes before each further one makes it wait."""
FIRST_WAIT = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=15)
LOGIN_FAILED = "Wrong email or password (after repeated failures, wait a few minutes)"


def hash_token(raw: str) -> str:
    """Tokens carry 256 random bits, so a fast hash is enough (no dictionary to attack)."""
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller, before an org is chosen."""

    user_id: str
    token_id: str
    kind: TokenKind
    bound_org_id: str | None

    def require_personal(self, action: str) -> None:
        """Service tokens act inside their org only: they cannot reach the account."""
        if self.kind is TokenKind.service:
            raise Forbidden(f"A service token cannot {action}; use a personal or session token")


async def issue_token(
    user_id: str,
    kind: TokenKind,
    *,
    org_id: str | None = None,
    name: str = "",
    ttl: timedelta | None = None,
) -> tuple[str, Token]:
    """Create a token and return the raw value (shown once) with its row."""
    raw = TOKEN_PREFIX[kind] + secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + ttl if ttl else None
    token = await Token.create(
        token_hash=hash_token(raw),
        kind=kind,
        name=name,
        user_id=user_id,
        org_id=org_id,
        expires_at=expires_at,
    )
    return raw, token


@dataclass(frozen=True, slots=True)
class Grant:
    """A token in force and its membership in one org (None: not a member there)."""

    principal: Principal
    expires_at: datetime | None
    member: Actor | None

    def actor_in(self, org_id: str) -> Actor:
        _check_bound(self.principal, org_id)
        if self.member is None or self.member.org_id != org_id:
            raise Forbidden("You are not a member of this organization")
        return self.member


Grants = TTLCache[Hashable, Grant]
"""Grants a process found lately, by token hash and by token hash and org (``Runtime``)."""


_GRANT = """
SELECT t.id, t.user_id, t.kind, t.org_id, t.expires_at, t.revoked_at, t.last_used_at,
       m.org_id AS member_org_id, m.role, m.agent_name, m.agent_external_id
FROM tokens t
LEFT JOIN memberships m
       ON m.user_id = t.user_id AND m.org_id = COALESCE($2::text, t.org_id) AND NOT m.pending
WHERE t.token_hash = $1
"""


async def grant(raw: str, org_id: str | None, grants: Grants, *, fresh: bool = False) -> Grant:
    """The token and its membership in ``org_id`` (else in the org it is bound to) in one
    query, then from ``grants`` for its few seconds; :func:`forget` ends them at once.
    ``fresh`` reads the database whatever is remembered."""
    token_hash = hash_token(raw)
    now = datetime.now(UTC)
    found = None if fresh else grants.get((token_hash, org_id))
    if found is None:
        found = await _load_grant(token_hash, org_id, now)
        grants[(token_hash, org_id)] = grants[token_hash] = found
    elif found.expires_at is not None and found.expires_at <= now:
        raise Unauthenticated("Token has expired")
    return found


async def _load_grant(token_hash: str, org_id: str | None, now: datetime) -> Grant:
    db = Tortoise.get_connection("default")
    rows = await db.execute_query_dict(_GRANT, [token_hash, org_id])
    if not rows:
        raise Unauthenticated("Invalid token")
    row = rows[0]
    await _in_force(row["id"], row["revoked_at"], row["expires_at"], row["last_used_at"], now)
    member = None
    if row["role"] is not None:
        member = Actor(
            user_id=row["user_id"],
            org_id=row["member_org_id"],
            role=Role(row["role"]),
            agent_name=row["agent_name"],
            agent_external_id=row["agent_external_id"],
        )
    principal = Principal(row["user_id"], row["id"], TokenKind(row["kind"]), row["org_id"])
    return Grant(principal, row["expires_at"], member)


async def principal_of(token: Token) -> Principal:
    """The token's holder, if the token is still in force (revocation and expiry)."""
    now = datetime.now(UTC)
    await _in_force(token.pk, token.revoked_at, token.expires_at, token.last_used_at, now)
    return Principal(token.user_id, token.id, TokenKind(token.kind), token.org_id)


async def _in_force(
    token_id: str,
    revoked_at: datetime | None,
    expires_at: datetime | None,
    last_used_at: datetime | None,
    now: datetime,
) -> None:
    if revoked_at is not None:
        raise Unauthenticated("Token has been revoked")
    if expires_at is not None and expires_at <= now:
        raise Unauthenticated("Token has expired")
    if last_used_at is None or now - last_used_at > _LAST_USED_RESOLUTION:
        await Token.filter(pk=token_id).update(last_used_at=now)


def forget(grants: Grants, user_id: str) -> None:
    """Drop what is remembered of ``user_id``'s tokens: their access may have shrunk."""
    for key, found in list(grants.items()):
        if found.principal.user_id == user_id:
            grants.pop(key, None)


async def access_changed(events: Broadcaster, grants: Grants | None, user_id: str) -> None:
    """``user_id``'s access may have shrunk: forget their grants here at once, tell every
    other process to (the ``access`` channel), and their live sockets to re-check."""
    if grants is not None:
        forget(grants, user_id)
    await publish_safely(events, access_channel(user_id), ACCESS_CHANGED)
    await publish_safely(events, ACCESS_ANY, {"userId": user_id})


async def forget_when_told(events: Broadcaster, grants: Grants) -> None:
    """Runs for the life of an API process: other processes' access changes (events)."""
    async for message in events.subscribe(ACCESS_ANY):
        user_id = message.get("userId")
        if isinstance(user_id, str):
            forget(grants, user_id)


async def is_live(raw: str, grants: Grants) -> bool:
    """Whether ``raw`` is a token in force (remembered, or one indexed read), for the rate
    limiter."""
    now = datetime.now(UTC)
    found = grants.get(hash_token(raw))
    if found is not None:
        return found.expires_at is None or found.expires_at > now
    in_force = Q(expires_at=None) | Q(expires_at__gt=now)
    return await Token.filter(in_force, token_hash=hash_token(raw), revoked_at=None).exists()


def _check_bound(principal: Principal, org_id: str) -> None:
    if principal.bound_org_id is not None and principal.bound_org_id != org_id:
        raise Forbidden("This token is bound to another organization")


async def actor_for(principal: Principal, org_id: str) -> Actor:
    """The principal acting in ``org_id``; not a member (or a token bound elsewhere) is 403."""
    _check_bound(principal, org_id)
    membership = await Membership.get_or_none(
        org_id=org_id, user_id=principal.user_id, pending=False
    )
    if membership is None:
        raise Forbidden("You are not a member of this organization")
    return Actor(
        user_id=membership.user_id,
        org_id=membership.org_id,
        role=Role(membership.role),
        agent_name=membership.agent_name,
        agent_external_id=membership.agent_external_id,
    )


async def login(email: str, password: str, ttl: timedelta) -> tuple[str, Token]:
    """Every failure answers alike and costs alike: nobody learns which addresses exist."""
    user = await User.get_or_none(email=normalize_email(email))
    await check_password(user, password)
    assert user is not None  # check_password refuses a missing account
    return await issue_token(user.id, TokenKind.session, ttl=ttl)


async def check_password(user: User | None, password: str) -> None:
    """Verify ``user``'s password, counting failures; a waiting account is refused unchecked."""
    now = datetime.now(UTC)
    if user is None or (user.login_blocked_until or now) > now:
        await verify_password(None, password)  # the same cost as any other answer
        raise Unauthenticated(LOGIN_FAILED)
    if not await verify_password(user.password_hash, password):
        await _count_failure(user.pk, now)
        raise Unauthenticated(LOGIN_FAILED)
    if user.failed_logins:
        await User.filter(pk=user.pk).update(failed_logins=0, login_blocked_until=None)


async def _count_failure(user_id: str, now: datetime) -> None:
    """Counted in the database, so the back-off holds across every API process."""
    await User.filter(pk=user_id).update(failed_logins=F("failed_logins") + 1)
    beyond = (await User.get(pk=user_id)).failed_logins - FREE_FAILURES
    if beyond > 0:
        wait = min(FIRST_WAIT * 2 ** min(beyond - 1, 10), LONGEST_WAIT)
        await User.filter(pk=user_id).update(login_blocked_until=now + wait)


async def create_token(
    principal: Principal,
    kind: TokenKind,
    name: str,
    *,
    org_id: str | None,
    expires_in_days: int | None,
) -> tuple[str, Token]:
    """Personal tokens act as the user everywhere; service tokens only inside one org."""
    principal.require_personal("create tokens")
    if kind is TokenKind.session:
        raise BadInput("Session tokens are not created this way", field="kind")
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        raise BadInput(
            f"expiresInDays must be between 1 and {MAX_TOKEN_DAYS}", field="expiresInDays"
        )
    if not name.strip() or len(name) > 200:
        raise BadInput("Token name must be 1-200 characters", field="name")
    if not name.isprintable():
        raise BadInput("Token name must not contain control characters", field="name")
    if kind is TokenKind.personal and org_id is not None:
        raise BadInput("orgId applies to service tokens only", field="orgId")
    if kind is TokenKind.service:
        if org_id is None:
            raise BadInput("A service token needs an organization", field="orgId")
        actor = await actor_for(principal, org_id)
        actor.require(Role.admin, "create service tokens")
    ttl = timedelta(days=expires_in_days) if expires_in_days is not None else None
    async with in_transaction():
        raw, token = await issue_token(principal.user_id, kind, org_id=org_id, name=name, ttl=ttl)
        await audit.write(
            org_id,
            principal.user_id,
            AuditAction.token_created,
            target_id=token.id,
            detail={"kind": kind.value},
        )
    return raw, token


async def revoke_token(principal: Principal, token_id: str) -> Token:
    principal.require_personal("revoke tokens")
    token = await Token.get_or_none(pk=token_id, user_id=principal.user_id)
    if token is None:
        raise NotFound.of("Token")
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        async with in_transaction():
            await token.save(update_fields=["revoked_at"])
            await audit.write(
                token.org_id,
                principal.user_id,
                AuditAction.token_revoked,
                target_id=token.id,
                detail={"kind": str(token.kind)},
            )
    return token


async def list_tokens(principal: Principal) -> list[Token]:
    principal.require_personal("list tokens")
    return await Token.filter(user_id=principal.user_id, revoked_at=None).order_by("-created_at")


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 320 or any(c.isspace() for c in email):
        raise BadInput(f"Not a valid email address: {email!r}", field="email")
    return email

"""Passwords (argon2) and opaque bearer tokens (stored as SHA-256 hashes)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from aica.errors import BadInput, Forbidden, NotFound, Unauthenticated
from aica.models import Membership, Role, Token, TokenKind, User
from aica.services.access import Actor

_hasher = PasswordHasher()

TOKEN_PREFIX = {
    TokenKind.session: "aica_st_",
    TokenKind.personal: "aica_pt_",
    TokenKind.service: "aica_sk_",
    TokenKind.invite: "aica_it_",
}
_LAST_USED_RESOLUTION = timedelta(minutes=5)
MAX_TOKEN_DAYS = 3650


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise BadInput("Password must be at least 8 characters", field="password")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


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


async def authenticate(raw: str, *, invite: bool = False) -> Principal:
    """The token's principal; invite tokens only where ``invite`` (accepting the invitation)."""
    token = await Token.get_or_none(token_hash=hash_token(raw))
    now = datetime.now(UTC)
    if token is None:
        raise Unauthenticated("Invalid token")
    if (token.kind == TokenKind.invite) != invite:
        raise Unauthenticated(
            "An invitation token only accepts the invitation"
            if not invite
            else "Accept an invitation with the invitation token"
        )
    if token.revoked_at is not None:
        raise Unauthenticated("Token has been revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthenticated("Token has expired")
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
        await Token.filter(pk=token.pk).update(last_used_at=now)
    return Principal(token.user_id, token.id, token.kind, token.org_id)


async def actor_for(principal: Principal, org_id: str) -> Actor:
    """The principal acting in ``org_id``; not a member (or a token bound elsewhere) is 403."""
    if principal.bound_org_id is not None and principal.bound_org_id != org_id:
        raise Forbidden("This token is bound to another organization")
    membership = await Membership.get_or_none(org_id=org_id, user_id=principal.user_id)
    if membership is None:
        raise Forbidden("You are not a member of this organization")
    return Actor(
        user_id=membership.user_id,
        org_id=membership.org_id,
        role=Role(membership.role),
        agent_name=membership.agent_name,
        agent_external_id=membership.agent_external_id,
    )


async def login(email: str, password: str, ttl: timedelta) -> tuple[str, User]:
    user = await User.get_or_none(email=normalize_email(email))
    if user is None or not verify_password(user.password_hash, password):
        raise Unauthenticated("Wrong email or password")
    raw, _ = await issue_token(user.id, TokenKind.session, ttl=ttl)
    return raw, user


async def create_token(
    principal: Principal,
    kind: TokenKind,
    name: str,
    *,
    org_id: str | None,
    expires_in_days: int | None,
) -> tuple[str, Token]:
    """Personal tokens act as the user everywhere; service tokens only inside one org."""
    if kind in (TokenKind.session, TokenKind.invite):
        raise BadInput("Session and invitation tokens are not created this way", field="kind")
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
    return await issue_token(principal.user_id, kind, org_id=org_id, name=name, ttl=ttl)


async def revoke_token(principal: Principal, token_id: str) -> Token:
    token = await Token.get_or_none(pk=token_id, user_id=principal.user_id)
    if token is None:
        raise NotFound.of("Token")
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        await token.save(update_fields=["revoked_at"])
    return token


async def list_tokens(principal: Principal) -> list[Token]:
    return await Token.filter(user_id=principal.user_id, revoked_at=None).order_by("-created_at")


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email or len(email) > 320:
        raise BadInput(f"Not a valid email address: {email!r}", field="email")
    return email

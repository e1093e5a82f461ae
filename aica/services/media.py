"""Signed audio links.

An ``<audio>`` element cannot send a bearer token, and a token in a URL would outlive the
page in logs and history. A link instead carries an HMAC over (record, org, expiry) keyed by
the hash of the caller's token: it opens one record's audio, for a few minutes, and only
while that token is in force and its holder still a member who may see the record.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from aica.errors import Unauthenticated
from aica.models import Token
from aica.services import auth, records
from aica.services.access import Actor

LINK_SECONDS = 15 * 60


def _signature(token_hash: str, record_id: str, org_id: str, expires: int) -> str:
    message = f"audio\n{record_id}\n{org_id}\n{expires}".encode()
    digest = hmac.new(token_hash.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def audio_ticket(
    actor: Actor, principal: auth.Principal, raw_token: str, record_id: str
) -> str:
    """A ticket for ``record_id``'s audio; NOT_FOUND for a record the caller cannot see."""
    await records.get_record(actor, record_id)
    expires = int(time.time()) + LINK_SECONDS
    signature = _signature(auth.hash_token(raw_token), record_id, actor.org_id, expires)
    return f"{principal.token_id}.{actor.org_id}.{expires}.{signature}"


async def redeem(ticket: str, record_id: str) -> tuple[auth.Principal, str]:
    """The caller the ticket was made for and its org, if the token is still in force."""
    parts = ticket.split(".")
    if len(parts) != 4 or not parts[2].isdigit():
        raise Unauthenticated("Malformed audio link")
    token_id, org_id, expires, signature = parts
    if int(expires) < time.time():
        raise Unauthenticated("This audio link has expired; ask for a new one")
    token = await Token.get_or_none(pk=token_id)
    expected = _signature(token.token_hash, record_id, org_id, int(expires)) if token else ""
    if token is None or not hmac.compare_digest(signature, expected):
        raise Unauthenticated("Invalid audio link")
    return await auth.principal_of(token), org_id

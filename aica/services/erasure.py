"""Erasure by data subject: every record of one customer, by phone number or external id.

The phone number is compared in E.164, however it was written (``+1 (555) 123-4567``,
``0015551234567`` and ``15551234567`` are one number), against the record's customer phone and
the phone-like keys of its metadata (``PHONE_KEYS``). The records go through the deletion
service; the outbox rows (webhook and email deliveries) that mention them go in the same
transaction. The audit keeps who erased how many records, when, never the phone or the id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import phonenumbers
from tortoise import Tortoise
from tortoise.transactions import in_transaction

from aica.config import Settings
from aica.errors import BadInput, NotFound
from aica.models import AuditAction, Role
from aica.services import audit, deletion
from aica.services.access import Actor
from aica.services.rows import stored_json
from aica.storage import Storage

PHONE_KEYS = ("phone", "customerPhone", "caller", "callee", "callerPhone", "calleePhone")
"""Metadata keys that may hold the customer's number (uploads and ingest keep unknown keys)."""
_MIN_DIGITS = 7
"""The tail of a number candidates are first found by (then compared in E.164)."""


@dataclass(frozen=True, slots=True)
class Erased:
    record_ids: list[str]


def e164(text: str) -> str | None:
    """The number in E.164, or None when ``text`` is not a possible phone number. Without a
    leading ``+`` or ``00`` the digits are read as starting with the country code."""
    cleaned = text.strip()
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    elif not cleaned.startswith("+"):
        cleaned = "+" + cleaned
    try:
        number = phonenumbers.parse(cleaned, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _subject(phone: str | None, external_id: str | None) -> tuple[str, str]:
    if (phone is None) == (external_id is None):
        raise BadInput("Give exactly one of phone and externalId", field="phone")
    if external_id is not None:
        if not external_id.strip() or len(external_id) > 200:
            raise BadInput("externalId must be 1-200 characters", field="externalId")
        return "externalId", external_id
    number = e164(phone or "") if phone and len(phone) <= 64 else None
    if number is None:
        raise BadInput(
            "phone is not a phone number: write it with its country code, e.g. +15551234567",
            field="phone",
        )
    return "phone", number


async def _matching(org_id: str, by: str, value: str) -> list[str]:
    connection = Tortoise.get_connection("default")
    if by == "externalId":
        rows = await connection.execute_query_dict(
            "SELECT id FROM records WHERE org_id = $1 AND external_id = $2 AND deleting_at IS NULL",
            [org_id, value],
        )
        return sorted(str(r["id"]) for r in rows)
    tail = "%" + value[-_MIN_DIGITS:]
    # Candidates by the number's last digits (any spelling), then compared exactly.
    rows = await connection.execute_query_dict(
        """SELECT id, customer_phone, metadata FROM records
           WHERE org_id = $1 AND deleting_at IS NULL AND (
               regexp_replace(coalesce(customer_phone, ''), '\\D', '', 'g') LIKE $2
               OR CASE WHEN jsonb_typeof(metadata) = 'object' THEN EXISTS (
                      SELECT 1 FROM jsonb_each_text(metadata) AS m(k, v)
                      WHERE m.k = ANY($3::text[])
                        AND regexp_replace(m.v, '\\D', '', 'g') LIKE $2) ELSE false END)""",
        [org_id, tail, list(PHONE_KEYS)],
    )
    return sorted(str(r["id"]) for r in rows if value in _phones(r))


def _phones(row: dict[str, Any]) -> set[str | None]:
    metadata = stored_json(row["metadata"])
    if not isinstance(metadata, dict):
        metadata = {}
    texts = [row["customer_phone"], *(metadata.get(k) for k in PHONE_KEYS)]
    return {e164(t) for t in texts if isinstance(t, str)}


async def erase(
    actor: Actor,
    settings: Settings,
    storage: Storage,
    org_id: str,
    *,
    phone: str | None = None,
    external_id: str | None = None,
) -> Erased:
    """Remove every record of the customer in the org (owners and admins)."""
    if org_id != actor.org_id:
        raise NotFound.of("Organization")
    actor.require(Role.admin, "erase customer data")
    by, value = _subject(phone, external_id)
    ids = await _matching(actor.org_id, by, value)
    async with in_transaction() as connection:
        ids = await deletion.mark(settings, ids)
        if ids:
            await connection.execute_query(
                "DELETE FROM deliveries WHERE org_id = $1 AND payload::text LIKE ANY($2::text[])",
                [actor.org_id, [f"%{record_id}%" for record_id in ids]],
            )
        await audit.by(actor, AuditAction.customer_erased, detail={"by": by, "records": len(ids)})
    await deletion.finish(storage, ids)
    return Erased(ids)

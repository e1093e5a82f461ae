"""Bitrix24 telephony: connections, call-end events, and finding the call's recording.

Bitrix24 posts ``ONVOXIMPLANTCALLEND`` without a signature and without the recording; the
event is trusted when its ``auth[application_token]`` matches the portal's saved connection,
and the pipeline asks the portal's REST API for the recording once it is attached.

A connection names its portal, so saving one must prove control of that portal: Bitrix24
has no REST method that confirms an application token, but only the portal's admins can
create an inbound webhook on it, so the webhook (on the portal's own host) must answer a
real ``app.info`` call before anything is saved or any other org's connection is looked at.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from tortoise.exceptions import IntegrityError

from aica.errors import BadInput, Conflict, Unauthenticated
from aica.events import Broadcaster
from aica.models import Bitrix24Connection, MissedCalls, Record, RecordSource, RecordStatus, Role
from aica.services.access import Actor, in_org
from aica.services.downloads import AddressPolicy, DownloadFailed, DownloadUnavailable, post_json
from aica.services.ingest import check_http_url, create_once
from aica.services.projects import get_project
from aica.services.record_fields import check_lengths

CALL_END = "ONVOXIMPLANTCALLEND"
_DOMAIN = re.compile(r"^[a-z0-9.-]+(:\d+)?$")
VERIFY_SECONDS = 10.0


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def save_connection(
    actor: Actor,
    *,
    project_id: str,
    domain: str,
    application_token: str,
    rest_url: str,
    missed_calls: MissedCalls,
    policy: AddressPolicy,
) -> Bitrix24Connection:
    """Create or update the connection of a portal (one org per portal), once the portal
    has answered through ``rest_url``: who cannot prove control learns nothing more."""
    actor.require(Role.admin, "connect Bitrix24")
    await get_project(actor, project_id)
    domain = domain.strip().lower()
    if not _DOMAIN.match(domain):
        raise BadInput(
            "domain must be the portal's host, e.g. company.bitrix24.com", field="domain"
        )
    if len(application_token.strip()) < 8:
        raise BadInput(
            "applicationToken must be the app's token from Bitrix24", field="applicationToken"
        )
    check_http_url(rest_url, "restUrl")
    await _verify_portal(domain, rest_url, policy)
    connection = await Bitrix24Connection.get_or_none(domain=domain)
    if connection is not None and connection.org_id != actor.org_id:
        raise Conflict("This Bitrix24 portal is connected to another organization")
    connection = connection or Bitrix24Connection(org_id=actor.org_id, domain=domain)
    connection.update_from_dict(
        {
            "project_id": project_id,
            "application_token_hash": _hash(application_token.strip()),
            "rest_url": rest_url,
            "missed_calls": missed_calls,
        }
    )
    try:
        await connection.save()
    except IntegrityError:
        raise Conflict("This Bitrix24 portal was connected concurrently") from None
    return connection


async def _verify_portal(domain: str, rest_url: str, policy: AddressPolicy) -> None:
    if (urlsplit(rest_url).netloc or "").lower() != domain:
        raise BadInput(
            f"restUrl must be an inbound webhook of the portal itself (https://{domain}/rest/...)",
            field="restUrl",
        )
    try:
        answer = await post_json(
            rest_url.rstrip("/") + "/app.info", {}, time_limit=VERIFY_SECONDS, policy=policy
        )
    except (DownloadFailed, DownloadUnavailable):
        answer = None
    if not isinstance(answer, dict) or not isinstance(answer.get("result"), dict):
        raise BadInput(
            "The portal did not answer app.info through restUrl: check the inbound webhook",
            field="restUrl",
        )


async def list_connections(actor: Actor) -> list[Bitrix24Connection]:
    actor.require(Role.admin, "see Bitrix24 connections")
    return await Bitrix24Connection.filter(org_id=actor.org_id).order_by("created_at")


async def delete_connection(actor: Actor, connection_id: str) -> Bitrix24Connection:
    actor.require(Role.admin, "disconnect Bitrix24")
    connection = await in_org(actor, Bitrix24Connection, connection_id, "Bitrix24 connection")
    await connection.delete()
    return connection


async def authenticate_event(event: dict[str, Any]) -> Bitrix24Connection:
    auth = event.get("auth")
    auth = auth if isinstance(auth, dict) else {}
    domain = str(auth.get("domain") or "").strip().lower()
    token = str(auth.get("application_token") or "")
    connection = await Bitrix24Connection.get_or_none(domain=domain) if domain else None
    if connection is None or not hmac.compare_digest(
        _hash(token), connection.application_token_hash
    ):
        raise Unauthenticated("Unknown Bitrix24 portal or wrong application token")
    return connection


def _text(data: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = data.get(key)
        if value not in (None, ""):
            return str(value)[:200]
    return None


def _url(value: Any) -> str | None:
    """Recording URLs are long signed links: kept whole (``_text`` cuts at 200)."""
    return str(value)[:4000] if value else None


def _seconds(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


async def ingest_event(events: Broadcaster, event: dict[str, Any]) -> Record | None:
    """Record a finished call; ``None`` for a missed call the connection skips."""
    if not isinstance(event, dict):
        raise BadInput("The event must be an object", field="event")
    if str(event.get("event", "")).upper() != CALL_END:
        raise BadInput(f"Only {CALL_END} events are accepted", field="event")
    connection = await authenticate_event(event)
    data = event.get("data")
    data = data if isinstance(data, dict) else {}
    call_id = _text(data, "CALL_ID")
    if call_id is None:
        raise BadInput("The event has no data[CALL_ID]", field="data.CALL_ID")
    failed_code = _text(data, "CALL_FAILED_CODE") or "200"
    missed = failed_code != "200"
    if missed and connection.missed_calls is MissedCalls.skip:
        return None
    auth = event.get("auth")
    auth = auth if isinstance(auth, dict) else {}
    agent = _text(data, "PORTAL_USER_ID", "ACCOUNT_USER_ID")
    phone = _text(data, "PHONE_NUMBER")
    check_lengths(
        {"externalId": call_id, "agentExternalId": agent, "customerPhone": phone},
        prefix="data.",
        names={
            "externalId": "CALL_ID",
            "agentExternalId": "PORTAL_USER_ID",
            "customerPhone": "PHONE_NUMBER",
        },
    )
    record = Record(
        org_id=connection.org_id,
        source=RecordSource.bitrix24,
        external_id=call_id,
        project_id=connection.project_id,
        agent_external_id=agent,
        customer_phone=phone,
        duration=_seconds(data.get("CALL_DURATION")),
        audio_url=_url(data.get("CALL_RECORD_URL")),
        metadata={
            "bitrix24": {
                "domain": connection.domain,
                "callId": call_id,
                "callType": _text(data, "CALL_TYPE"),
                "callStartDate": _text(data, "CALL_START_DATE"),
                "failedCode": failed_code,
            }
        },
        source_auth={
            "bitrix24ConnectionId": connection.id,
            "clientEndpoint": auth.get("client_endpoint"),
            "accessToken": auth.get("access_token"),
        },
    )
    if missed:
        record.status = RecordStatus.failed
        record.error = f"Missed call (Bitrix24 CALL_FAILED_CODE {failed_code}): no recording"
        record.completed_at = datetime.now(UTC)
    return await create_once(events, record)

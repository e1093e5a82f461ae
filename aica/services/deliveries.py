"""Sending outbox rows: signed webhooks (Standard Webhooks) and email, with retries.

Retried with the configured backoff (plus jitter) on timeouts, connection errors, 5xx, 408
and 429; not on other 4xx or a refused address. A webhook delivery that fails for good
disables its endpoint, with the reason shown on it; a 410 Gone disables it at once.
"""

from __future__ import annotations

import json
import logging
import random
import time
from datetime import UTC, datetime

from standardwebhooks import Webhook

from aica.config import Settings
from aica.models import Delivery, DeliveryKind, DeliveryStatus, WebhookEndpoint
from aica.services import email
from aica.services.downloads import AddressPolicy, DownloadFailed, DownloadUnavailable, post

log = logging.getLogger("aica.deliveries")

_RETRIED_4XX = (408, 429)


class _Failed(Exception):
    """This attempt failed; ``retry`` says whether another may succeed."""

    def __init__(self, reason: str, *, retry: bool, status: int | None = None) -> None:
        super().__init__(reason)
        self.retry = retry
        self.status = status


async def deliver(delivery_id: str, settings: Settings) -> float | None:
    """One attempt at an outbox row: seconds to wait before the next, or None when done."""
    delivery = await Delivery.get_or_none(pk=delivery_id).select_related("endpoint")
    if delivery is None or delivery.status is not DeliveryStatus.pending:
        return None  # sent already (a job re-run after a crash), or its endpoint is gone
    delivery.attempts += 1
    await delivery.save(update_fields=["attempts"])  # a crash mid-attempt still counts
    started = time.perf_counter()
    try:
        if delivery.kind is DeliveryKind.webhook:
            delivery.response_status = await _post(delivery, settings)
        else:
            await email.send(settings, delivery.payload)
    except _Failed as exc:
        return await _failed(delivery, settings, exc, started)
    except Exception as exc:  # SMTP and anything unforeseen: worth another try
        log.warning("delivery %s failed", delivery.id, exc_info=True)
        return await _failed(delivery, settings, _Failed(_reason(exc), retry=True), started)
    delivery.latency_ms = _elapsed_ms(started)
    delivery.status, delivery.last_error = DeliveryStatus.succeeded, None
    delivery.finished_at = datetime.now(UTC)
    await delivery.save()
    return None


async def _post(delivery: Delivery, settings: Settings) -> int:
    endpoint = delivery.endpoint
    if endpoint is None or not endpoint.enabled:
        raise _Failed("the endpoint is disabled", retry=False)
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
    now = datetime.now(UTC)
    headers = {
        "content-type": "application/json",
        "user-agent": "AICA-Webhooks/1",
        "webhook-id": delivery.id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(endpoint.secret).sign(delivery.id, now, body),
    }
    policy = AddressPolicy.from_settings(settings)
    try:
        status = await post(
            endpoint.url,
            body.encode(),
            headers,
            time_limit=settings.webhook_timeout_seconds,
            policy=policy,
        )
    except DownloadUnavailable as exc:
        raise _Failed(str(exc), retry=True) from exc
    except DownloadFailed as exc:
        raise _Failed(exc.message, retry=False) from exc
    if 200 <= status < 300:
        return status
    retry = status >= 500 or status in _RETRIED_4XX
    raise _Failed(f"HTTP {status}", retry=retry, status=status)


async def _failed(
    delivery: Delivery, settings: Settings, exc: _Failed, started: float
) -> float | None:
    delivery.latency_ms = _elapsed_ms(started)
    delivery.response_status = exc.status
    delivery.last_error = str(exc)[:2000]
    schedule = settings.delivery_retry_seconds
    if exc.retry and delivery.attempts <= len(schedule):
        await delivery.save()
        wait = schedule[delivery.attempts - 1]
        return float(wait) * random.uniform(
            1.0, 1.1
        )  # jitter: receivers coming back aren't stampeded
    delivery.status, delivery.finished_at = DeliveryStatus.failed, datetime.now(UTC)
    await delivery.save()
    if delivery.endpoint is not None and (exc.retry or exc.status == 410):
        reason = (
            f"Disabled after delivery {delivery.id} failed "
            f"{delivery.attempts} time(s); last error: {delivery.last_error}"
        )
        await WebhookEndpoint.filter(pk=delivery.endpoint.id, enabled=True).update(
            enabled=False, disabled_reason=reason
        )
    return None


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _reason(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

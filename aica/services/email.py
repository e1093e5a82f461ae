"""Alert emails: written as outbox rows, sent over SMTP (aiosmtplib) by the delivery job."""

from __future__ import annotations

import html
from email.message import EmailMessage
from typing import Any

import aiosmtplib

from aica.config import Settings
from aica.models import AlertFiring, AlertRule, Record


def public_url(settings: Settings) -> str:
    return (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")


def alert_message(
    settings: Settings, rule: AlertRule, firing: AlertFiring, record: Record, to: list[str]
) -> dict[str, Any]:
    """The outbox payload of an alert email: who, subject, plain and HTML bodies."""
    condition = f"{firing.field} {firing.operator} {firing.matched['threshold']}"
    link = f"{public_url(settings)}/api/v1/records/{record.id}"
    facts = [
        ("Rule", rule.name),
        ("Record", record.id),
        ("Agent", record.agent_name or "unknown"),
        ("Quality score", "none" if record.quality_score is None else f"{record.quality_score:g}"),
        ("Matched", f"{firing.field} = {firing.matched['value']} ({condition})"),
    ]
    text = "\n".join(
        [
            f'The alert rule "{rule.name}" matched a call.',
            "",
            *(f"{k}: {v}" for k, v in facts),
            "",
            f"Open the record: {link}",
        ]
    )
    rows = "".join(
        f"<tr><th align=left>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in facts
    )
    body = (
        f"<p>The alert rule <b>{html.escape(rule.name)}</b> matched a call.</p>"
        f"<table>{rows}</table>"
        f'<p><a href="{html.escape(link)}">Open the record</a></p>'
    )
    return {
        "to": to,
        "subject": f"[AICA] {rule.name}: {condition} on {record.agent_name or record.id}",
        "text": text,
        "html": body,
    }


async def send(settings: Settings, message: dict[str, Any]) -> None:
    """Send one outbox email; SMTP errors propagate (the delivery job retries them)."""
    email = EmailMessage()
    email["From"] = settings.smtp_from
    email["To"] = ", ".join(message["to"])
    email["Subject"] = message["subject"]
    email.set_content(message["text"])
    email.add_alternative(message["html"], subtype="html")
    await aiosmtplib.send(
        email,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        use_tls=settings.smtp_security == "tls",
        start_tls=settings.smtp_security == "starttls",
        timeout=settings.webhook_timeout_seconds,
    )

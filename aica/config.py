"""Settings: one object read from the environment (``AICA_*``) and passed down."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from croniter import croniter
from pydantic import BeforeValidator, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _json_list(value: object) -> object:
    """Lists come from the environment as JSON; a bare value is a clear error, not a crash."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise ValueError(f"must be a JSON list, e.g. {json.dumps([value])}") from None
    return value


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, prefix without slashes at either end)."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(
            f"must look like s3://bucket/prefix (or be empty for the data directory), got {url!r}"
        )
    return parts.netloc, parts.path.strip("/")


JsonList = Annotated[list[str], NoDecode, BeforeValidator(_json_list)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AICA_", extra="ignore")

    data_dir: Path = Path("./aica-data")
    """Everything the embedded default keeps: database, audio, staged uploads."""
    database_url: str | None = None
    """``postgres://...`` for an external server; unset starts the embedded one."""
    database_pool_size: int = Field(default=20, ge=1)
    redis_url: str | None = None
    """Set to share rate limits and events across processes."""
    storage_url: str = ""
    """Where recordings live: empty for ``<data dir>/audio``, or ``s3://bucket/prefix`` for
    S3-compatible object storage (credentials and region: the standard AWS variables/files)."""
    s3_endpoint_url: str | None = None
    """An S3 API other than AWS (MinIO, Ceph ...): e.g. ``http://minio:9000``."""
    s3_audio_redirect: bool = False
    """Audio downloads: false proxies Range reads through the API; true answers 307 to a
    short-lived presigned URL (clients must be able to reach the store)."""
    s3_presign_seconds: int = Field(default=300, ge=1, le=7 * 24 * 3600)
    """How long a presigned audio link works."""
    storage_retry_seconds: float = Field(default=30, gt=0)
    """A pipeline job that found the object store unreachable runs again after this long
    (without counting an attempt)."""
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_format: Literal["json", "text"] | None = None
    """Log lines on stderr; unset: text on a terminal, JSON otherwise (a file, a collector)."""

    rate_limit_per_minute: int = Field(default=200, ge=0)
    """Requests a minute per token in force (else per client address); 0 disables."""
    auth_cache_seconds: float = Field(default=5.0, ge=0, le=60)
    """How long a process trusts a token and membership it read; access changes end it at once."""
    max_query_depth: int = Field(default=10, ge=1)
    max_query_tokens: int = Field(default=2000, ge=10)
    max_query_aliases: int = Field(default=30, ge=1)
    max_query_bytes: int = Field(default=50_000, ge=1000)
    """Characters of one GraphQL document (callers without a token: 2000)."""
    max_query_fields: int = Field(default=1000, ge=10)
    """Selections of one document with its fragments expanded, checked before validation."""
    max_query_cost: int = Field(default=20_000, ge=100)
    """Fields an operation may resolve, each times the items of the lists above it."""
    max_request_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    """For JSON bodies; uploads have their own limit."""
    session_token_ttl_hours: int = Field(default=24 * 14, ge=1)
    allowed_origins: JsonList = Field(default_factory=list)
    """Origins allowed to open the GraphQL WebSocket and to call the API from a browser (CORS);
    empty means same host only."""

    max_upload_bytes: int = Field(default=500 * 1024 * 1024, ge=1)
    """Audio uploads and ingest downloads; enforced while streaming (413)."""
    max_concurrent_uploads_per_org: int = Field(default=4, ge=1)
    """Uploads one org may stream at once per API process (429 beyond)."""
    max_audio_seconds: float = Field(default=4 * 3600, gt=0)
    """Longest recording accepted (checked when probed): bounds decode memory and CPU."""
    max_audio_channels: int = Field(default=8, ge=1)
    """Most channels a recording may have (calls have 1-2); more are refused when probed."""
    run_workers: bool = True
    """``aica serve`` runs pipeline consumers in-process; set 0 when ``aica worker``s do."""
    worker_concurrency: int = Field(default=1, ge=1)
    """Recordings transcribed at once per process (each uses the CPU threads it is given)."""
    job_max_attempts: int = Field(default=3, ge=1)
    """Pipeline runs per record, crashes included, before it is marked failed."""
    job_heartbeat_seconds: float = Field(default=30, gt=0)
    """A job whose worker stops heart-beating this long is picked up by another worker."""
    download_timeout_seconds: float = Field(default=300, gt=0)
    """Ingest: the whole download of one recording, redirects included."""
    allow_private_urls: bool = False
    """Ingest may download from any private/loopback address (tests; trusted networks only)."""
    private_url_allowlist: JsonList = Field(default_factory=list)
    """Private networks ingest may download from, as CIDRs (e.g. ["10.1.0.0/16"])."""
    recording_wait_seconds: float = Field(default=1800, gt=0)
    """How long to keep asking a CRM (Bitrix24) for a call's recording before giving up."""
    recording_poll_seconds: float = Field(default=30, gt=0)

    whisper_model: str = "tiny.en"
    """tiny.en (packaged), base (``aica[multilingual]``), a CTranslate2 model dir, a hub size."""
    whisper_device: Literal["cpu", "cuda", "auto"] = "cpu"
    """Where CTranslate2 runs Whisper; auto picks CUDA when a GPU is present."""
    whisper_compute_type: str = "int8"
    """CTranslate2 compute type: int8, int8_float16, float16, float32, default ..."""
    whisper_cpu_threads: int = Field(default=0, ge=0)
    """CPU threads per transcription; 0 lets CTranslate2 decide."""
    whisper_beam_size: int = Field(default=5, ge=1)
    """Beam width of Whisper's decoder (1 = greedy, faster, a little less accurate)."""
    whisper_batch_size: int = Field(default=4, ge=0)
    """30-second windows Whisper decodes at once (less CPU, more memory); 0 or 1: one at a time."""
    speaker_separation: bool = True
    """Tell agent and customer apart by voice in mono calls (needs the speakers model)."""

    public_url: str | None = None
    """The address people reach the service at, for links in emails; default from host/port."""
    webhook_timeout_seconds: float = Field(default=10, gt=0)
    """One webhook delivery attempt, connection to last byte."""
    delivery_retry_seconds: list[float] = Field(
        default_factory=lambda: [
            5.0,
            300.0,
            1800.0,
            7200.0,
            18000.0,
            36000.0,
            50400.0,
            72000.0,
            86400.0,
        ]
    )
    """Waits before each retry of a webhook or email (Standard Webhooks' schedule, about
    three days in all), each with up to 10% jitter; then the delivery has failed."""
    smtp_host: str | None = None
    """Unset: the ``email`` alert action is recorded as not configured, nothing is sent."""
    smtp_port: int = 587
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    """``starttls`` (port 587), ``tls`` (implicit TLS, port 465) or ``none``."""
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "AICA <aica@localhost>"

    redaction_audio: Literal["silence", "tone"] = "silence"
    """What replaces personal data in the redacted audio copy: silence, or a soft 1 kHz tone
    that tells the listener something was cut."""
    retention_schedule: str = "0 * * * *"
    """When the retention job runs (cron, UTC): purges records past their project's
    ``retentionDays``, finishes interrupted deletions, drops old audit rows."""
    audit_retention_days: int = Field(default=365, ge=1)
    """Audit rows older than this are purged by the retention job."""

    search_backend: Literal["postgres", "elasticsearch"] = "postgres"
    """Where search documents live: the database itself, or an Elasticsearch cluster."""
    elasticsearch_url: str | None = None
    elasticsearch_index: str = "aica-search"
    """The alias searches go through; ``aica search reindex`` swaps the index behind it."""

    billing_rate_per_minute: Decimal = Field(default=Decimal(1) / Decimal(30), ge=0)
    """What a processed minute costs an org that has no rate of its own (1/30 currency unit:
    the seed's 3825 minutes cost 127.5)."""
    billing_reanalysis_rate_per_minute: Decimal = Field(default=Decimal(0), ge=0)
    billing_rounding: Literal["second", "minute"] = "second"
    """``second``: a call's exact length is billed; ``minute``: each call is rounded up to
    whole minutes."""

    @field_validator("retention_schedule")
    @classmethod
    def _cron(cls, expression: str) -> str:
        if not croniter.is_valid(expression):
            raise ValueError("must be a cron expression, e.g. '0 * * * *' (hourly)")
        return expression

    @field_validator("storage_url")
    @classmethod
    def _s3_or_local(cls, url: str) -> str:
        if url:
            parse_s3_url(url)
        return url

    @field_validator("s3_endpoint_url")
    @classmethod
    def _http_endpoint(cls, url: str | None) -> str | None:
        parts = urlsplit(url or "")
        if url and (parts.scheme not in ("http", "https") or not parts.netloc):
            raise ValueError(f"must be an http(s) URL such as http://minio:9000, got {url!r}")
        return url or None

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, url: str | None) -> str | None:
        if url is not None and urlsplit(url).scheme not in ("postgres", "postgresql"):
            raise ValueError("must be a PostgreSQL URL: postgres://user:password@host:5432/db")
        return url

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @property
    def pgdata_dir(self) -> Path:
        return self.data_dir.resolve() / "postgres"

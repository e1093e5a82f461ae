"""Settings: one object read from the environment (``AICA_*``) and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AICA_", extra="ignore")

    data_dir: Path = Path("./aica-data")
    """Everything the embedded default keeps: database, audio, staged uploads."""
    database_url: str | None = None
    """``postgres://...`` for an external server; unset starts the embedded one."""
    database_pool_size: int = Field(default=20, ge=1)
    redis_url: str | None = None
    """Set to share rate limits and events across processes."""
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_json: bool = True

    rate_limit_per_minute: int = Field(default=200, ge=0)
    """Requests a minute per token (or per client address when anonymous); 0 disables."""
    max_query_bytes: int = Field(default=64 * 1024, ge=1024)
    max_query_depth: int = Field(default=10, ge=1)
    max_query_tokens: int = Field(default=2000, ge=10)
    max_query_aliases: int = Field(default=30, ge=1)
    max_request_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    """For JSON bodies; uploads have their own limit."""
    session_token_ttl_hours: int = Field(default=24 * 14, ge=1)
    allowed_origins: list[str] = Field(default_factory=list)
    """Origins allowed to open the GraphQL WebSocket; empty means same host only."""

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @property
    def pgdata_dir(self) -> Path:
        return self.data_dir.resolve() / "postgres"

"""Settings: one validated, frozen object read once at start.

Nothing else in pixtag reads ``os.environ``; the CLI turns its options into
overrides of this object, and tests build their own.
"""

from pathlib import Path

from pydantic import Field, HttpUrl
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Server settings, from ``PIXTAG_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="PIXTAG_", frozen=True, extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL; when unset an embedded server runs in <data_dir>/postgres.",
    )
    data_dir: Path = Path("./data")
    host: str = "0.0.0.0"  # noqa: S104 - a server is meant to be reachable
    port: int = Field(default=8080, ge=1, le=65535)
    chunk_size: int = Field(default=1000, ge=1, le=10_000)
    max_upload_size: int = Field(default=50 * 1024 * 1024, ge=1)
    media_url: str = "/media"
    pool_max_size: int = Field(default=10, ge=1)
    # A streaming transaction left idle this long (a stalled reader) is ended
    # by PostgreSQL, so one slow client cannot pin a backend forever.
    stream_idle_timeout_ms: int = Field(default=60_000, ge=100)

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def postgres_dir(self) -> Path:
        return self.data_dir / "postgres"


class ClientSettings(BaseSettings):
    """Client settings: where the server the client commands talk to lives (``PIXTAG_URL``)."""

    model_config = SettingsConfigDict(env_prefix="PIXTAG_", frozen=True, extra="ignore")

    url: HttpUrl = Field(
        default=HttpUrl("http://localhost:8080"),
        description="Base URL of a running pixtag server.",
    )

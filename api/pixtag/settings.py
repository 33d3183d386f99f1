"""Settings: one validated, frozen object read once at start.

Nothing else in pixtag reads ``os.environ``; the CLI turns its options into
overrides of this object, and tests build their own.
"""

import ipaddress
import os
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from pixtag.db import url
from pixtag.renditions.presets import Preset, parse

MIN_SWEEP_GRACE = 300

# A list setting from the environment: comma-separated ("10.0.0.0/8,intranet.example").
CommaList = Annotated[tuple[str, ...], NoDecode]


class Settings(BaseSettings):
    """Server settings, from ``PIXTAG_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="PIXTAG_", frozen=True, extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL; when unset an embedded server runs in <data_dir>/postgres.",
    )
    # Seconds a start waits for a database that cannot be reached yet (a server still
    # starting, an outage); 0: a start fails at once, in one line. Workers started by
    # ``--workers`` wait as long as it takes: their supervisor reached the database first.
    database_wait: float = Field(default=0, ge=0)
    data_dir: Path = Path("./data")
    # Loopback by default: a server reachable from elsewhere is a choice (and turns auth on).
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # Processes answering on host:port (pixtag.workers); "auto": one per CPU.
    workers: int = Field(default=1, ge=1, le=512)
    chunk_size: int = Field(default=1000, ge=1, le=10_000)
    max_upload_size: int = Field(default=50 * 1024 * 1024, ge=1)
    media_url: str = "/media"
    # Where files are stored: "local" (<data_dir>/media) or "s3://bucket[/prefix]".
    storage: str = "local"
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    # How long a presigned URL (the attachment's redirect with S3) stays valid.
    s3_presign_expires: int = Field(default=3600, ge=1, le=7 * 24 * 3600)
    max_image_pixels: int = Field(default=89_478_485, ge=1)
    # Widest or tallest image accepted (pixels): a 1x90000000 strip passes the pixel bound
    # yet no viewer or resizer handles it sanely.
    max_image_side: int = Field(default=30_000, ge=1)
    # Renditions, NAME:SIZE:FORMAT each (fits SIZExSIZE; webp, jpeg or png).
    rendition_presets: CommaList = ("thumb:320:webp", "preview:1600:webp")
    # The presets built as soon as a file is stored (a job); the others on first request.
    rendition_eager: CommaList = ("thumb",)
    # Renditions this process builds at once (threads off the event loop).
    rendition_workers: int = Field(default=2, ge=1, le=64)
    # Fingerprint every stored file for similar images (a background job per file).
    similar_index: bool = True
    # An upload of bytes another image's file has: stored ("allow", its answer names the
    # image in Pixtag-Duplicate-Of) or refused with 409 ("refuse"; so is a file of the same
    # decoded pixels: each upload is fingerprinted before it is recorded).
    duplicates: Literal["allow", "refuse"] = "allow"
    # A stored file's keywords (XMP dc:subject, lr:hierarchicalSubject leaves, IPTC) become
    # tags of its image ("keywords"), or not ("off").
    metadata_tags: Literal["keywords", "off"] = "keywords"
    # A stored file's GPS position is recorded in its metadata ("keep"), or never ("drop").
    metadata_location: Literal["keep", "drop"] = "keep"
    # While requests are being answered, background image work (thumbnails of stored files,
    # rebuilds, processing tasks) takes at most this share of the time; 1: never held back.
    background_share: float = Field(default=0.1, gt=0, le=1)
    # The sweeper removes files no record names once they are this old.
    sweep_grace: int = Field(default=3600, ge=0)
    # Seconds between sweeps after the one at start-up; 0: only at start-up.
    sweep_interval: int = Field(default=3600, ge=0)
    # Seconds between folds of the pending tag count changes into the counts
    # (pixtag.tags.folding); 0: never (the counts read stay exact either way).
    tag_count_fold_interval: float = Field(default=1.0, ge=0, le=3600)
    pool_max_size: int = Field(default=10, ge=1)
    # How long a request waits for a pooled connection before answering 503.
    pool_timeout_ms: int = Field(default=5_000, ge=1)
    # Listings streamed at once (each holds a connection while its client
    # reads); default: the pool less two, left for everything else.
    max_streams: int | None = Field(default=None, ge=1)
    # Of those, how many one client (a token, else an address) may stream at once.
    max_streams_per_client: int | None = Field(default=None, ge=1)
    # Proxies whose X-Forwarded-For names the client (CIDRs): behind nginx, its address.
    trusted_proxies: CommaList = ()
    # A streaming transaction left idle this long (a stalled reader) is ended
    # by PostgreSQL, so one slow client cannot pin a backend forever.
    stream_idle_timeout_ms: int = Field(default=60_000, ge=100)
    # How long one statement of a listing may run (the first chunk, then each FETCH):
    # a search that costs more answers 503, or ends its stream, rather than hold a slot.
    stream_statement_timeout_ms: int = Field(default=30_000, ge=1)
    # Bytes per second a listing's client must read on average (after a short
    # grace); a slower stream is aborted. 0: no minimum.
    stream_min_rate: int = Field(default=128 * 1024, ge=0)
    # On SIGTERM/SIGINT, seconds in-flight requests get to finish.
    shutdown_timeout: float = Field(default=30.0, ge=0)
    # One line per request (pixtag.access); off saves its cost (bench/RESULTS.md, "Access log").
    access_log: bool = True
    # The event loop of ``pixtag serve``: uvloop's (faster sockets), or asyncio's own.
    uvloop: bool = True
    # Jobs (captures) this process runs at once; 0: none, it only serves the API.
    jobs_concurrency: int = Field(default=4, ge=0, le=256)
    # Seconds between looks for due jobs when no notification came.
    jobs_poll_interval: float = Field(default=2.0, gt=0, le=3600)
    # Seconds a running job stays claimed without a heartbeat; then another process takes it.
    jobs_lease: float = Field(default=30.0, ge=0.3, le=3600)
    jobs_max_attempts: int = Field(default=5, ge=1, le=100)
    # Retry delays: base * 2^(attempt-1), jittered, at most max (seconds).
    jobs_backoff_base: float = Field(default=2.0, ge=0, le=3600)
    jobs_backoff_max: float = Field(default=300.0, ge=0, le=86400)
    # On shutdown, seconds running jobs get to finish before they are given back to the queue.
    jobs_shutdown_grace: float = Field(default=10.0, ge=0)
    # Captures may reach only public addresses, except these CIDRs or host names (each with
    # an optional :port: only that port).
    capture_allow: CommaList = ()
    # Domains (and their subdomains) captures refuse at once.
    capture_block_domains: CommaList = ()
    capture_connect_timeout: float = Field(default=10.0, gt=0)
    # Seconds a download may wait for its next bytes.
    capture_read_timeout: float = Field(default=30.0, gt=0)
    # Seconds a whole download may take, redirects included (a slow drip ends here).
    capture_total_timeout: float = Field(default=120.0, gt=0)
    # Seconds a capture may take over all its attempts, retries and their waits included:
    # past it, it fails (out_of_time) instead of trying again.
    capture_max_time: float = Field(default=300.0, gt=0)
    # How long events are kept (seconds, or with a unit: 30d, 12h, 90m, 45s); a reader
    # resuming from before what was removed is told so (410).
    event_retention: float = Field(default=30 * 86400.0, gt=0)
    # Webhooks may reach only public addresses, except these CIDRs or host names (the
    # rules of PIXTAG_CAPTURE_ALLOW).
    webhook_allow: CommaList = ()
    # Seconds a receiver has to answer a delivery (connecting included).
    webhook_timeout: float = Field(default=10.0, gt=0, le=300)
    # Failed attempts in a row after which a webhook is disabled (with the reason).
    webhook_max_failures: int = Field(default=15, ge=1, le=1000)
    # Retry delays after a failure: base * 2^(failures-1), jittered, at most max (seconds).
    webhook_retry_base: float = Field(default=5.0, ge=0, le=3600)
    webhook_retry_max: float = Field(default=3600.0, ge=0, le=7 * 86400)
    # Bearer tokens required: "on", "off", or unset: off only on a loopback address.
    auth: Literal["on", "off"] | None = None
    # With auth on, reads (GET, HEAD) without a token; media URLs then stay unsigned.
    anonymous_read: bool = False
    # Seconds a looked-up token is trusted before it is read again: a revocation
    # reaches every process within this bound.
    auth_cache_ttl: float = Field(default=10.0, ge=0, le=300)
    # An admin token named "bootstrap" stored (hashed) at start if absent (docker-compose).
    bootstrap_token: SecretStr | None = None
    # Key of the signed media URLs; unset: one made once and kept in the database.
    secret_key: SecretStr | None = None
    # Seconds a signed media URL (and, with auth, an S3 presigned one) stays valid.
    media_url_ttl: int = Field(default=300, ge=1, le=7 * 24 * 3600)
    # Browser origins allowed to call the API (CORS): "https://app.example,https://x.example".
    cors_origins: CommaList = ()
    # Threads this process decodes and processes images in (processing tasks); the
    # tasks beyond them wait their turn.
    processing_threads: int = Field(default=2, ge=1, le=64)
    # Decoded pixels (MiB) the processing tasks of one process hold at once: a task waits
    # for its share; one larger than all of it runs alone.
    image_memory_mb: int = Field(default=256, ge=16)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is not None:
            url.check(value)
        return value

    @field_validator(
        "capture_allow",
        "webhook_allow",
        "trusted_proxies",
        "capture_block_domains",
        "rendition_presets",
        "rendition_eager",
        "cors_origins",
        mode="before",
    )
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip())
        return value

    @field_validator("workers", mode="before")
    @classmethod
    def _workers(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().lower() == "auto":
                return len(os.sched_getaffinity(0))
            if not value.strip().lstrip("+-").isdigit():
                raise ValueError("must be a number of processes (1 or more) or auto")
        return value

    @field_validator("bootstrap_token")
    @classmethod
    def _bootstrap_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(
            r"pxt_[A-Za-z0-9_-]{43}", value.get_secret_value()
        ):
            raise ValueError("must be pxt_ and 43 urlsafe characters (see .env.example)")
        return value

    @field_validator("storage")
    @classmethod
    def _storage_url(cls, value: str) -> str:
        if value == "local":
            return value
        parts = urlsplit(value)
        if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("must be 'local' or 's3://bucket[/prefix]'")
        return value

    @field_validator("event_retention", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        if isinstance(value, str):
            match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([smhd]?)\s*", value)
            if match is None:
                raise ValueError("must be seconds, or a number with s, m, h or d (30d)")
            unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match[2]]
            return float(match[1]) * unit
        return value

    @field_validator("capture_allow", "webhook_allow")
    @classmethod
    def _allow_rules(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from pixtag.net.guard import allow_rule  # the network guard, for the server only

        for item in value:
            allow_rule(item)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an address or a CIDR") from None
        return value

    @field_validator("rendition_presets")
    @classmethod
    def _presets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        parse(value)
        return value

    @model_validator(mode="after")
    def _eager_presets_exist(self) -> "Settings":
        names = {preset.name for preset in self.presets}
        unknown = [name for name in self.rendition_eager if name not in names]
        if unknown:
            raise ValueError(f"rendition_eager names unknown presets: {', '.join(unknown)}")
        return self

    @property
    def presets(self) -> tuple[Preset, ...]:
        """The rendition presets, parsed."""
        return parse(self.rendition_presets)

    @model_validator(mode="after")
    def _grace_outlasts_an_upload(self) -> "Settings":
        # A file is stored a moment before the transaction that records it
        # (bounded to 30 s); a periodic sweep with a shorter grace could take
        # it from under an upload in flight.
        if self.sweep_interval and self.sweep_grace < MIN_SWEEP_GRACE:
            raise ValueError(
                f"sweep_grace must be at least {MIN_SWEEP_GRACE} seconds when periodic sweeps"
                " are on (sweep_interval > 0)"
            )
        return self

    @model_validator(mode="after")
    def _streams_fit_the_pool(self) -> "Settings":
        if self.max_streams is not None and self.max_streams > self.pool_max_size:
            raise ValueError(
                f"max_streams ({self.max_streams}) cannot exceed pool_max_size"
                f" ({self.pool_max_size}): each stream holds a pooled connection"
            )
        return self

    @property
    def loopback(self) -> bool:
        """Whether the server listens on a loopback address only."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False

    @property
    def auth_enabled(self) -> bool:
        """Whether requests need a token: PIXTAG_AUTH, else on unless listening on loopback."""
        if self.auth is not None:
            return self.auth == "on"
        return not self.loopback

    @property
    def media_signed(self) -> bool:
        """Whether media URLs are signed and expire (auth on, no anonymous reads)."""
        return self.auth_enabled and not self.anonymous_read

    @property
    def connections_per_process(self) -> int:
        """The most connections one server process opens: its pool, the job engine's
        listener, one per rendition being built (its lock), one while it sweeps, one while it
        prunes events."""
        return self.pool_max_size + 1 + self.rendition_workers + 2

    @property
    def streams_per_client(self) -> int:
        """How many of the listings streaming at once one client may hold: by default half
        of them (at least one), so one client never takes them all."""
        if self.max_streams_per_client is not None:
            return min(self.max_streams_per_client, self.stream_limit)
        return max(1, self.stream_limit // 2)

    @property
    def stream_limit(self) -> int:
        """How many listings may stream at once."""
        if self.max_streams is not None:
            return self.max_streams
        return max(1, self.pool_max_size - 2)

    @property
    def s3_bucket(self) -> str:
        return urlsplit(self.storage).netloc

    @property
    def s3_prefix(self) -> str:
        prefix = urlsplit(self.storage).path.strip("/")
        return f"{prefix}/" if prefix else ""

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def postgres_dir(self) -> Path:
        return self.data_dir / "postgres"

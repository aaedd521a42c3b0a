"""Every knob Heliograph has, in one place: a default, a description, and a `HELIOGRAPH_*` variable.

The CLI builds one `Settings` and passes it down; nothing reads the environment anywhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELIOGRAPH_", extra="ignore")

    mode: Literal["sandbox", "gateway"] = Field(
        "sandbox",
        description="sandbox: embedded SQLite, simulator carrier, bootstrap account. "
        "gateway: PostgreSQL, real carriers.",
    )
    host: str = Field("127.0.0.1", description="Address the HTTP server listens on.")
    port: int = Field(8000, description="Port the HTTP server listens on.")
    data_dir: Path = Field(Path("./heliograph-data"), description="Where the sandbox keeps its SQLite database.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; defaults to sqlite+aiosqlite:///<data_dir>/heliograph.db."
    )
    api_key: str | None = Field(
        None, description="Make this exact key valid for the sandbox organization (created if missing)."
    )
    public_url: str | None = Field(
        None,
        description="Base URL users reach this server on (for banners and short links); default http://host:port.",
    )

    worker_process: bool = Field(
        True, description="Sandbox: run the workers in a second process (uses both cores); false = one process."
    )
    worker_processes: int = Field(
        1,
        ge=1,
        le=16,
        description="Sandbox: worker processes `serve` runs; they share the work (more throughput on more "
        "cores, ~140 MiB each).",
    )

    # sandbox carrier
    simulator_dlr_delay_ms: int = Field(200, ge=0, description="Delay between `sent` and the simulator's receipt.")

    # sender throughput (messages per second; a number's own setting wins)
    mps_long_code: float = Field(10.0, gt=0, description="Default throughput of a long code.")
    mps_toll_free: float = Field(20.0, gt=0, description="Default throughput of a toll-free number.")
    mps_short_code: float = Field(1000.0, gt=0, description="Default throughput of a short code.")
    mps_alphanumeric: float = Field(10.0, gt=0, description="Default throughput of an alphanumeric sender ID.")
    number_pool_seed: int | None = Field(None, description="Seed the number-pool choice (reproducible tests).")

    # media
    media_timeout_seconds: float = Field(10.0, gt=0, description="Timeout of one MMS media fetch.")
    media_allowed_hosts: str = Field(
        "", description="Comma-separated hosts the gateway may fetch media from even when they are private."
    )

    # link shortener
    url_shortener_domains: str = Field(
        "", description="Extra comma-separated domains (pointing at this server) for url_shortener_settings."
    )

    # webhooks
    webhook_timeout_seconds: float = Field(2.0, gt=0, description="Timeout of one webhook POST (Telnyx: 2 s).")
    webhook_attempts_per_url: int = Field(3, ge=1, description="Attempts on one URL before failing over (Telnyx: 3).")
    webhook_retry_hours: float = Field(
        24.0,
        ge=0,
        description="After Telnyx's attempts, keep retrying the URL pair this long (0 = Telnyx only).",
    )
    webhook_concurrency: int = Field(256, ge=1, description="Webhook POSTs in flight at once per process.")
    webhook_allowed_hosts: str = Field(
        "",
        description="Gateway: comma-separated hosts, addresses or networks (10.8.0.0/16) webhooks may reach "
        "even when they are loopback or private.",
    )

    # secrets at rest
    secret_key: str | None = Field(
        None,
        description="Gateway: key that seals signing seeds and connector secrets in the database "
        "(32 bytes, base64 or hex; `heliograph secrets new-key` makes one).",
    )
    secret_key_file: Path | None = Field(None, description="File holding the secret key (instead of secret_key).")
    previous_secret_keys: str = Field(
        "", description="Comma-separated keys that may still open sealed values (during a key rotation)."
    )

    # work claiming
    lease_seconds: float = Field(
        30.0,
        gt=0,
        description="How long a worker holds claimed work; a dead worker's work is retaken after it.",
    )

    # message lifecycle
    queue_ttl_seconds: int = Field(4 * 3600, ge=1, description="A queued message not sent by then fails (40014).")
    receipt_window_seconds: int = Field(
        72 * 3600, ge=1, description="A sent message with no receipt by then becomes delivery_unconfirmed."
    )
    auto_detect_max_parts: int = Field(6, ge=1, le=10, description="Parts above which auto_detect refuses (40328).")

    # API behaviour
    max_body_bytes: int = Field(1024 * 1024, ge=1024, description="Largest request body accepted (413 above).")
    # slow and oversized clients (api/protocol.py): bounded before any authentication
    max_url_bytes: int = Field(16 * 1024, ge=256, description="Longest request target accepted (414 above).")
    max_header_bytes: int = Field(64 * 1024, ge=1024, description="Largest request head accepted (431 above).")
    max_headers: int = Field(100, ge=8, description="Most request header fields accepted (431 above).")
    header_timeout_seconds: float = Field(10.0, gt=0, description="Time a client has to send a request's head.")
    body_timeout_seconds: float = Field(30.0, gt=0, description="Time a client has to send a request's body.")
    keep_alive_seconds: float = Field(5.0, gt=0, description="How long an idle keep-alive connection stays open.")
    rate_limit_per_second: float = Field(0, ge=0, description="API requests per second per key (0 = unlimited).")
    rate_limit_burst: int = Field(0, ge=0, description="Bucket size for the API rate limit (0 = one second's worth).")
    idempotency_ttl_hours: float = Field(24.0, gt=0, description="How long an Idempotency-Key is remembered.")
    group_commit_ms: float = Field(
        2.0, ge=0, description="Sends arriving within this window share one database transaction."
    )

    # pricing (USD, sandbox figures)
    sms_rate_per_part: str = Field("0.0040", description="Rate per SMS part.")
    sms_carrier_fee_per_part: str = Field("0.0010", description="Carrier fee per SMS part.")
    mms_rate: str = Field("0.0150", description="Rate per MMS.")
    mms_carrier_fee: str = Field("0.0050", description="Carrier fee per MMS.")

    # operations: /metrics, /readyz and several processes (docs/operations.md)
    metrics_enabled: bool = Field(True, description="Keep Prometheus counters and serve /metrics (false = neither).")
    metrics_dir: Path | None = Field(
        None,
        description="Directory the processes of one host share for their Prometheus counters (gateway); the "
        "sandbox uses <data_dir>/metrics. Unset in gateway mode: private to one serve/worker command.",
    )
    metrics_token: str | None = Field(
        None, description="Bearer token /metrics requires (always, except on a sandbox bound to loopback)."
    )
    metrics_port: int | None = Field(
        None, description="`heliograph worker`: also answer /metrics, /readyz and /healthz on this port (host: `host`)."
    )
    ready_heartbeat_seconds: float = Field(
        15.0, gt=5, description="/readyz fails when no worker has reported its carrier links for this long."
    )
    processes: int = Field(1, ge=1, le=64, description="API processes `serve` runs on the one port (SO_REUSEPORT).")

    log_level: str = Field("info", description="debug, info, warning or error.")
    log_format: Literal["auto", "console", "json"] = Field("auto", description="Log line format.")

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'heliograph.db').resolve()}"

    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

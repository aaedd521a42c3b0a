"""Every table on one MetaData. Times are epoch microseconds (BigInteger) so SQLite and PostgreSQL agree."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Time = BigInteger

organizations = Table(
    "organizations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    # Ed25519 private seed: hex, or sealed with HELIOGRAPH_SECRET_KEY (services/secrets.py); never leaves the server
    Column("signing_seed", String(200), nullable=False),
    Column("public_key", String(64), nullable=False),  # base64 of the 32 raw public-key bytes
    Column("messaging_enabled", Boolean, nullable=False, default=True),
    Column("is_sandbox", Boolean, nullable=False, default=False),
    Column("created_at", Time, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organization_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),  # sha256 hex of the key
    Column("prefix", String(16), nullable=False),  # start of key_hash, to tell keys apart; reveals nothing of the key
    Column("created_at", Time, nullable=False),
    Column("revoked_at", Time),
    Column("last_used_at", Time),  # when a process last looked the key up (at most every few seconds per process)
)

messaging_profiles = Table(
    "messaging_profiles",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organization_id", String(36), ForeignKey("organizations.id"), nullable=False, index=True),
    Column("name", String(500), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("webhook_url", Text),
    Column("webhook_failover_url", Text),
    Column("webhook_api_version", String(16), nullable=False),
    Column("whitelisted_destinations", JSON, nullable=False),
    Column("number_pool_settings", JSON),
    Column("url_shortener_settings", JSON),
    Column("alpha_sender", String(11)),
    Column("daily_spend_limit", String(32), nullable=False),
    Column("daily_spend_limit_enabled", Boolean, nullable=False),
    Column("mms_fall_back_to_sms", Boolean, nullable=False),
    Column("mms_transcoding", Boolean, nullable=False),
    Column("mobile_only", Boolean, nullable=False),
    Column("smart_encoding", Boolean, nullable=False),
    Column("health_webhook_url", Text),
    Column("v1_secret", String(64), nullable=False),
    Column("ai_assistant_id", String(64)),
    Column("resource_group_id", String(64)),
    Column("created_at", Time, nullable=False),
    Column("updated_at", Time, nullable=False),
)

profile_daily_spend = Table(
    "profile_daily_spend",
    metadata,
    Column("messaging_profile_id", String(36), primary_key=True),
    Column("day", Integer, primary_key=True),  # days since 1970-01-01 UTC
    Column("spend_micros", BigInteger, nullable=False),  # USD millionths of messages accepted that day
    Column("limit_reached_at", Time),  # when the day's first send was refused (its webhook went out then)
)

pacing_slots = Table(
    "pacing_slots",
    metadata,
    Column("sender", String(120), primary_key=True),  # a number or sender ID, or "connector:<name>"
    Column("next_free", Time, nullable=False),  # when the sender's next message may go (services/pacing.py)
)

rate_limit_buckets = Table(
    "rate_limit_buckets",
    metadata,
    Column("key_hash", String(64), primary_key=True),  # the API key's hash
    # GCRA: when the bucket is empty again; a request fits while this stays within a burst of now
    Column("tat", Time, nullable=False),
)

phone_numbers = Table(
    "phone_numbers",
    metadata,
    Column("id", String(20), primary_key=True),
    Column("organization_id", String(36), ForeignKey("organizations.id"), nullable=False, index=True),
    Column("phone_number", String(20), nullable=False, unique=True),
    Column("messaging_profile_id", String(36), index=True),
    Column("type", String(16), nullable=False),  # longcode | tollfree
    Column("country_code", String(2), nullable=False),
    Column("messaging_product", String(16), nullable=False),
    Column("tags", JSON, nullable=False),
    Column("hosted", Boolean, nullable=False, default=False),
    Column("whatsapp", Boolean, nullable=False, default=False),
    Column("status", String(16), nullable=False),  # active | pending
    Column("mps", Float),  # messages per second for this sender; NULL = its type's default
    Column("created_at", Time, nullable=False),
    Column("updated_at", Time, nullable=False),
)

short_codes = Table(
    "short_codes",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organization_id", String(36), ForeignKey("organizations.id"), nullable=False, index=True),
    Column("short_code", String(8), nullable=False, unique=True),
    Column("country_code", String(2), nullable=False),
    Column("messaging_profile_id", String(36), index=True),
    Column("tags", JSON, nullable=False),
    Column("created_at", Time, nullable=False),
    Column("updated_at", Time, nullable=False),
)

alphanumeric_sender_ids = Table(
    "alphanumeric_sender_ids",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organization_id", String(36), ForeignKey("organizations.id"), nullable=False, index=True),
    Column("messaging_profile_id", String(36), nullable=False, index=True),
    Column("alphanumeric_sender_id", String(11), nullable=False),
    Column("us_long_code_fallback", String(20)),
    Column("created_at", Time, nullable=False),
    UniqueConstraint("messaging_profile_id", "alphanumeric_sender_id"),
)

sticky_senders = Table(
    "sticky_senders",
    metadata,
    Column("messaging_profile_id", String(36), primary_key=True),
    Column("recipient", String(32), primary_key=True),
    Column("phone_number", String(20), nullable=False, index=True),
    Column("last_used_at", Time, nullable=False),
)

opt_outs = Table(
    "opt_outs",
    metadata,
    Column("messaging_profile_id", String(36), primary_key=True),
    Column("recipient", String(32), primary_key=True),  # the end user who opted out (`to` in the API)
    Column("organization_id", String(36), nullable=False, index=True),
    Column("from_number", String(32), nullable=False),  # our number that received the keyword
    Column("keyword", String(64)),
    Column("created_at", Time, nullable=False),
)

autoresp_configs = Table(
    "autoresp_configs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organization_id", String(36), nullable=False),
    Column("messaging_profile_id", String(36), nullable=False, index=True),
    Column("op", String(8), nullable=False),  # start | stop | info
    Column("keywords", JSON, nullable=False),
    Column("country_code", String(2), nullable=False),
    Column("resp_text", Text),
    Column("created_at", Time, nullable=False),
    Column("updated_at", Time, nullable=False),
)

short_links = Table(
    "short_links",
    metadata,
    Column("token", String(32), primary_key=True),
    Column("organization_id", String(36), nullable=False),
    Column("messaging_profile_id", String(36)),
    Column("message_id", String(36), nullable=False),
    Column("recipient", String(32), nullable=False),
    Column("url", Text, nullable=False),
    Column("send_webhooks", Boolean, nullable=False),
    Column("created_at", Time, nullable=False),
)

# Metrics rollups: counters per profile, bucket and sender type, kept in the same transactions as the
# state changes they count, at three widths (5 minutes, 1 hour, 1 day), so a window of any length
# reads a few dozen rows per profile (domain/rollups.py) and the endpoints never scan messages.
profile_rollups = Table(
    "profile_rollups",
    metadata,
    Column("messaging_profile_id", String(36), primary_key=True),
    Column("width", Integer, primary_key=True),  # bucket width in seconds: 300, 3600 or 86400
    Column("bucket", Time, primary_key=True),  # start of the bucket
    Column("label", String(16), primary_key=True),  # longcode | tollfree | shortcode | alphanumeric
    Column("attempted", Integer, nullable=False, default=0),
    Column("sent", Integer, nullable=False, default=0),
    Column("delivered", Integer, nullable=False, default=0),
    Column("failed", Integer, nullable=False, default=0),
    Column("received", Integer, nullable=False, default=0),
    Column("spend_micros", BigInteger, nullable=False, default=0),  # USD millionths
)

profile_error_rollups = Table(
    "profile_error_rollups",
    metadata,
    Column("messaging_profile_id", String(36), primary_key=True),
    Column("width", Integer, primary_key=True),
    Column("bucket", Time, primary_key=True),
    Column("code", String(8), primary_key=True),
    Column("count", Integer, nullable=False, default=0),
)

number_orders = Table(
    "number_orders",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organization_id", String(36), ForeignKey("organizations.id"), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("messaging_profile_id", String(36)),
    Column("connection_id", String(64)),
    Column("billing_group_id", String(64)),
    Column("customer_reference", String(200)),
    Column("phone_numbers", JSON, nullable=False),  # the order's PhoneNumber objects
    Column("created_at", Time, nullable=False),
    Column("updated_at", Time, nullable=False),
)

messages = Table(
    "messages",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organization_id", String(36), nullable=False),
    Column("messaging_profile_id", String(36)),
    Column("direction", String(8), nullable=False),
    Column("type", String(8), nullable=False),
    Column("status", String(24), nullable=False),
    Column("from_number", String(32), nullable=False),
    Column("from_carrier", String(100), nullable=False),
    Column("from_line_type", String(24), nullable=False),
    Column("to_number", String(32), nullable=False),
    Column("to_carrier", String(100), nullable=False),
    Column("to_line_type", String(24), nullable=False),
    Column("text", Text),
    Column("transmitted_text", Text),  # after smart encoding / link rewriting; NULL when equal to text
    Column("subject", Text),
    Column("media", JSON, nullable=False),
    Column("webhook_url", Text),
    Column("webhook_failover_url", Text),
    Column("use_profile_webhooks", Boolean, nullable=False),
    Column("encoding", String(8), nullable=False),
    Column("parts", Integer, nullable=False),
    Column("num_chars", Integer, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("cost_rate", String(16)),
    Column("cost_carrier_fee", String(16)),
    Column("errors", JSON, nullable=False),
    Column("smart_encoding_applied", Boolean, nullable=False),
    Column("wait_seconds", Float),
    Column("received_at", Time, nullable=False),
    Column("sent_at", Time),
    Column("completed_at", Time),
    Column("valid_until", Time),
    Column("send_at", Time),
    Column("due_at", Time),  # when the dispatcher may take it (queued: now; scheduled: send_at)
    Column("lease_until", Time),  # a worker holds it until then; an expired lease is re-claimed
    Column("submit_attempts", Integer, nullable=False, default=0),
    Column("carrier_message_id", String(64)),
    Column("connector", String(64)),  # the connector that took the message (NULL until submitted)
    Column("group_message_id", String(36)),
    Column("extra", JSON),  # endpoint-specific fields (WhatsApp body …)
    Index("ix_messages_org_received", "organization_id", "received_at"),
    Index("ix_messages_status_due", "status", "due_at"),
    Index("ix_messages_group", "group_message_id"),
    Index("ix_messages_from_received", "from_number", "received_at"),
)

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", String(36), primary_key=True),  # data.id, stable across attempts
    Column("organization_id", String(36), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("message_id", String(36)),
    Column("occurred_at", Time, nullable=False),
    Column("data_json", Text, nullable=False),  # the serialized `data` object, signed as is
    Column("urls", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_url_index", Integer, nullable=False, default=0),
    Column("next_attempt_at", Time),
    Column("lease_until", Time),
    Column("first_attempt_at", Time),
    Column("finished_at", Time),
    Column("envelope", String(16), nullable=False, default="event"),  # event | bare (link clicks)
    # event-feed cursor, given by the database (migration 0006): commit order on SQLite; on PostgreSQL
    # ordered by (txid, seq) and read only below the oldest running transaction (services/event_feed.py)
    Column("seq", BigInteger),
    Column("txid", BigInteger, nullable=False, server_default="0"),
    Index("ix_webhook_events_status_next", "status", "next_attempt_at"),
    Index("ix_webhook_events_org", "organization_id", "occurred_at"),
    Index("ix_webhook_events_seq", "seq"),
    Index("ix_webhook_events_feed", "organization_id", "txid", "seq"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("url", Text, nullable=False),
    Column("started_at", Time, nullable=False),
    Column("finished_at", Time, nullable=False),
    Column("delivered", Boolean, nullable=False),
    Column("http_status", Integer),
    Column("error_code", Integer),
    Column("error_detail", Text),
    Column("response_body", Text),
)

handset_messages = Table(
    "handset_messages",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("organization_id", String(36), nullable=False),
    Column("handset", String(32), nullable=False),
    Column("message_id", String(36), nullable=False),
    Column("from_number", String(32), nullable=False),
    Column("text", Text),
    Column("subject", Text),
    Column("media_urls", JSON, nullable=False),
    Column("encoding", String(8), nullable=False),
    Column("parts", Integer, nullable=False),
    Column("received_at", Time, nullable=False),
    Index("ix_handset_messages_handset", "organization_id", "handset", "received_at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("organization_id", String(36), primary_key=True),
    Column("method", String(8), primary_key=True),
    Column("path", String(200), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("response_status", Integer, nullable=False),
    Column("response_body", Text, nullable=False),
    Column("created_at", Time, nullable=False, index=True),
)

connectors = Table(
    "connectors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("type", String(16), nullable=False),  # simulator | smpp | telnyx
    Column("config", JSON, nullable=False),  # holds secrets (SMPP password, upstream API key): never listed
    Column("created_at", Time, nullable=False),
    Column("updated_at", Time, nullable=False),
)

connector_links = Table(
    "connector_links",
    metadata,
    Column("connector", String(64), primary_key=True),
    Column("process", String(64), primary_key=True),  # host:pid of the worker holding the link
    Column("state", String(16), nullable=False),  # up | connecting | down
    Column("since", Time, nullable=False),
    Column("last_error", Text),
    Column("in_flight", Integer, nullable=False, default=0),
    Column("submitted", BigInteger, nullable=False, default=0),  # messages taken since the process started
    Column("sent_per_second", Float, nullable=False, default=0.0),  # over the last report interval
    Column("heartbeat_at", Time, nullable=False),
)

routes = Table(
    "routes",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("priority", Integer, nullable=False, default=0),
    Column("prefixes", JSON, nullable=False),  # E.164 prefixes; empty = any destination
    Column("messaging_profile_id", String(36)),
    Column("message_type", String(8)),  # SMS | MMS | NULL = any
    Column("connectors", JSON, nullable=False),  # names, in failover order
    Column("created_at", Time, nullable=False),
)

message_parts = Table(
    "message_parts",
    metadata,
    Column("message_id", String(36), primary_key=True),
    Column("part", Integer, primary_key=True),
    Column("connector", String(64), nullable=False),
    Column("carrier_message_id", String(64), nullable=False),
    Column("status", String(24)),  # the last receipt's status for this part; NULL = none yet
    Column("error_code", String(8)),
    Column("error_detail", Text),
    Column("updated_at", Time, nullable=False),
    UniqueConstraint("connector", "carrier_message_id", name="uq_message_parts_carrier_id"),
)

carrier_receipts = Table(
    "carrier_receipts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("connector", String(64), nullable=False),
    Column("carrier_message_id", String(64), nullable=False),
    Column("status", String(24), nullable=False),
    Column("at", Time, nullable=False),
    Column("error_code", String(8)),
    Column("error_detail", Text),
    Column("received_at", Time, nullable=False),
    Index("ix_carrier_receipts_carrier_id", "connector", "carrier_message_id"),
)

__all__ = [
    "connectors",
    "connector_links",
    "routes",
    "message_parts",
    "carrier_receipts",
    "metadata",
    "organizations",
    "api_keys",
    "messaging_profiles",
    "phone_numbers",
    "short_codes",
    "number_orders",
    "messages",
    "webhook_events",
    "webhook_attempts",
    "handset_messages",
    "idempotency_keys",
    "alphanumeric_sender_ids",
    "sticky_senders",
    "opt_outs",
    "autoresp_configs",
    "short_links",
    "profile_rollups",
    "profile_error_rollups",
]

"""Webhooks from a Telnyx-compatible upstream (a `telnyx` connector), posted to
`/carriers/v1/{connector}/webhooks`: verified with the upstream's Ed25519 key, then turned into
receipts (`message.sent`, `message.finalized`) and inbound messages (`message.received`) on our side.

Answering 2xx means it is committed: the upstream retries anything else, so nothing is lost.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any

import orjson
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from heliograph.carriers.base import CarrierInbound, CarrierReceipt
from heliograph.domain.errors import AuthenticationFailed, InvalidValue, NotFound
from heliograph.domain.rows import Row
from heliograph.domain.times import parse_iso
from heliograph.services import inbound, receipts
from heliograph.services.context import Context
from heliograph.store import carriers as store

logger = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300  # what the official SDKs accept

# the upstream's final recipient status -> ours (a message the upstream took is already `sent` here)
_FINAL = {
    "delivered": "delivered",
    "delivery_failed": "delivery_failed",
    "sending_failed": "delivery_failed",
    "delivery_unconfirmed": "delivery_unconfirmed",
    "expired": "expired",
}


async def receive(ctx: Context, connector: str, body: bytes, signature: str | None, timestamp: str | None) -> str:
    """Verify and apply one upstream webhook; returns what it was (for the log)."""
    async with ctx.db.read() as conn:
        row = await store.get_connector(conn, connector)
    if row is None or row["type"] != "telnyx":
        raise NotFound(f"No telnyx connector named {connector!r}.")
    _verify(row["config"].get("public_key", ""), body, signature, timestamp, ctx.now() // 1_000_000)
    try:
        event = orjson.loads(body)["data"]
        event_type, payload = event["event_type"], event["payload"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise InvalidValue("Not a Telnyx webhook body (data.event_type, data.payload).") from None
    at = _time(event.get("occurred_at")) or ctx.now()
    if event_type in ("message.sent", "message.finalized"):
        to = (payload.get("to") or [{}])[0]
        status = "sent" if event_type == "message.sent" else _FINAL.get(to.get("status", ""), "delivery_unconfirmed")
        error = (payload.get("errors") or [{}])[0] if status != "sent" else {}
        code = str(error.get("code") or "") or None
        await receipts.record(
            ctx,
            [
                CarrierReceipt(
                    connector,
                    str(payload["id"]),
                    status,
                    at,
                    error_code=code if code and code.startswith("40") and len(code) == 5 else None,
                    error_detail=_detail(connector, error) if error else None,
                )
            ],
        )
    elif event_type == "message.received":
        media = tuple(m["url"] for m in payload.get("media") or [] if m.get("url"))
        item = CarrierInbound(
            connector,
            from_number=payload["from"]["phone_number"],
            to_number=(payload.get("to") or [{}])[0].get("phone_number", ""),
            text=payload.get("text"),
            at_us=at,
            media_urls=media,
            carrier_message_id=str(payload.get("id") or ""),
        )
        await inbound.record_carrier_inbound(ctx, [item])
    else:
        logger.info("upstream webhook ignored", extra={"action": "upstream_webhook", "event_type": event_type})
    return event_type


def _verify(public_key: str, body: bytes, signature: str | None, timestamp: str | None, now_s: int) -> None:
    if not signature or not timestamp:
        raise AuthenticationFailed("The webhook is not signed (telnyx-signature-ed25519, telnyx-timestamp).")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise AuthenticationFailed("telnyx-timestamp is not a Unix time.") from None
    if abs(now_s - sent_at) > TOLERANCE_SECONDS:
        raise AuthenticationFailed("The webhook's timestamp is too old or in the future.")
    try:
        key = VerifyKey(base64.b64decode(public_key))
        key.verify(timestamp.encode() + b"|" + body, base64.b64decode(signature))
    except (BadSignatureError, binascii.Error, ValueError):
        raise AuthenticationFailed("The webhook's signature does not verify with the upstream's public key.") from None


def _detail(connector: str, error: Row) -> str:
    return f"Upstream {connector}: {error.get('code', '')} {error.get('title', '')} {error.get('detail', '')}".strip()


def _time(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None

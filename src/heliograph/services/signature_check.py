"""Check a webhook signature the way a receiver does, and when it fails, say why.

Ed25519 alone cannot tell a wrong key from an altered body. But the organization's own events are on
record, so the helper compares the pasted request with what was actually sent: if the signature verifies
over the original body, the receiver's copy of the body was altered (often re-serialized JSON); if the
body is the original and the timestamp is the one signed, the key is wrong.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import orjson
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from heliograph.services import webhooks
from heliograph.services.context import Context
from heliograph.store import accounts, outbox

TOLERANCE_SECONDS = 300  # what the official SDKs accept between the timestamp and now


@dataclass
class Verdict:
    verified: bool
    reasons: list[str]


def _verifies(key: VerifyKey, timestamp: str, body: bytes, signature: bytes) -> bool:
    try:
        key.verify(timestamp.encode() + b"|" + body, signature)
        return True
    except BadSignatureError:
        return False


async def check(ctx: Context, org_id: str, body: str, timestamp: str, signature: str) -> Verdict:
    body_bytes = body.encode()
    timestamp = timestamp.strip()
    reasons: list[str] = []
    try:
        raw_signature = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw_signature = b""
    if len(raw_signature) != 64:
        return Verdict(False, ["The signature is not a base64 Ed25519 signature (64 bytes once decoded)."])
    if not timestamp.isdigit():
        return Verdict(False, ["The timestamp must be the telnyx-timestamp header: whole seconds since 1970."])
    async with ctx.db.read() as conn:
        org = await accounts.get_organization(conn, org_id)
        assert org is not None
        originals = await _originals(conn, org_id, body_bytes)
    key = VerifyKey(base64.b64decode(org["public_key"]))
    age = ctx.now() // 1_000_000 - int(timestamp)
    stale = abs(age) > TOLERANCE_SECONDS
    if stale:
        reasons.append(
            f"Stale timestamp: it is {abs(age)} s {'old' if age > 0 else 'in the future'}; "
            f"the SDKs refuse more than {TOLERANCE_SECONDS} s."
        )
    if _verifies(key, timestamp, body_bytes, raw_signature):
        return Verdict(not stale, reasons or ["The signature verifies with your organization's public key."])
    for original, signed_at in originals:
        if original != body_bytes and _verifies(key, timestamp, original, raw_signature):
            where = next((i for i, (a, b) in enumerate(zip(original, body_bytes, strict=False)) if a != b), None)
            where = min(len(original), len(body_bytes)) if where is None else where
            reasons.append(
                "Body altered: the signature verifies over the body Heliograph sent, not over this one "
                f"(they differ from byte {where}). Verify the raw request body, before any JSON parsing."
            )
            return Verdict(False, reasons)
        if (
            original == body_bytes
            and str(signed_at) != timestamp
            and _verifies(key, str(signed_at), original, raw_signature)
        ):
            reasons.append(f"Timestamp altered: this signature was made with telnyx-timestamp {signed_at}.")
            return Verdict(False, reasons)
    if any(original == body_bytes and str(signed_at) == timestamp for original, signed_at in originals):
        reasons.append(
            "Wrong key: this body and timestamp are exactly what Heliograph sent, but the signature was not made "
            "with your organization's key (is TELNYX_PUBLIC_KEY the one on the Account page?)."
        )
    elif originals:
        reasons.append("The signature does not verify: it was not made over this body and timestamp with your key.")
    else:
        reasons.append(
            "The signature does not verify with your organization's public key, and this body is not one of your "
            "recorded webhooks: wrong key, altered body or another timestamp."
        )
    return Verdict(False, reasons)


async def _originals(conn, org_id: str, body: bytes) -> list[tuple[bytes, int]]:
    """(body as sent, its telnyx-timestamp) for every attempt of the event the pasted body names."""
    try:
        parsed: Any = orjson.loads(body)
        event_id = parsed["data"]["id"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return []
    if not isinstance(event_id, str):
        return []
    event = await outbox.get_event(conn, org_id, event_id)
    if event is None:
        return []
    attempts = (await outbox.attempts_of(conn, [event_id]))[event_id]
    return [(webhooks.body_for_attempt(event, a["attempt"], a["url"]), a["started_at"] // 1_000_000) for a in attempts]

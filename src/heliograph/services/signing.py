"""Ed25519 webhook signatures exactly as Telnyx makes them (spec webhooks.md §3).

The signed bytes are `"{timestamp}|"` followed by the raw body; the signature and the public key are
standard base64 (the key as its 32 raw bytes, which is what the official SDKs expect).
"""

from __future__ import annotations

import base64
from functools import lru_cache

from nacl.signing import SigningKey


def new_key_pair() -> tuple[str, str]:
    """(private seed as hex, public key as base64 of 32 raw bytes)."""
    key = SigningKey.generate()
    return key.encode().hex(), base64.b64encode(bytes(key.verify_key)).decode()


@lru_cache(maxsize=1024)
def _signing_key(seed_hex: str) -> SigningKey:
    return SigningKey(bytes.fromhex(seed_hex))


def sign(seed_hex: str, timestamp: int, body: bytes) -> str:
    signed = _signing_key(seed_hex).sign(str(timestamp).encode() + b"|" + body)
    return base64.b64encode(signed.signature).decode()


def headers(seed_hex: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "telnyx-webhooks",
        "telnyx-timestamp": str(timestamp),
        "telnyx-signature-ed25519": sign(seed_hex, timestamp, body),
    }

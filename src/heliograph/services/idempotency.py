"""Idempotency-Key on the send endpoints (spec README §7b).

The key's record is committed in the same transaction as the message it created, so a request that
crashed before committing left nothing behind and its retry creates the message once; a request that
committed is replayed. Concurrent duplicates are caught in process by an in-flight set and across
processes by the table's primary key.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from heliograph.domain.errors import InvalidValue, StillProcessing, ValidationFailed
from heliograph.services.context import Context
from heliograph.store import idempotency as store

KEY_FORMAT = re.compile(r"^[A-Za-z0-9_:-]{1,255}$")


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """A send's Idempotency-Key: what identifies it, the hash of its request, and the expiry horizon."""

    organization_id: str
    method: str
    path: str
    key: str
    request_hash: str
    expired_before: int  # records created before this instant have expired

    def new_key(self, now: int) -> store.NewKey:
        """The row committed with the send's message (its response rendered by the committer)."""
        return store.NewKey(
            self.organization_id, self.method, self.path, self.key, self.request_hash, now, self.expired_before
        )


@dataclass(frozen=True, slots=True)
class Replay:
    status: int
    body: bytes


class InFlight:
    def __init__(self) -> None:
        self._keys: set[tuple[str, str, str, str]] = set()

    def claim(self, record: IdempotencyRecord) -> None:
        ident = (record.organization_id, record.method, record.path, record.key)
        if ident in self._keys:
            raise StillProcessing("A request with this Idempotency-Key is still being processed.")
        self._keys.add(ident)

    def release(self, record: IdempotencyRecord) -> None:
        self._keys.discard((record.organization_id, record.method, record.path, record.key))


def record_for(
    ctx: Context, organization_id: str, method: str, path: str, key: str, body: bytes, query: str
) -> IdempotencyRecord:
    if not KEY_FORMAT.match(key):
        raise InvalidValue("Idempotency-Key must be 1–255 characters of letters, digits, '_', ':' or '-'.")
    digest = hashlib.sha256(body + b"\0" + query.encode()).hexdigest()
    horizon = ctx.now() - int(ctx.settings.idempotency_ttl_hours * 3600 * 1_000_000)
    return IdempotencyRecord(organization_id, method, path, key, digest, horizon)


async def find_replay(ctx: Context, record: IdempotencyRecord) -> Replay | None:
    """The stored response for this key, or None; a different request under the same key → 422."""
    async with ctx.db.read() as conn:
        row = await store.find(
            conn, record.organization_id, record.method, record.path, record.key, record.expired_before
        )
    if row is None:
        return None
    if row["request_hash"] != record.request_hash:
        raise ValidationFailed("This Idempotency-Key was already used with a different request body or query.")
    return Replay(row["response_status"], row["response_body"].encode())

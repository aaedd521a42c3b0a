"""The webhook log as a person reads it: newest first, failures on demand, and for one event the exact
signed requests that were sent (rebuilt: Ed25519 signatures are deterministic) with their responses."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from heliograph.domain.errors import NotFound
from heliograph.domain.rows import Row
from heliograph.services import sealing, signing, webhooks
from heliograph.services.context import Context
from heliograph.store import accounts, outbox


@dataclass
class Entry:
    event: Row
    attempts: list[Row]  # most recent first

    @property
    def last(self) -> Row | None:
        return self.attempts[0] if self.attempts else None

    @property
    def url(self) -> str | None:
        if self.last is not None:
            return self.last["url"]
        urls = self.event["urls"] or []
        return urls[self.event["next_url_index"] % len(urls)] if urls else None


@dataclass
class SignedAttempt:
    attempt: Row
    headers: dict[str, str]
    body: str  # the exact bytes that were signed and sent
    pretty: str  # the same JSON, indented for reading


async def recent(ctx: Context, org_id: str, *, failed_only: bool = False, limit: int = 100) -> list[Entry]:
    async with ctx.db.read() as conn:
        events = await outbox.recent_events(conn, org_id, failed_only=failed_only, limit=limit)
        attempts = await outbox.attempts_of(conn, [e["id"] for e in events])
    return [Entry(e, attempts[e["id"]]) for e in events]


async def entry(ctx: Context, org_id: str, event_id: str) -> tuple[Entry, list[SignedAttempt]]:
    """One event with each attempt's signed request as it went out; NotFound for unknown or foreign ids."""
    async with ctx.db.read() as conn:
        event = await outbox.get_event(conn, org_id, event_id)
        if event is None:
            raise NotFound(f"Webhook event {event_id} was not found.")
        attempts = (await outbox.attempts_of(conn, [event_id]))[event_id]
        org = await accounts.get_organization(conn, org_id)
    assert org is not None
    seed = sealing.open_seed(ctx, org_id, org["signing_seed"])
    signed = []
    for a in attempts:
        body = webhooks.body_for_attempt(event, a["attempt"], a["url"])
        headers = signing.headers(seed, a["started_at"] // 1_000_000, body)
        pretty = orjson.dumps(orjson.loads(body), option=orjson.OPT_INDENT_2).decode()
        signed.append(SignedAttempt(a, headers, body.decode(), pretty))
    return Entry(event, attempts), signed

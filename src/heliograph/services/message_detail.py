"""Everything about one message for a person to read: its wire object, its parts as cut, and a timeline
of what happened (accepted, sent, final status, every webhook attempt)."""

from __future__ import annotations

from dataclasses import dataclass, field

from heliograph.domain import encoding as enc
from heliograph.domain.rows import Row
from heliograph.domain.times import iso
from heliograph.services import messages_query
from heliograph.services.context import Context
from heliograph.store import conversations, outbox
from heliograph.store import messages as store


@dataclass
class Part:
    number: int
    text: str
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    carrier: Row | None = None  # the carrier link's record of this part, once submitted


@dataclass
class Step:
    at: int  # epoch microseconds
    what: str
    detail: str = ""
    url: str | None = None
    http_status: int | None = None
    latency_ms: float | None = None
    ok: bool = True
    event_id: str | None = None

    @property
    def at_iso(self) -> str:
        return iso(self.at) or ""


@dataclass
class Detail:
    message: Row  # the API's message object
    row: Row
    parts: list[Part]
    timeline: list[Step]
    events: list[Row] = field(default_factory=list)
    connector: str | None = None


def cut(row: Row) -> list[Part]:
    """The SMS parts as they were sent (the transmitted text, after smart encoding and link rewriting)."""
    text = row["transmitted_text"] if row["transmitted_text"] is not None else (row["text"] or "")
    if row["type"] != "SMS" or row["encoding"] not in (enc.GSM7, enc.UCS2):
        return [Part(1, text, len(text))]
    measure = enc.septet_length if row["encoding"] == enc.GSM7 else enc.utf16_length
    return [Part(i + 1, p, measure(p)) for i, p in enumerate(enc.split_parts(text, row["encoding"]))]


async def detail(ctx: Context, org_id: str, message_id: str) -> Detail:
    """NotFound (40303) for an unknown or foreign id, as the API answers."""
    wire = await messages_query.retrieve(ctx, org_id, message_id)
    async with ctx.db.read() as conn:
        row = await store.get_message(conn, org_id, message_id)
        assert row is not None
        carrier_parts = {p["part"]: p for p in await conversations.carrier_parts(conn, message_id)}
        events = await outbox.events_for_message(conn, message_id)
        attempts = await outbox.attempts_of(conn, [e["id"] for e in events])
    parts = cut(row)
    for part in parts:
        part.carrier = carrier_parts.get(part.number)
    return Detail(wire, row, parts, _timeline(row, events, attempts), events, row.get("connector"))


def _timeline(row: Row, events: list[Row], attempts: dict[str, list[Row]]) -> list[Step]:
    steps: list[Step] = []
    if row["direction"] == "outbound":
        steps.append(Step(row["received_at"], "accepted", f"queued, {row['parts']} part(s), {row['encoding']}"))
        if row["send_at"] is not None:
            steps.append(Step(row["send_at"], "scheduled for", ""))
        if row["sent_at"] is not None:
            steps.append(Step(row["sent_at"], "sent", "handed to the carrier"))
        if row["completed_at"] is not None:
            errors = ", ".join(f"{e.get('code')} {e.get('title', '')}".strip() for e in row["errors"] or [])
            steps.append(Step(row["completed_at"], row["status"], errors, ok=row["status"] == "delivered"))
    else:
        steps.append(Step(row["received_at"], "received", f"from {row['from_number']}"))
    for event in events:
        if event["status"] == "no_url":
            steps.append(
                Step(event["occurred_at"], event["event_type"], "no webhook URL: not sent", event_id=event["id"])
            )
            continue
        for a in sorted(attempts.get(event["id"], []), key=lambda a: (a["attempt"], a["id"])):
            steps.append(
                Step(
                    a["started_at"],
                    f"{event['event_type']} attempt {a['attempt']}",
                    a["error_detail"] or ("delivered" if a["delivered"] else "failed"),
                    url=a["url"],
                    http_status=a["http_status"],
                    latency_ms=round((a["finished_at"] - a["started_at"]) / 1000, 1),
                    ok=bool(a["delivered"]),
                    event_id=event["id"],
                )
            )
        if event["status"] == "pending" and event["next_attempt_at"] is not None:
            steps.append(Step(event["next_attempt_at"], f"{event['event_type']} next attempt", event_id=event["id"]))
    steps.sort(key=lambda s: s.at)
    return steps

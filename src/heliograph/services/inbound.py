"""Inbound messages (MO): store them, apply opt-out / opt-in / help keywords, send the configured
auto-reply, and owe a `message.received` webhook — all in one transaction.

Inbound arrives from the sandbox API and CLI (a handset writing to one of your numbers), from on-net
delivery (one of your numbers writing to another), and later from carrier links.
"""

from __future__ import annotations

import logging
import mimetypes
from dataclasses import dataclass, field

from heliograph.carriers.base import CarrierInbound
from heliograph.domain import encoding as enc
from heliograph.domain import keywords, phone
from heliograph.domain.errors import InvalidUrl, MissingParameter, NotE164, NotFound
from heliograph.domain.ids import new_uuid
from heliograph.domain.rows import Row
from heliograph.services import metrics, pacing, send_policy, senders, sending, views, webhooks
from heliograph.services.accounts import Caller
from heliograph.services.context import Context
from heliograph.store import accounts, outbox
from heliograph.store import compliance as compliance_store
from heliograph.store import messages as message_store

logger = logging.getLogger(__name__)


@dataclass
class InboundOutcome:
    message: Row
    events: list[Row] = field(default_factory=list)
    replies: list[Row] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Receiver:
    """The number (or short code) a message was sent to, with its owner and profile."""

    organization_id: str
    address: str
    short_code: bool
    profile: Row | None
    number_row: Row | None
    tags: list[str]


async def find_receiver(conn, address: str, org_id: str | None = None) -> Receiver | None:
    """The platform number `address` belongs to (restricted to `org_id` when given), or None."""
    if phone.is_short_code(address):
        row = await accounts.short_code_by_code(conn, address)
        is_short = True
    else:
        row = await accounts.number_by_e164(conn, address)
        is_short = False
    if row is None or (org_id is not None and row["organization_id"] != org_id):
        return None
    profile = None
    if row["messaging_profile_id"]:
        profile = await accounts.get_profile(conn, row["organization_id"], row["messaging_profile_id"])
    return Receiver(
        row["organization_id"], address, is_short, profile, None if is_short else row, list(row["tags"] or [])
    )


def _media(urls: list[str]) -> list[Row]:
    return [
        {
            "url": u,
            "content_type": mimetypes.guess_type(u.split("?")[0])[0] or "application/octet-stream",
            "size": None,
            "sha256": None,
        }
        for u in urls
    ]


async def process(
    ctx: Context,
    conn,
    receiver: Receiver,
    sender: str,
    text: str | None,
    media_urls: list[str],
    now: int,
) -> InboundOutcome:
    """Everything one inbound message causes, written on `conn` (the caller's transaction)."""
    text = text or ""
    encoded = enc.encode_text(text)
    remote = phone.lookup(sender) if sender.startswith("+") else phone.NumberInfo(sender, "", "", "", False)
    profile = receiver.profile
    row: Row = {
        "id": new_uuid(),
        "organization_id": receiver.organization_id,
        "messaging_profile_id": profile["id"] if profile else None,
        "direction": "inbound",
        "type": "MMS" if media_urls else "SMS",
        "status": "delivered",
        "from_number": sender,
        "from_carrier": remote.carrier,
        "from_line_type": remote.line_type,
        "to_number": receiver.address,
        "to_carrier": senders.PLATFORM_CARRIER,
        "to_line_type": "" if receiver.short_code else "VoIP",
        "text": text,
        "transmitted_text": None,
        "subject": None,
        "media": _media(media_urls),
        "webhook_url": profile["webhook_url"] if profile else None,
        "webhook_failover_url": profile["webhook_failover_url"] if profile else None,
        "use_profile_webhooks": True,
        "encoding": encoded.encoding,
        "parts": 1 if media_urls else encoded.parts,
        "num_chars": encoded.num_chars,
        "tags": receiver.tags,
        "cost_rate": "0",
        "cost_carrier_fee": "0",
        "errors": [],
        "smart_encoding_applied": False,
        "wait_seconds": None,
        "received_at": now,
        "sent_at": None,
        "completed_at": None,
        "valid_until": None,
        "send_at": None,
        "due_at": None,
        "lease_until": None,
        "submit_attempts": 0,
        "carrier_message_id": None,
        "group_message_id": None,
        "extra": None,
    }
    outcome = InboundOutcome(row)
    if profile is not None and not media_urls:
        await _keywords(ctx, conn, receiver, row, outcome, remote.country, now)
    await message_store.insert_messages(conn, [row] + outcome.replies)
    await metrics.record(conn, [], [row])
    event = webhooks.new_event(
        organization_id=receiver.organization_id,
        event_type="message.received",
        payload=views.message(row),
        occurred_at=now,
        urls=webhooks.profile_urls(profile),
        message_id=row["id"],
    )
    outcome.events.append(event)
    return outcome


async def _keywords(
    ctx: Context, conn, receiver: Receiver, row: Row, outcome: InboundOutcome, country: str, now: int
) -> None:
    profile = receiver.profile
    assert profile is not None
    configs = [
        keywords.Config(c["id"], c["op"], c["keywords"], c["country_code"], c["resp_text"])
        for c in await compliance_store.configs_of_profile(conn, profile["id"])
    ]
    hit = keywords.match(row["text"], configs, country, short_code=receiver.short_code)
    if hit is None:
        return
    row["extra"] = {"autoresponse_type": {"stop": "STOP", "start": "START", "info": "HELP"}[hit.op]}
    if hit.op == "stop":
        await compliance_store.add_opt_out(
            conn,
            {
                "messaging_profile_id": profile["id"],
                "recipient": row["from_number"],
                "organization_id": receiver.organization_id,
                "from_number": receiver.address,
                "keyword": hit.keyword,
                "created_at": now,
            },
        )
    elif hit.op == "start":
        await compliance_store.remove_opt_out(conn, profile["id"], row["from_number"])
    if hit.config is not None and hit.config.resp_text and receiver.number_row is not None:
        # the reply goes out even to someone who just opted out: it confirms the opt-out
        outcome.replies.append(await _reply(ctx, conn, receiver, row["from_number"], hit.config.resp_text, now))


async def _reply(ctx: Context, conn, receiver: Receiver, to: str, text: str, now: int) -> Row:
    number_row, profile = receiver.number_row, receiver.profile
    assert number_row is not None and profile is not None  # replies go out only from a number on a profile
    sender = senders.for_number(number_row, profile)
    encoded = enc.encode_text(text, smart=bool(profile["smart_encoding"]))
    destination = send_policy.destination_info(to, sender)
    caller = Caller(receiver.organization_id, "", True)
    row = sending.build_row(ctx, caller, sender, to, destination, "SMS", text, None, [], encoded, None)
    slots = pacing.request(sender.number, sender.mps(ctx.settings), [row])
    if slots is not None and await pacing.assign(conn, [(row, slots)]):  # takes its slot in this transaction
        raise pacing.queue_full()
    return row


async def record_carrier_inbound(ctx: Context, items: list[CarrierInbound]) -> None:
    """Messages from carrier links (SMPP deliver_sm, an upstream's message.received): the same path as the
    sandbox's, committed before the link acknowledges. A message to a number that is not ours is logged
    and dropped (acknowledged, so the carrier does not redeliver it forever)."""
    events: list[Row] = []
    replies = 0
    async with ctx.db.transaction() as conn:
        for item in items:
            receiver = await find_receiver(conn, item.to_number)
            if receiver is None:
                logger.warning(
                    "inbound message to a number that is not on this platform: dropped",
                    extra={"action": "carrier_inbound", "connector": item.connector, "to": item.to_number},
                )
                continue
            outcome = await process(ctx, conn, receiver, item.from_number, item.text, list(item.media_urls), item.at_us)
            events.extend(outcome.events)
            replies += len(outcome.replies)
            logger.info(
                "inbound message",
                extra={
                    "action": "carrier_inbound",
                    "connector": item.connector,
                    "message_id": outcome.message["id"],
                    "carrier_message_id": item.carrier_message_id,
                },
            )
        await outbox.add_events(conn, events)
    if events:
        ctx.wakeups.webhooks.set()
    if replies:
        ctx.wakeups.dispatcher.set()


async def receive(ctx: Context, org_id: str, *, sender: str, to: str, text: str | None, media_urls: list[str]) -> Row:
    """A handset writes to one of the organization's numbers (sandbox API and CLI)."""
    if not phone.is_e164(sender):
        raise NotE164(f"'from' must be an E.164 number, not {sender!r}.", pointer="/from")
    if not (phone.is_e164(to) or phone.is_short_code(to)):
        raise NotE164(f"'to' must be an E.164 number or short code, not {to!r}.", pointer="/to")
    if not text and not media_urls:
        raise MissingParameter("An inbound message needs 'text' or 'media_urls'.", pointer="/text")
    for i, url in enumerate(media_urls):
        if not sending.valid_url(url):
            raise InvalidUrl("Each media URL must be an http(s) URL.", pointer=f"/media_urls/{i}")
    async with ctx.db.transaction() as conn:
        receiver = await find_receiver(conn, to, org_id)
        if receiver is None:
            raise NotFound(f"{to} is not a number of this account; inbound messages can only reach your own numbers.")
        outcome = await process(ctx, conn, receiver, sender, text, media_urls, ctx.now())
        await outbox.add_events(conn, outcome.events)
    if receiver.profile is None:
        logger.warning(
            "inbound message to a number without a messaging profile: stored, no webhook",
            extra={"action": "inbound", "message_id": outcome.message["id"], "to": to},
        )
    ctx.wakeups.webhooks.set()
    if outcome.replies:
        ctx.wakeups.dispatcher.set()
    return outcome.message

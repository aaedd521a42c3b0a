"""Sending: check a send request in the order Telnyx does, resolve the sender, encode, price and pace
it, and commit the message (with its idempotency record, if any) through the group committer.

Checks follow spec messages.md §3 row by row; the first failure wins. The wire body is parsed once,
into a `SendRequest` (services/send_request.py, rows 1–6); the policy checks are in
services/send_policy.py (rows 15–21). Group MMS and WhatsApp reuse the same checks and commit path.

    await sending.accept(ctx, caller, send_request.parse(body, sending.SEND), idempotency=None)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from heliograph.domain import encoding as enc
from heliograph.domain import phone, sandbox
from heliograph.domain.errors import (
    AssociatedResourceMissing,
    IncompatibleMessageType,
    InvalidContentCombination,
    InvalidMmsContent,
    InvalidTo,
    MessageTooLarge,
    NoContent,
    SmsTooLong,
    UnencodableText,
    ValueOutOfRange,
)
from heliograph.domain.ids import new_uuid
from heliograph.domain.rows import Row
from heliograph.domain.times import parse_iso
from heliograph.services import compliance, links, pacing, send_policy, senders, spend, views
from heliograph.services.accounts import Caller
from heliograph.services.committer import WriteIntent
from heliograph.services.context import Context
from heliograph.services.idempotency import IdempotencyRecord
from heliograph.services.send_request import (
    ALPHANUMERIC,
    FIELD_TYPES,
    GROUP_MMS,
    KNOWN_FIELDS,
    LONG_CODE,
    NUMBER_POOL,
    SCHEDULE,
    SEND,
    SHORT_CODE,
    WHATSAPP,
    Endpoint,
    SendRequest,
    check_required,
    parse,
    valid_url,
)
from heliograph.store import accounts as store
from heliograph.store import compliance as compliance_store
from heliograph.store.batches import MESSAGES, SHORT_LINKS

MAX_MEDIA = 10
MAX_GROUP_RECIPIENTS = 8
SCHEDULE_MIN_SECONDS = 5 * 60
SCHEDULE_MAX_SECONDS = 5 * 24 * 3600

__all__ = [
    "ALPHANUMERIC",
    "FIELD_TYPES",
    "GROUP_MMS",
    "KNOWN_FIELDS",
    "LONG_CODE",
    "NUMBER_POOL",
    "SCHEDULE",
    "SEND",
    "SHORT_CODE",
    "WHATSAPP",
    "Draft",
    "Endpoint",
    "SendRequest",
    "accept",
    "build_row",
    "check_destination",
    "commit",
    "encode",
    "group_view",
    "load_profile_arg",
    "parse",
    "send",
    "valid_url",
]


# --- content checks (rows 7–13 of §3) ---------------------------------------------------------------


async def load_profile_arg(conn, caller: Caller, profile_id: str | None) -> Row | None:
    if not profile_id:
        return None
    profile = await store.get_profile(conn, caller.organization_id, profile_id)
    if profile is None:
        raise AssociatedResourceMissing(
            f"Messaging profile {profile_id} does not exist.", pointer="/messaging_profile_id"
        )
    return profile


def _parse_send_at(ctx: Context, raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        when = parse_iso(raw)
    except ValueError:
        raise ValueOutOfRange(f"'send_at' is not an ISO 8601 datetime: {raw!r}.", pointer="/send_at") from None
    now = ctx.now()
    if not now + SCHEDULE_MIN_SECONDS * 1_000_000 <= when <= now + SCHEDULE_MAX_SECONDS * 1_000_000:
        raise ValueOutOfRange("'send_at' must be between 5 minutes and 5 days from now.", pointer="/send_at")
    return when


def check_destination(to: str, pointer: str = "/to") -> None:
    if (
        not (phone.is_e164(to) or phone.is_short_code(to))
        or sandbox.outcome_for(to) is sandbox.Outcome.INVALID_DESTINATION
    ):
        raise InvalidTo("The 'to' address should be a single valid number.", pointer=pointer)


def _check_content(text: str | None, subject: str | None, media_urls: tuple[str, ...]) -> None:
    if text is None and not media_urls and subject is None:
        raise NoContent(
            "The message has no content. Either 'text' and/or 'media_urls' must be provided in the request.",
        )
    if len(media_urls) > MAX_MEDIA:
        raise InvalidMmsContent(
            "MMS can only contain up to 10 items (URLs provided) and the total size must be less than 1 MB.",
            pointer="/media_urls",
        )


@dataclass(slots=True)
class Content:
    """When, to whom and what (rows 7–13 of §3), as the message will carry it."""

    to: str
    send_at: int | None
    text: str | None
    subject: str | None
    media_urls: tuple[str, ...]
    type: str  # SMS | MMS


def _content(ctx: Context, request: SendRequest) -> Content:
    kind = request.endpoint.kind
    send_at = _parse_send_at(ctx, request.send_at) if kind in ("send", "schedule") else None
    check_destination(request.to)
    text, subject, media_urls = request.text, request.subject, request.media_urls
    _check_content(text, subject, media_urls)
    message_type = request.type or ("MMS" if media_urls or subject else "SMS")
    if kind == "alphanumeric":
        message_type, media_urls, subject = "SMS", (), None
    if message_type == "SMS" and media_urls:
        raise InvalidContentCombination(
            "SMS needs text; MMS needs subject and/or media_urls (type SMS was given with media_urls).",
        )
    return Content(request.to, send_at, text, subject, media_urls, message_type)


# --- encoding (rows 22–25) --------------------------------------------------------------------------


def encode(
    ctx: Context,
    text: str | None,
    message_type: str = "SMS",
    *,
    encoding: str = "auto",
    smart: bool = False,
    auto_detect: bool = False,
) -> enc.EncodedText:
    """The text as it will be transmitted: encoding, parts and substitutions; refuses what cannot be sent.

    `encoding` is the request's (auto | gsm7 | ucs2), `smart` the profile's smart_encoding; services/preview.py
    reports this same step without sending."""
    if message_type != "SMS":
        # MMS (and WhatsApp) carry text as is: no substitutions, one part
        encoded = enc.encode_text(text or "", requested="ucs2" if encoding == "ucs2" else "auto")
        return enc.EncodedText(
            encoded.original,
            encoded.original,
            encoded.encoding,
            1,
            encoded.units,
            encoded.num_chars,
            False,
            0,
        )
    try:
        encoded = enc.encode_text(text or "", requested=encoding, smart=smart)
    except enc.NotGsm7Error as exc:
        shown = ", ".join(repr(c) for c in exc.characters[:5])
        raise UnencodableText(
            f"encoding 'gsm7' was requested but the text contains characters GSM-7 cannot carry: {shown}.",
            pointer="/text",
        ) from None
    if text and not encoded.transmitted:
        raise NoContent("The message has no content after smart encoding.", pointer="/text")
    if encoded.parts > enc.MAX_PARTS:
        raise MessageTooLarge(
            f"The SMS message would be divided into {encoded.parts} parts. The maximum is {enc.MAX_PARTS}.",
            pointer="/text",
        )
    limit = ctx.settings.auto_detect_max_parts
    if auto_detect and encoded.parts > limit:
        raise SmsTooLong(
            f"The SMS message would be divided into {encoded.parts} parts. Messages over {limit} should be sent "
            "by MMS or by adding auto_detect=False.",
            pointer="/text",
        )
    return encoded


def _encode_for(
    ctx: Context, request: SendRequest, profile: Row, message_type: str, text: str | None
) -> enc.EncodedText:
    return encode(
        ctx,
        text,
        message_type,
        encoding=request.encoding,
        smart=bool(profile["smart_encoding"]),
        auto_detect=request.auto_detect,
    )


# --- building and committing ------------------------------------------------------------------------


@dataclass
class Draft:
    """One message about to be committed, with what the commit must also do."""

    row: Row
    sender: senders.Sender
    statements: list[Callable[[Any], Awaitable[None]]] = field(default_factory=list)
    extra_rows: list = field(default_factory=list)  # (table, row) pairs committed with the message


def build_row(
    ctx: Context,
    caller: Caller,
    sender: senders.Sender,
    to: str,
    destination: phone.NumberInfo,
    message_type: str,
    text: str | None,
    subject: str | None,
    media_urls: tuple[str, ...] | list[str],
    encoded: enc.EncodedText,
    send_at: int | None,
    request: SendRequest | None = None,
) -> Row:
    """The message row; `request` gives its webhook URLs (none: the profile's, as for auto-replies)."""
    price = ctx.tariff.price(message_type, encoded.parts)
    now = ctx.now()
    return {
        "id": new_uuid(),
        "organization_id": caller.organization_id,
        "messaging_profile_id": sender.profile["id"],
        "direction": "outbound",
        "type": message_type,
        "status": "scheduled" if send_at else "queued",
        "from_number": sender.number,
        "from_carrier": sender.carrier,
        "from_line_type": sender.line_type,
        "to_number": to,
        "to_carrier": destination.carrier,
        "to_line_type": destination.line_type,
        "text": text,
        "transmitted_text": encoded.transmitted if encoded.transmitted != (text or "") else None,
        "subject": subject,
        "media": [{"url": u, "content_type": None, "size": None, "sha256": None} for u in media_urls],
        "webhook_url": (request.webhook_url or None) if request else None,
        "webhook_failover_url": (request.webhook_failover_url or None) if request else None,
        "use_profile_webhooks": request.use_profile_webhooks if request else True,
        "encoding": encoded.encoding,
        "parts": encoded.parts,
        "num_chars": encoded.num_chars,
        "tags": sender.tags,
        "cost_rate": str(price.rate),
        "cost_carrier_fee": str(price.carrier_fee),
        "errors": [],
        "smart_encoding_applied": encoded.smart_encoding_applied,
        "wait_seconds": 0.0,
        "received_at": now,
        "sent_at": None,
        "completed_at": None,
        "valid_until": (send_at or now) + ctx.settings.queue_ttl_seconds * 1_000_000,
        "send_at": send_at,
        "due_at": send_at or now,
        "lease_until": None,
        "submit_attempts": 0,
        "carrier_message_id": None,
        "group_message_id": None,
        "extra": None,
    }


async def commit(
    ctx: Context, drafts: list[Draft], answer: Callable[[], Row], idempotency: IdempotencyRecord | None
) -> Row:
    """Commit the drafts with the group committer; the answer, rendered once their send slots are known.

    Queued messages take their sender's next slots in the commit's transaction (services/pacing.py), so
    the limit holds across processes; one whose queue would outlast its validity is refused 40318."""
    intent = WriteIntent(rows=[(MESSAGES, d.row) for d in drafts], answer=answer)
    first = drafts[0]
    intent.charge = spend.charge_for(
        first.sender.profile, first.row["organization_id"], [d.row for d in drafts], first.row["received_at"]
    )
    intent.slots = pacing.request(first.sender.number, first.sender.mps(ctx.settings), [d.row for d in drafts])
    for draft in drafts:
        intent.statements.extend(draft.statements)
        intent.rows.extend(draft.extra_rows)
    if idempotency is not None:
        intent.idempotency = idempotency.new_key(ctx.now())
    committer = ctx.committer
    assert committer is not None, "bootstrap.build sets the committer"
    await committer.commit(intent)
    return answer()


def _sticky_statement(sender: senders.Sender, to: str, now: int) -> Callable[[Any], Awaitable[None]]:
    async def remember(conn) -> None:
        await store.remember_sticky_sender(conn, sender.profile["id"], to, sender.number, now)

    return remember


# --- the endpoints ----------------------------------------------------------------------------------


async def send(
    ctx: Context,
    caller: Caller,
    body: Row,
    endpoint: Endpoint = SEND,
    idempotency: IdempotencyRecord | None = None,
) -> Row:
    """Parse the wire `body` for `endpoint` and accept it (for callers holding a body: the console, tests)."""
    return await accept(ctx, caller, parse(body, endpoint), idempotency)


async def accept(ctx: Context, caller: Caller, request: SendRequest, idempotency: IdempotencyRecord | None) -> Row:
    """Check, persist and answer one send request; raises HeliographError subclasses on refusal."""
    if request.endpoint.kind == "group_mms":
        return await _accept_group_mms(ctx, caller, request, idempotency)
    send_policy.check_webhook_urls(ctx, request)
    check_required(request)
    # the common send needs no pooled connection: its sender comes from one driver-level query
    content: Content | None = None
    sender: senders.Sender | None = None
    kind = request.endpoint.kind
    if not request.messaging_profile_id:
        content = _content(ctx, request)
        sender = senders.number_sender_now(ctx, caller, kind, request.from_, request.to)
        if sender is None and not ctx.db.sqlite:
            sender = await senders.number_sender_pg(ctx, caller, kind, request.from_, request.to)
    if sender is None or sender.opted_out is None:
        async with ctx.db.read() as conn:
            profile_arg = await load_profile_arg(conn, caller, request.messaging_profile_id)  # 10017 comes first
            content = content or _content(ctx, request)
            if sender is None:
                sender = await senders.resolve(ctx, conn, caller, kind, request.from_, request.to, profile_arg)
            if sender.opted_out is None:
                sender.opted_out = bool(await compliance_store.opted_out(conn, sender.profile["id"], [request.to]))
    assert content is not None and sender is not None
    to, text, subject, media_urls, message_type = (
        content.to,
        content.text,
        content.subject,
        content.media_urls,
        content.type,
    )
    destination = send_policy.destination_info(to, sender)
    send_policy.check_policy(caller, sender, to, destination)
    send_policy.check_not_opted_out(sender, to)
    if message_type == "MMS" and not send_policy.mms_allowed(sender, destination):
        send_policy.check_mms_fallback(sender)
        # the profile asks for SMS instead: the media links travel in the text
        text = "\n".join(filter(None, [subject, text, *media_urls]))
        message_type, media_urls, subject = "SMS", (), None
    rewritten, replacements = links.rewrite(ctx, sender.profile, text)
    encoded = _encode_for(ctx, request, sender.profile, message_type, rewritten)
    row = build_row(
        ctx, caller, sender, to, destination, message_type, text, subject, media_urls, encoded, content.send_at, request
    )
    if replacements:
        # the recipient gets the short links; the API keeps the text as written
        row["transmitted_text"] = encoded.transmitted
        row["num_chars"] = len(text or "")
    draft = Draft(
        row, sender, extra_rows=[(SHORT_LINKS, r) for r in links.link_rows(row, sender.profile, replacements)]
    )
    if sender.remember_sticky:
        draft.statements.append(_sticky_statement(sender, to, row["received_at"]))
    return await commit(ctx, [draft], lambda: views.message(row), idempotency)


async def _accept_group_mms(
    ctx: Context, caller: Caller, request: SendRequest, idempotency: IdempotencyRecord | None
) -> Row:
    """One MMS to up to 8 recipients: a message per recipient, sharing a group id (spec §13)."""
    send_policy.check_webhook_urls(ctx, request)
    check_required(request)
    recipients = request.recipients
    if not 1 <= len(recipients) <= MAX_GROUP_RECIPIENTS:
        raise ValueOutOfRange("'to' must list 1 to 8 recipients.", pointer="/to")
    for i, to in enumerate(recipients):
        check_destination(to, f"/to/{i}")
    if len(set(recipients)) != len(recipients):
        raise InvalidTo("Each recipient may appear only once in 'to'.", pointer="/to")
    text, subject, media_urls = request.text, request.subject, request.media_urls
    _check_content(text, subject, media_urls)
    sender_value = request.from_ or ""
    async with ctx.db.read() as conn:
        if not phone.is_e164(sender_value):
            raise senders.invalid_from("Group MMS must be sent from a long code or toll-free number.")
        sender = await senders.phone_number(conn, caller, sender_value)
    async with ctx.db.read() as conn:
        await compliance.check_not_opted_out(conn, sender.profile["id"], sender.number, list(recipients))
    group_id = new_uuid()
    drafts = []
    for i, to in enumerate(recipients):
        destination = send_policy.destination_info(to, sender)
        send_policy.check_policy(caller, sender, to, destination, f"/to/{i}")
        if destination.country not in ("US", "CA"):
            raise IncompatibleMessageType(
                f"Sending messages from {sender.number} to {to} is not possible: group MMS reaches US and CA only.",
                pointer=f"/to/{i}",
            )
        encoded = _encode_for(ctx, request, sender.profile, "MMS", text)
        row = build_row(ctx, caller, sender, to, destination, "MMS", text, subject, media_urls, encoded, None, request)
        row["group_message_id"] = group_id
        drafts.append(Draft(row, sender))
    return await commit(ctx, drafts, lambda: group_view(group_id, [d.row for d in drafts]), idempotency)


def group_view(group_id: str, rows: list[Row]) -> Row:
    """The parent message of a group: the first child's fields, every recipient in `to`."""
    first = views.message(rows[0])
    first["id"] = group_id
    first["group_message_id"] = group_id
    first["to"] = [views.message(r)["to"][0] for r in rows]
    first["cost"] = None
    first["cost_breakdown"] = None
    return first

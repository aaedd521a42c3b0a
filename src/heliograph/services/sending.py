"""Sending: validate a send request in the order Telnyx does, resolve the sender, price and pace it,
and commit the message (with its idempotency record, if any) through the group committer.

Checks follow spec messages.md §3 row by row; the first failure wins. Group MMS and WhatsApp reuse
the same policy checks and commit path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from heliograph.domain import encoding as enc
from heliograph.domain import phone, sandbox
from heliograph.domain.errors import MessagingRejected, ValidationFailed
from heliograph.domain.ids import new_uuid
from heliograph.domain.times import parse_iso
from heliograph.services import compliance, destinations, links, pacing, senders, spend, views
from heliograph.services.accounts import Caller
from heliograph.services.committer import WriteIntent
from heliograph.services.context import Context
from heliograph.store import accounts as store
from heliograph.store import compliance as compliance_store
from heliograph.store.tables import messages, short_links

Row = dict[str, Any]

_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
MAX_URL_LENGTH = 2000
MAX_MEDIA = 10
MAX_GROUP_RECIPIENTS = 8
SCHEDULE_MIN_SECONDS = 5 * 60
SCHEDULE_MAX_SECONDS = 5 * 24 * 3600


@dataclass(frozen=True)
class Endpoint:
    """What differs between the /messages* send endpoints."""

    path: str
    kind: str
    required: tuple[str, ...] = ()


SEND = Endpoint("/messages", "send")
LONG_CODE = Endpoint("/messages/long_code", "long_code", ("from",))
SHORT_CODE = Endpoint("/messages/short_code", "short_code", ("from",))
NUMBER_POOL = Endpoint("/messages/number_pool", "number_pool", ("messaging_profile_id",))
ALPHANUMERIC = Endpoint("/messages/alphanumeric_sender_id", "alphanumeric", ("from", "text", "messaging_profile_id"))
SCHEDULE = Endpoint("/messages/schedule", "schedule", ("send_at",))
GROUP_MMS = Endpoint("/messages/group_mms", "group_mms", ("from",))
WHATSAPP = Endpoint("/messages/whatsapp", "whatsapp", ("from", "whatsapp_message"))

# Fields of the send requests (for type checks, and for spotting camelCase mistakes).
FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "to": str,
    "from": str,
    "messaging_profile_id": str,
    "text": str,
    "subject": str,
    "media_urls": list,
    "type": str,
    "auto_detect": bool,
    "encoding": str,
    "send_at": str,
    "use_profile_webhooks": bool,
    "webhook_url": str,
    "webhook_failover_url": str,
}
KNOWN_FIELDS = frozenset(FIELD_TYPES) | {"whatsapp_message"}


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    organization_id: str
    method: str
    path: str
    key: str
    request_hash: str
    expired_before: int


# --- request checks (rows 1–13 of §3) ---------------------------------------------------------------


def _type_name(expected: type | tuple[type, ...]) -> str:
    return {str: "string", bool: "boolean", list: "array"}.get(expected, "value")  # type: ignore[arg-type]


def _check_types(body: Row, *, to_type: type = str) -> None:
    if body.get("to") is None:
        raise ValidationFailed("The 'to' parameter is required.", code="10004", pointer="/to")
    types = {**FIELD_TYPES, "to": to_type}
    for name, expected in types.items():
        value = body.get(name)
        if value is None:
            continue
        # bool is an int subclass; a JSON true must not pass for a string and vice versa
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            raise ValidationFailed(
                f"The '{name}' parameter must be of type {_type_name(expected)}.",
                code="10026",
                pointer=f"/{name}",
            )
    for name in ("media_urls", "to"):
        value = body.get(name)
        if isinstance(value, list):
            for i, item in enumerate(value):
                if not isinstance(item, str):
                    raise ValidationFailed(
                        f"Each item of '{name}' must be a string.", code="10026", pointer=f"/{name}/{i}"
                    )


def _check_enums(body: Row) -> None:
    if body.get("type") is not None and body["type"] not in ("SMS", "MMS"):
        raise ValidationFailed("'type' must be one of SMS, MMS.", code="10032", pointer="/type")
    if body.get("encoding") is not None and body["encoding"] not in ("auto", "gsm7", "ucs2"):
        raise ValidationFailed("'encoding' must be one of auto, gsm7, ucs2.", code="10032", pointer="/encoding")


def valid_url(url: str) -> bool:
    return len(url) <= MAX_URL_LENGTH and bool(_URL.match(url))


def _check_urls(body: Row) -> None:
    for name in ("webhook_url", "webhook_failover_url"):
        value = body.get(name)
        if value and not valid_url(value):
            raise ValidationFailed(
                f"'{name}' must be an http(s) URL of at most 2000 characters.",
                code="10003",
                pointer=f"/{name}",
            )
    for i, url in enumerate(body.get("media_urls") or []):
        if not valid_url(url):
            raise ValidationFailed(
                "Each media URL must be an http(s) URL of at most 2000 characters.",
                code="10003",
                pointer=f"/media_urls/{i}",
            )


def _check_required(body: Row, endpoint: Endpoint) -> None:
    for name in endpoint.required:
        if body.get(name) in (None, "", [], {}):
            raise ValidationFailed(f"The '{name}' parameter is required.", code="10004", pointer=f"/{name}")
    if endpoint.kind in ("send", "schedule") and not body.get("from") and not body.get("messaging_profile_id"):
        raise ValidationFailed("Either 'from' or 'messaging_profile_id' is required.", code="10004", pointer="/from")


async def load_profile_arg(conn, caller: Caller, body: Row) -> Row | None:  # noqa: ANN001
    profile_id = body.get("messaging_profile_id")
    if not profile_id:
        return None
    profile = await store.get_profile(conn, caller.organization_id, profile_id)
    if profile is None:
        raise ValidationFailed(
            f"Messaging profile {profile_id} does not exist.", code="10017", pointer="/messaging_profile_id"
        )
    return profile


def _parse_send_at(ctx: Context, body: Row) -> int | None:
    raw = body.get("send_at")
    if raw is None:
        return None
    try:
        when = parse_iso(raw)
    except ValueError:
        raise ValidationFailed(
            f"'send_at' is not an ISO 8601 datetime: {raw!r}.", code="10033", pointer="/send_at"
        ) from None
    now = ctx.now()
    if not now + SCHEDULE_MIN_SECONDS * 1_000_000 <= when <= now + SCHEDULE_MAX_SECONDS * 1_000_000:
        raise ValidationFailed(
            "'send_at' must be between 5 minutes and 5 days from now.", code="10033", pointer="/send_at"
        )
    return when


def check_destination(to: str, pointer: str = "/to") -> None:
    if (
        not (phone.is_e164(to) or phone.is_short_code(to))
        or sandbox.outcome_for(to) is sandbox.Outcome.INVALID_DESTINATION
    ):
        raise MessagingRejected("The 'to' address should be a single valid number.", code="40310", pointer=pointer)


def _check_content(text: str | None, subject: str | None, media_urls: list[str]) -> None:
    if text is None and not media_urls and subject is None:
        raise MessagingRejected(
            "The message has no content. Either 'text' and/or 'media_urls' must be provided in the request.",
            code="40316",
        )
    if len(media_urls) > MAX_MEDIA:
        raise MessagingRejected(
            "MMS can only contain up to 10 items (URLs provided) and the total size must be less than 1 MB.",
            code="40317",
            pointer="/media_urls",
        )


# --- policy checks (rows 15–21) ---------------------------------------------------------------------


def destination_info(to: str, sender: senders.Sender) -> phone.NumberInfo:
    if to.startswith("+"):
        return phone.lookup(to)
    return phone.NumberInfo(to, sender.country or "US", "", "", False)


def check_policy(
    caller: Caller, sender: senders.Sender, to: str, destination: phone.NumberInfo, pointer: str = "/to"
) -> None:
    profile = sender.profile
    if not profile["enabled"]:
        raise MessagingRejected(f"The specified messaging profile {profile['id']} is disabled.", code="40312")
    if not caller.messaging_enabled:
        raise MessagingRejected("Messaging has been disabled on your account.", code="40314", status=403)
    whitelist = profile["whitelisted_destinations"] or []
    if not whitelist:
        raise MessagingRejected("Messaging profile is missing whitelisted destinations.", code="40331")
    if "*" not in whitelist and destination.country not in whitelist:
        raise MessagingRejected(
            f"The region {destination.country or 'unknown'} for the destination {to} is not included in the "
            "messaging profile's whitelisted destinations.",
            code="40309",
            pointer=pointer,
        )
    if profile["mobile_only"] and destination.line_type not in ("Wireless", "Pre-Paid Wireless"):
        raise MessagingRejected(
            f"Sending messages from {sender.number} to {to} is currently unsupported (the profile is mobile only).",
            code="40301",
            pointer=pointer,
        )


def _mms_allowed(sender: senders.Sender, destination: phone.NumberInfo) -> bool:
    """MMS goes from numbers and short codes to domestic destinations only."""
    if sender.kind == "alphanumeric":
        return False
    return not destination.country or destination.country == sender.country


# --- encoding (rows 22–25) --------------------------------------------------------------------------


def _encode(ctx: Context, body: Row, profile: Row, message_type: str, text: str | None) -> enc.EncodedText:
    requested = body.get("encoding") or "auto"
    if message_type != "SMS":
        # MMS (and WhatsApp) carry text as is: no substitutions, one part
        encoded = enc.encode_text(text or "", requested="ucs2" if requested == "ucs2" else "auto")
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
        encoded = enc.encode_text(text or "", requested=requested, smart=bool(profile["smart_encoding"]))
    except enc.NotGsm7Error as exc:
        shown = ", ".join(repr(c) for c in exc.characters[:5])
        raise MessagingRejected(
            f"encoding 'gsm7' was requested but the text contains characters GSM-7 cannot carry: {shown}.",
            code="10015",
            pointer="/text",
        ) from None
    if text and not encoded.transmitted:
        raise MessagingRejected("The message has no content after smart encoding.", code="40316", pointer="/text")
    if encoded.parts > enc.MAX_PARTS:
        raise MessagingRejected(
            f"The SMS message would be divided into {encoded.parts} parts. The maximum is {enc.MAX_PARTS}.",
            code="40302",
            pointer="/text",
        )
    limit = ctx.settings.auto_detect_max_parts
    if body.get("auto_detect") and encoded.parts > limit:
        raise MessagingRejected(
            f"The SMS message would be divided into {encoded.parts} parts. Messages over {limit} should be sent "
            "by MMS or by adding auto_detect=False.",
            code="40328",
            pointer="/text",
        )
    return encoded


# --- building and committing ------------------------------------------------------------------------


@dataclass
class Draft:
    """One message about to be committed, with what the commit must also do."""

    row: Row
    sender: senders.Sender
    statements: list = field(default_factory=list)
    extra_rows: list = field(default_factory=list)  # (table, row) pairs committed with the message


def build_row(
    ctx: Context,
    caller: Caller,
    body: Row,
    sender: senders.Sender,
    to: str,
    destination: phone.NumberInfo,
    message_type: str,
    text: str | None,
    subject: str | None,
    media_urls: list[str],
    encoded: enc.EncodedText,
    send_at: int | None,
) -> Row:
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
        "webhook_url": body.get("webhook_url") or None,
        "webhook_failover_url": body.get("webhook_failover_url") or None,
        "use_profile_webhooks": body.get("use_profile_webhooks", True) is not False,
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
    intent = WriteIntent(rows=[(messages, d.row) for d in drafts], answer=answer)
    first = drafts[0]
    intent.charge = spend.charge_for(
        first.sender.profile, first.row["organization_id"], [d.row for d in drafts], first.row["received_at"]
    )
    intent.slots = pacing.request(first.sender.number, first.sender.mps(ctx.settings), [d.row for d in drafts])
    for draft in drafts:
        intent.statements.extend(draft.statements)
        intent.rows.extend(draft.extra_rows)
    if idempotency is not None:
        intent.idempotency = {
            "organization_id": idempotency.organization_id,
            "method": idempotency.method,
            "path": idempotency.path,
            "key": idempotency.key,
            "request_hash": idempotency.request_hash,
            "response_status": 200,
            "response_body": None,  # rendered by the committer once the slots are known
            "created_at": ctx.now(),
            "_expired_before": idempotency.expired_before,
        }
    await ctx.committer.commit(intent)  # type: ignore[union-attr]
    return answer()


def _sticky_statement(sender: senders.Sender, to: str, now: int):  # noqa: ANN202
    async def remember(conn) -> None:  # noqa: ANN001
        await store.remember_sticky_sender(conn, sender.profile["id"], to, sender.number, now)

    return remember


# --- the endpoints ----------------------------------------------------------------------------------


def _content(ctx: Context, body: Row, endpoint: Endpoint) -> tuple:
    """Rows 7–13 of §3: when, to whom, what. Returns (to, send_at, text, subject, media_urls, type)."""
    send_at = _parse_send_at(ctx, body) if endpoint.kind in ("send", "schedule") else None
    to = body["to"]
    check_destination(to)
    text = body.get("text") or None
    subject = body.get("subject") or None
    media_urls = list(body.get("media_urls") or [])
    _check_content(text, subject, media_urls)
    message_type = body.get("type") or ("MMS" if media_urls or subject else "SMS")
    if endpoint.kind == "alphanumeric":
        message_type, media_urls, subject = "SMS", [], None
    if message_type == "SMS" and media_urls:
        raise MessagingRejected(
            "SMS needs text; MMS needs subject and/or media_urls (type SMS was given with media_urls).",
            code="40304",
        )
    return to, send_at, text, subject, media_urls, message_type


async def send(
    ctx: Context,
    caller: Caller,
    body: Row,
    endpoint: Endpoint = SEND,
    idempotency: IdempotencyRecord | None = None,
) -> Row:
    """Validate, persist and answer one send request; raises HeliographError subclasses on refusal."""
    if endpoint.kind == "group_mms":
        return await send_group_mms(ctx, caller, body, idempotency)
    _check_types(body)
    _check_enums(body)
    _check_urls(body)
    destinations.check_webhook_urls(ctx, body)
    _check_required(body, endpoint)
    # the common send needs no pooled connection: its sender comes from one driver-level query
    content, sender = None, None
    if not body.get("messaging_profile_id"):
        content = _content(ctx, body, endpoint)
        sender = senders.number_sender_now(ctx, caller, endpoint.kind, body)
        if sender is None and not ctx.db.sqlite:
            sender = await senders.number_sender_pg(ctx, caller, endpoint.kind, body)
    if sender is None or sender.opted_out is None:
        async with ctx.db.read() as conn:
            profile_arg = await load_profile_arg(conn, caller, body)  # its 10017 comes before the rest
            content = content or _content(ctx, body, endpoint)
            if sender is None:
                sender = await senders.resolve(ctx, conn, caller, endpoint.kind, body, profile_arg)
            if sender.opted_out is None:
                sender.opted_out = bool(await compliance_store.opted_out(conn, sender.profile["id"], [body["to"]]))
    to, send_at, text, subject, media_urls, message_type = content
    opted_out = sender.opted_out
    destination = destination_info(to, sender)
    check_policy(caller, sender, to, destination)
    if opted_out:
        raise compliance.blocked(sender.number, to)
    if message_type == "MMS" and not _mms_allowed(sender, destination):
        if not sender.profile["mms_fall_back_to_sms"] or sender.kind == "alphanumeric":
            raise MessagingRejected(
                "MMS can only be sent from US long code numbers and MMS-configured short codes, "
                "to domestic destinations.",
                code="40308",
                pointer="/from",
            )
        # the profile asks for SMS instead: the media links travel in the text
        text = "\n".join(filter(None, [subject, text, *media_urls]))
        message_type, media_urls, subject = "SMS", [], None
    rewritten, replacements = links.rewrite(ctx, sender.profile, text)
    encoded = _encode(ctx, body, sender.profile, message_type, rewritten)
    row = build_row(
        ctx, caller, body, sender, to, destination, message_type, text, subject, media_urls, encoded, send_at
    )
    if replacements:
        # the recipient gets the short links; the API keeps the text as written
        row["transmitted_text"] = encoded.transmitted
        row["num_chars"] = len(text or "")
    draft = Draft(
        row, sender, extra_rows=[(short_links, r) for r in links.link_rows(row, sender.profile, replacements)]
    )
    if sender.remember_sticky:
        draft.statements.append(_sticky_statement(sender, to, row["received_at"]))
    return await commit(ctx, [draft], lambda: views.message(row), idempotency)


async def send_group_mms(ctx: Context, caller: Caller, body: Row, idempotency: IdempotencyRecord | None) -> Row:
    """One MMS to up to 8 recipients: a message per recipient, sharing a group id (spec §13)."""
    _check_types(body, to_type=list)
    _check_urls(body)
    destinations.check_webhook_urls(ctx, body)
    _check_required(body, GROUP_MMS)
    recipients: list[str] = body["to"]
    if not 1 <= len(recipients) <= MAX_GROUP_RECIPIENTS:
        raise ValidationFailed("'to' must list 1 to 8 recipients.", code="10033", pointer="/to")
    for i, to in enumerate(recipients):
        check_destination(to, f"/to/{i}")
    if len(set(recipients)) != len(recipients):
        raise MessagingRejected("Each recipient may appear only once in 'to'.", code="40310", pointer="/to")
    text = body.get("text") or None
    subject = body.get("subject") or None
    media_urls = list(body.get("media_urls") or [])
    _check_content(text, subject, media_urls)
    async with ctx.db.read() as conn:
        sender_value = body["from"]
        if not phone.is_e164(sender_value):
            raise senders.invalid_from("Group MMS must be sent from a long code or toll-free number.")
        sender = await senders.phone_number(conn, caller, sender_value)
    async with ctx.db.read() as conn:
        await compliance.check_not_opted_out(conn, sender.profile["id"], sender.number, recipients)
    group_id = new_uuid()
    drafts = []
    for i, to in enumerate(recipients):
        destination = destination_info(to, sender)
        check_policy(caller, sender, to, destination, f"/to/{i}")
        if destination.country not in ("US", "CA"):
            raise MessagingRejected(
                f"Sending messages from {sender.number} to {to} is not possible: group MMS reaches US and CA only.",
                code="40319",
                pointer=f"/to/{i}",
            )
        encoded = _encode(ctx, body, sender.profile, "MMS", text)
        row = build_row(ctx, caller, body, sender, to, destination, "MMS", text, subject, media_urls, encoded, None)
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

"""Sending: validate a send request in the order Telnyx does, resolve the sender, price it, and
commit the message (plus the idempotency record, if any) through the group committer.

The checks follow spec messages.md §3 row by row; the first failure wins.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

import orjson

from heliograph.domain import encoding as enc
from heliograph.domain import phone, sandbox
from heliograph.domain.errors import MessagingRejected, ValidationFailed
from heliograph.domain.ids import new_uuid
from heliograph.domain.times import parse_iso
from heliograph.services.accounts import Caller
from heliograph.services.committer import WriteIntent
from heliograph.services.context import Context
from heliograph.store import accounts as store
from heliograph.store.tables import messages

Row = dict[str, Any]

_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
MAX_URL_LENGTH = 2000
MAX_MEDIA = 10
SCHEDULE_MIN_SECONDS = 5 * 60
SCHEDULE_MAX_SECONDS = 5 * 24 * 3600


@dataclass(frozen=True)
class Endpoint:
    """What differs between the /messages* send endpoints."""

    path: str
    from_required: bool = False
    sender_kinds: frozenset[str] = frozenset({"number", "short_code", "alphanumeric", "pool"})
    send_at_required: bool = False


SEND = Endpoint("/messages")
LONG_CODE = Endpoint("/messages/long_code", from_required=True, sender_kinds=frozenset({"number"}))
SHORT_CODE = Endpoint("/messages/short_code", from_required=True, sender_kinds=frozenset({"short_code"}))
SCHEDULE = Endpoint("/messages/schedule", send_at_required=True)

# Fields of the send request (for type checks, and for spotting camelCase mistakes).
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


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    organization_id: str
    method: str
    path: str
    key: str
    request_hash: str
    expired_before: int


def _check_types(body: Row) -> None:
    if "to" not in body or body["to"] is None:
        raise ValidationFailed("The 'to' parameter is required.", code="10004", pointer="/to")
    for name, expected in FIELD_TYPES.items():
        value = body.get(name)
        if value is None:
            continue
        # bool is an int subclass; a JSON true must not pass as a string or number and vice versa
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            raise ValidationFailed(
                f"The '{name}' parameter must be of type {_type_name(expected)}.", code="10026", pointer=f"/{name}"
            )
    media = body.get("media_urls")
    if media is not None:
        for i, item in enumerate(media):
            if not isinstance(item, str):
                raise ValidationFailed("Each media URL must be a string.", code="10026", pointer=f"/media_urls/{i}")


def _type_name(expected: type | tuple[type, ...]) -> str:
    return {str: "string", bool: "boolean", list: "array"}.get(expected, "value")  # type: ignore[arg-type]


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
            raise ValidationFailed(f"'{name}' must be an http(s) URL of at most 2000 characters.", code="10003", pointer=f"/{name}")
    for i, url in enumerate(body.get("media_urls") or []):
        if not valid_url(url):
            raise ValidationFailed(
                "Each media URL must be an http(s) URL of at most 2000 characters.",
                code="10003",
                pointer=f"/media_urls/{i}",
            )


def _parse_send_at(ctx: Context, body: Row, endpoint: Endpoint) -> int | None:
    raw = body.get("send_at")
    if raw is None:
        if endpoint.send_at_required:
            raise ValidationFailed("The 'send_at' parameter is required.", code="10004", pointer="/send_at")
        return None
    try:
        when = parse_iso(raw)
    except ValueError:
        raise ValidationFailed(f"'send_at' is not an ISO 8601 datetime: {raw!r}.", code="10033", pointer="/send_at") from None
    now = ctx.now()
    if when < now + SCHEDULE_MIN_SECONDS * 1_000_000 or when > now + SCHEDULE_MAX_SECONDS * 1_000_000:
        raise ValidationFailed(
            "'send_at' must be between 5 minutes and 5 days from now.", code="10033", pointer="/send_at"
        )
    return when


@dataclass
class Sender:
    number: str
    kind: str  # number | short_code | alphanumeric
    profile: Row
    carrier: str
    line_type: str
    country: str
    tags: list[str]


async def _resolve_sender(ctx: Context, conn, caller: Caller, body: Row, endpoint: Endpoint, profile_arg: Row | None) -> Sender:  # noqa: ANN001
    sender = body.get("from")
    invalid_from = MessagingRejected(
        "The 'from' address should be a string containing a valid phone number or alphanumeric sender ID "
        "associated with the sending messaging profile.",
        code="40305",
        pointer="/from",
    )
    if not sender:
        if "pool" not in endpoint.sender_kinds or profile_arg is None:
            raise invalid_from
        return await _pool_sender(conn, caller, profile_arg)
    if phone.is_e164(sender):
        if "number" not in endpoint.sender_kinds:
            raise invalid_from
        found = await store.sender_with_profile(conn, caller.organization_id, sender)
        if found is None or found[1] is None:
            raise invalid_from
        number, profile = found
        if number["status"] != "active":
            raise MessagingRejected(
                f"The sending number {sender} is in a temporarily unusable or pending state.", code="40320", pointer="/from"
            )
        return Sender(sender, "number", profile, "Heliograph", "VoIP", number["country_code"], number["tags"] or [])
    if phone.is_short_code(sender):
        if "short_code" not in endpoint.sender_kinds:
            raise invalid_from
        code_row = await store.short_code_by_code(conn, sender)
        if code_row is None or code_row["organization_id"] != caller.organization_id or not code_row["messaging_profile_id"]:
            raise invalid_from
        profile = await store.get_profile(conn, caller.organization_id, code_row["messaging_profile_id"])
        if profile is None:
            raise invalid_from
        return Sender(sender, "short_code", profile, "Heliograph", "", code_row["country_code"], code_row["tags"] or [])
    if any(c.isalpha() for c in sender) and "alphanumeric" in endpoint.sender_kinds:
        if profile_arg is None:
            raise invalid_from
        if not re.fullmatch(r"[A-Za-z0-9 ]{1,11}", sender):
            raise MessagingRejected("The specified alphanumeric sender ID value is invalid.", code="40325", pointer="/from")
        if not profile_arg["alpha_sender"]:
            raise MessagingRejected(
                "The messaging profile doesn't have an associated alphanumeric sender ID.", code="40306", pointer="/from"
            )
        if profile_arg["alpha_sender"] != sender:
            raise MessagingRejected(
                f"The specified alphanumeric sender ID {sender} does not match the one configured on the profile.",
                code="40307",
                pointer="/from",
            )
        return Sender(sender, "alphanumeric", profile_arg, "", "", "", [])
    raise invalid_from


async def _pool_sender(conn, caller: Caller, profile: Row) -> Sender:  # noqa: ANN001
    settings = profile["number_pool_settings"]
    no_numbers = MessagingRejected(
        "Number Pool is not enabled, or it is unable to select a usable number on the messaging profile.",
        code="40321",
    )
    if not settings:
        raise no_numbers
    candidates = [n for n in await store.numbers_of_profile(conn, profile["id"]) if n["status"] == "active"]
    weights = {"longcode": settings.get("long_code_weight", 1), "tollfree": settings.get("toll_free_weight", 1)}
    weighted = [(n, weights.get(n["type"], 0)) for n in candidates if weights.get(n["type"], 0) > 0]
    if not weighted:
        raise no_numbers
    chosen = random.choices([n for n, _ in weighted], weights=[w for _, w in weighted])[0]
    return Sender(chosen["phone_number"], "number", profile, "Heliograph", "VoIP", chosen["country_code"], chosen["tags"] or [])


async def send(
    ctx: Context, caller: Caller, body: Row, endpoint: Endpoint = SEND, idempotency: IdempotencyRecord | None = None
) -> Row:
    """Validate, persist and answer one send request; raises HeliographError subclasses on refusal."""
    from heliograph.services import views

    _check_types(body)
    _check_enums(body)
    _check_urls(body)
    if endpoint.from_required and not body.get("from"):
        raise ValidationFailed("The 'from' parameter is required.", code="10004", pointer="/from")
    if not body.get("from") and not body.get("messaging_profile_id"):
        raise ValidationFailed(
            "Either 'from' or 'messaging_profile_id' is required.", code="10004", pointer="/from"
        )
    async with ctx.db.read() as conn:
        profile_arg = None
        if body.get("messaging_profile_id"):
            profile_arg = await store.get_profile(conn, caller.organization_id, body["messaging_profile_id"])
            if profile_arg is None:
                raise ValidationFailed(
                    f"Messaging profile {body['messaging_profile_id']} does not exist.",
                    code="10017",
                    pointer="/messaging_profile_id",
                )
        send_at = _parse_send_at(ctx, body, endpoint)
        to = body["to"]
        if not (phone.is_e164(to) or phone.is_short_code(to)) or sandbox.outcome_for(to) is sandbox.Outcome.INVALID_DESTINATION:
            raise MessagingRejected("The 'to' address should be a single valid number.", code="40310", pointer="/to")
        text = body.get("text") or None
        subject = body.get("subject") or None
        media_urls = body.get("media_urls") or []
        if text is None and not media_urls and subject is None:
            raise MessagingRejected(
                "The message has no content. Either 'text' and/or 'media_urls' must be provided in the request.",
                code="40316",
            )
        message_type = body.get("type") or ("MMS" if media_urls or subject else "SMS")
        if message_type == "SMS" and media_urls:
            raise MessagingRejected(
                "SMS needs text; MMS needs subject and/or media_urls (type SMS was given with media_urls).", code="40304"
            )
        if len(media_urls) > MAX_MEDIA:
            raise MessagingRejected(
                "MMS can only contain up to 10 items (URLs provided) and the total size must be less than 1 MB.",
                code="40317",
                pointer="/media_urls",
            )
        sender = await _resolve_sender(ctx, conn, caller, body, endpoint, profile_arg)
    profile = sender.profile
    if not profile["enabled"]:
        raise MessagingRejected(f"The specified messaging profile {profile['id']} is disabled.", code="40312")
    if not caller.messaging_enabled:
        raise MessagingRejected(
            "Messaging has been disabled on your account.", code="40314", status=403
        )
    destination = phone.lookup(to) if to.startswith("+") else phone.NumberInfo(to, sender.country, "", "", False)
    whitelist = profile["whitelisted_destinations"] or []
    if not whitelist:
        raise MessagingRejected("Messaging profile is missing whitelisted destinations.", code="40331")
    if "*" not in whitelist and destination.country not in whitelist:
        raise MessagingRejected(
            f"The region {destination.country or 'unknown'} for the destination {to} is not included in the "
            "messaging profile's whitelisted destinations.",
            code="40309",
            pointer="/to",
        )
    if profile["mobile_only"] and destination.line_type not in ("Wireless", "Pre-Paid Wireless"):
        raise MessagingRejected(f"Sending messages from {sender.number} to {to} is currently unsupported.", code="40301", pointer="/to")
    if message_type == "MMS" and (sender.kind == "alphanumeric" or (destination.country and destination.country != sender.country)):
        raise MessagingRejected(
            "MMS can only be sent from US long code numbers and MMS-configured short codes, to domestic destinations.",
            code="40308",
            pointer="/from",
        )
    encoded = _encode(ctx, body, profile, message_type, text)
    price = ctx.tariff.price(message_type, encoded.parts)
    now = ctx.now()
    row = {
        "id": new_uuid(),
        "organization_id": caller.organization_id,
        "messaging_profile_id": profile["id"],
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
    wire = views.message(row)
    intent = WriteIntent(rows=[(messages, row)])
    if idempotency is not None:
        intent.idempotency = {
            "organization_id": idempotency.organization_id,
            "method": idempotency.method,
            "path": idempotency.path,
            "key": idempotency.key,
            "request_hash": idempotency.request_hash,
            "response_status": 200,
            "response_body": orjson.dumps({"data": wire}).decode(),
            "created_at": now,
            "_expired_before": idempotency.expired_before,
        }
    await ctx.committer.commit(intent)  # type: ignore[union-attr]
    return wire


def _encode(ctx: Context, body: Row, profile: Row, message_type: str, text: str | None) -> enc.EncodedText:
    requested = body.get("encoding") or "auto"
    if message_type == "MMS":
        # MMS carries text as is: no substitutions, one part
        encoded = enc.encode_text(text or "", requested="ucs2" if requested == "ucs2" else "auto")
        return enc.EncodedText(encoded.original, encoded.original, encoded.encoding, 1, encoded.units, encoded.num_chars, False, 0)
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

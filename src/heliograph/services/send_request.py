"""The send request: the wire body of POST /v2/messages*, checked and parsed once into a `SendRequest`.

`parse` runs rows 1–6 of spec messages.md §3 (field types, enums, URL shapes) in the order Telnyx
does, and raises the first failure with its Telnyx code and `source.pointer`. What needs the account
or the clock (webhook hosts, the sender, `send_at`'s window, opt-outs) comes later, in
services/sending.py and services/send_policy.py.

    request = parse({"from": "+13125550100", "to": "+13125550123", "text": "hi"}, SEND)
    request.from_, request.to, request.media_urls   # ('+13125550100', '+13125550123', ())
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from heliograph.domain.errors import (
    InvalidEnumValue,
    InvalidParameterType,
    InvalidUrl,
    MissingParameter,
)

_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
MAX_URL_LENGTH = 2000


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
FIELD_TYPES: dict[str, type] = {
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
_TYPE_NAMES = {str: "string", bool: "boolean", list: "array"}


@dataclass(frozen=True, slots=True)
class SendRequest:
    """One send request, its fields type-checked. Empty strings of optional fields read as absent
    where the send code never told them apart (`text`, `subject`, `messaging_profile_id`)."""

    endpoint: Endpoint
    to: str  # the recipient; "" for a group MMS, whose recipients are in `recipients`
    from_: str | None = None
    messaging_profile_id: str | None = None
    text: str | None = None
    subject: str | None = None
    media_urls: tuple[str, ...] = ()
    type: str | None = None  # SMS | MMS, or None: chosen from the content
    auto_detect: bool = False
    encoding: str = "auto"
    send_at: str | None = None  # as sent; parsed against the clock by services/sending.py
    use_profile_webhooks: bool = True
    webhook_url: str | None = None
    webhook_failover_url: str | None = None
    recipients: tuple[str, ...] = ()  # a group MMS's `to`

    def missing(self, name: str) -> bool:
        """True when the field `name` is absent or empty (null, "", [])."""
        value = getattr(self, "from_" if name == "from" else name, None)
        return value is None or value == "" or value == ()


def valid_url(url: str) -> bool:
    return len(url) <= MAX_URL_LENGTH and bool(_URL.match(url))


def parse(body: dict[str, Any], endpoint: Endpoint = SEND) -> SendRequest:
    """The request in `body` for `endpoint`; raises ValidationFailed (10004, 10026, 10032, 10003)."""
    group = endpoint.kind == "group_mms"
    _check_types(body, to_type=list if group else str)
    if not group:  # a group MMS never checked its enums: an unknown `encoding` there reads as "auto"
        _check_enums(body)
    _check_urls(body)
    to = body["to"]
    # positional, in the fields' order: parse runs once per send, and keywords cost twice as much here
    return SendRequest(
        endpoint,
        "" if group else to,
        body.get("from"),  # from_
        body.get("messaging_profile_id") or None,
        body.get("text") or None,
        body.get("subject") or None,
        tuple(body.get("media_urls") or ()),
        body.get("type"),
        bool(body.get("auto_detect")),
        body.get("encoding") or "auto",
        body.get("send_at"),
        body.get("use_profile_webhooks", True) is not False,
        body.get("webhook_url"),
        body.get("webhook_failover_url"),
        tuple(to) if group else (),  # recipients
    )


def check_required(request: SendRequest) -> None:
    """Its endpoint's required fields (row 6 of §3); checked after the webhook hosts, as Telnyx does."""
    endpoint = request.endpoint
    for name in endpoint.required:
        if request.missing(name):
            raise MissingParameter(f"The '{name}' parameter is required.", pointer=f"/{name}")
    if endpoint.kind in ("send", "schedule") and not request.from_ and not request.messaging_profile_id:
        raise MissingParameter("Either 'from' or 'messaging_profile_id' is required.", pointer="/from")


# --- rows 1–5 of §3 ---------------------------------------------------------------------------------


def _check_types(body: dict[str, Any], *, to_type: type = str) -> None:
    if body.get("to") is None:
        raise MissingParameter("The 'to' parameter is required.", pointer="/to")
    for name, expected in FIELD_TYPES.items():
        value = body.get(name)
        if value is None:
            continue
        if name == "to":
            expected = to_type
        # bool is an int subclass; a JSON true must not pass for a string and vice versa
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            raise InvalidParameterType(
                f"The '{name}' parameter must be of type {_TYPE_NAMES.get(expected, 'value')}.",
                pointer=f"/{name}",
            )
    for name in ("media_urls", "to"):
        value = body.get(name)
        if isinstance(value, list):
            for i, item in enumerate(value):
                if not isinstance(item, str):
                    raise InvalidParameterType(f"Each item of '{name}' must be a string.", pointer=f"/{name}/{i}")


def _check_enums(body: dict[str, Any]) -> None:
    if body.get("type") is not None and body["type"] not in ("SMS", "MMS"):
        raise InvalidEnumValue("'type' must be one of SMS, MMS.", pointer="/type")
    if body.get("encoding") is not None and body["encoding"] not in ("auto", "gsm7", "ucs2"):
        raise InvalidEnumValue("'encoding' must be one of auto, gsm7, ucs2.", pointer="/encoding")


def _check_urls(body: dict[str, Any]) -> None:
    for name in ("webhook_url", "webhook_failover_url"):
        value = body.get(name)
        if value and not valid_url(value):
            raise InvalidUrl(
                f"'{name}' must be an http(s) URL of at most 2000 characters.",
                pointer=f"/{name}",
            )
    for i, url in enumerate(body.get("media_urls") or []):
        if not valid_url(url):
            raise InvalidUrl(
                "Each media URL must be an http(s) URL of at most 2000 characters.",
                pointer=f"/media_urls/{i}",
            )

"""Send policy (spec messages.md §3, rows 15–21): may this sender reach this destination now?

The request is well formed and its sender known; these checks ask the account and its profile:
webhook hosts (gateway SSRF guard), the profile enabled, messaging enabled, whitelisted destinations,
mobile-only profiles, opt-outs, and whether MMS can go this way. A spend limit and the sender's queue
are checked later, in the commit's transaction (services/spend.py, services/pacing.py).
"""

from __future__ import annotations

from heliograph.domain import phone
from heliograph.domain.errors import (
    DestinationNotWhitelisted,
    InvalidDestinationRegion,
    InvalidFromForMms,
    MessagingDisabled,
    ProfileDisabled,
    UnsupportedMessageType,
)
from heliograph.services import compliance, destinations
from heliograph.services.accounts import Caller
from heliograph.services.context import Context
from heliograph.services.send_request import SendRequest
from heliograph.services.senders import Sender


def check_webhook_urls(ctx: Context, request: SendRequest) -> None:
    """Gateway mode refuses loopback and private webhook hosts (422 10003 with its pointer)."""
    if request.webhook_url or request.webhook_failover_url:
        destinations.check_webhook_urls(
            ctx, {"webhook_url": request.webhook_url, "webhook_failover_url": request.webhook_failover_url}
        )


def destination_info(to: str, sender: Sender) -> phone.NumberInfo:
    if to.startswith("+"):
        return phone.lookup(to)
    return phone.NumberInfo(to, sender.country or "US", "", "", False)


def check_policy(caller: Caller, sender: Sender, to: str, destination: phone.NumberInfo, pointer: str = "/to") -> None:
    profile = sender.profile
    if not profile["enabled"]:
        raise ProfileDisabled(f"The specified messaging profile {profile['id']} is disabled.")
    if not caller.messaging_enabled:
        raise MessagingDisabled("Messaging has been disabled on your account.")
    whitelist = profile["whitelisted_destinations"] or []
    if not whitelist:
        raise DestinationNotWhitelisted("Messaging profile is missing whitelisted destinations.")
    if "*" not in whitelist and destination.country not in whitelist:
        raise InvalidDestinationRegion(
            f"The region {destination.country or 'unknown'} for the destination {to} is not included in the "
            "messaging profile's whitelisted destinations.",
            pointer=pointer,
        )
    if profile["mobile_only"] and destination.line_type not in ("Wireless", "Pre-Paid Wireless"):
        raise UnsupportedMessageType(
            f"Sending messages from {sender.number} to {to} is currently unsupported (the profile is mobile only).",
            pointer=pointer,
        )


def check_not_opted_out(sender: Sender, to: str) -> None:
    """The recipient has not opted out of this profile (known from the sender lookup: `sender.opted_out`)."""
    if sender.opted_out:
        raise compliance.blocked(sender.number, to)


def mms_allowed(sender: Sender, destination: phone.NumberInfo) -> bool:
    """MMS goes from numbers and short codes to domestic destinations only."""
    if sender.kind == "alphanumeric":
        return False
    return not destination.country or destination.country == sender.country


def check_mms_fallback(sender: Sender) -> None:
    """An MMS that cannot go this way becomes an SMS only where the profile asks for it (40308 otherwise)."""
    if not sender.profile["mms_fall_back_to_sms"] or sender.kind == "alphanumeric":
        raise InvalidFromForMms(
            "MMS can only be sent from US long code numbers and MMS-configured short codes, to domestic destinations.",
            pointer="/from",
        )

"""Wire representations of stored rows (spec messages.md §5, profiles-and-numbers.md).

Both the API responses and the webhook payloads come from here, so they can never disagree.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from heliograph.domain.pricing import money
from heliograph.domain.rows import Row
from heliograph.domain.times import iso


def message(row: Row) -> dict[str, Any]:
    """The Message object, outbound or inbound."""
    outbound = row["direction"] == "outbound"
    status = row["status"]
    cost = None
    cost_breakdown = None
    if row["cost_rate"] is not None:
        rate, fee = Decimal(row["cost_rate"]), Decimal(row["cost_carrier_fee"])
        cost = {"amount": money(rate + fee), "currency": "USD"}
        cost_breakdown = {
            "carrier_fee": {"amount": money(fee), "currency": "USD"},
            "rate": {"amount": money(rate), "currency": "USD"},
        }
    from_obj: dict[str, Any] = {
        "phone_number": row["from_number"],
        "carrier": row["from_carrier"],
        "line_type": row["from_line_type"],
    }
    if not outbound:
        from_obj["status"] = "received"
    media = []
    for item in row["media"] or []:
        entry = {"url": item["url"], "content_type": item.get("content_type"), "size": item.get("size")}
        entry["sha256" if outbound else "hash_sha256"] = item.get("sha256")
        media.append(entry)
    wire: dict[str, Any] = {
        "record_type": "message",
        "direction": row["direction"],
        "id": row["id"],
        "type": row["type"],
        "messaging_profile_id": row["messaging_profile_id"],
        "organization_id": row["organization_id"],
        "from": from_obj,
        "to": [
            {
                "phone_number": row["to_number"],
                "carrier": row["to_carrier"],
                "line_type": row["to_line_type"],
                "status": status,
            }
        ],
        "cc": [],
        "text": row["text"] if row["text"] is not None else "",
        "subject": row["subject"],
        "media": media,
        "webhook_url": row["webhook_url"],
        "webhook_failover_url": row["webhook_failover_url"],
        "encoding": row["encoding"],
        "parts": row["parts"],
        "num_chars": row["num_chars"],
        "tags": row["tags"] or [],
        "cost": cost,
        "cost_breakdown": cost_breakdown,
        "tcr_campaign_id": None,
        "tcr_campaign_billable": False,
        "tcr_campaign_registered": None,
        "received_at": iso(row["received_at"]),
        "sent_at": iso(row["sent_at"]),
        "completed_at": iso(row["completed_at"]),
        "valid_until": iso(row["valid_until"]),
        "errors": row["errors"] or [],
    }
    if outbound:
        wire["smart_encoding_applied"] = row["smart_encoding_applied"]
        wire["wait_seconds"] = row["wait_seconds"] if row["wait_seconds"] is not None else 0.0
    if row["send_at"] is not None:
        wire["send_at"] = iso(row["send_at"])
    if row["group_message_id"] is not None:
        wire["group_message_id"] = row["group_message_id"]
    extra = row.get("extra") or {}
    if "whatsapp_message" in extra:
        wire["body"] = extra["whatsapp_message"]
    if not outbound:
        wire["cost_breakdown"] = None
        if "autoresponse_type" in extra:
            wire["autoresponse_type"] = extra["autoresponse_type"]
    return wire


def profile(row: Row) -> dict[str, Any]:
    return {
        "record_type": "messaging_profile",
        "id": row["id"],
        "name": row["name"],
        "enabled": row["enabled"],
        "webhook_url": row["webhook_url"],
        "webhook_failover_url": row["webhook_failover_url"],
        "webhook_api_version": row["webhook_api_version"],
        "whitelisted_destinations": row["whitelisted_destinations"],
        "number_pool_settings": row["number_pool_settings"],
        "url_shortener_settings": row["url_shortener_settings"],
        "alpha_sender": row["alpha_sender"],
        "daily_spend_limit": row["daily_spend_limit"],
        "daily_spend_limit_enabled": row["daily_spend_limit_enabled"],
        "mms_fall_back_to_sms": row["mms_fall_back_to_sms"],
        "mms_transcoding": row["mms_transcoding"],
        "mobile_only": row["mobile_only"],
        "smart_encoding": row["smart_encoding"],
        "redaction_enabled": False,
        "redaction_level": 2,
        "health_webhook_url": row["health_webhook_url"],
        "v1_secret": row["v1_secret"],
        "organization_id": row["organization_id"],
        "ai_assistant_id": row["ai_assistant_id"],
        "resource_group_id": row["resource_group_id"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


_FEATURES = {
    "longcode": {
        "sms": {"domestic_two_way": True, "international_inbound": True, "international_outbound": True},
        "mms": {"domestic_two_way": True, "international_inbound": False, "international_outbound": False},
    },
    "tollfree": {
        "sms": {"domestic_two_way": True, "international_inbound": True, "international_outbound": True},
        "mms": {"domestic_two_way": True, "international_inbound": False, "international_outbound": False},
    },
}

NEW_NUMBER_HEALTH = {
    "message_count": 0,
    "inbound_outbound_ratio": 0.0,
    "success_ratio": 1.0,
    "spam_ratio": 0.0,
}


def phone_number(row: Row, health: dict[str, Any] | None = None) -> dict[str, Any]:
    """PhoneNumberWithMessagingSettings; `health` from services.numbers.health (new-number values without)."""
    return {
        "record_type": "messaging_settings",
        "id": row["id"],
        "phone_number": row["phone_number"],
        "messaging_profile_id": row["messaging_profile_id"],
        "messaging_product": row["messaging_product"],
        "eligible_messaging_products": ["A2P", "P2P"],
        "traffic_type": row["messaging_product"],
        "type": row["type"],
        "country_code": row["country_code"],
        "features": _FEATURES.get(row["type"], _FEATURES["longcode"]),
        "health": dict(health or NEW_NUMBER_HEALTH),
        "organization_id": row["organization_id"],
        "tags": row["tags"] or [],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def short_code(row: Row) -> dict[str, Any]:
    return {
        "record_type": "short_code",
        "id": row["id"],
        "short_code": row["short_code"],
        "country_code": row["country_code"],
        "messaging_profile_id": row["messaging_profile_id"],
        "tags": row["tags"] or [],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def number_order(row: Row, *, full: bool = True) -> dict[str, Any]:
    # orders stored by earlier versions carry a private "_sub_order_id" in each number: never shown
    numbers = [{k: v for k, v in n.items() if not k.startswith("_")} for n in row["phone_numbers"]]
    sub_orders = sorted({f"{n['country_code']}-{n['phone_number_type']}" for n in numbers})  # one per country and type
    if not full:
        numbers = [{"id": n["id"], "phone_number": n["phone_number"]} for n in numbers]
    return {
        "id": row["id"],
        "record_type": "number_order",
        "status": row["status"],
        "phone_numbers": numbers,
        "phone_numbers_count": len(row["phone_numbers"]),
        "messaging_profile_id": row["messaging_profile_id"],
        "connection_id": row["connection_id"],
        "billing_group_id": row["billing_group_id"],
        "customer_reference": row["customer_reference"],
        "requirements_met": True,
        "sub_number_orders_ids": sub_orders,
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def handset_message(row: Row) -> dict[str, Any]:
    return {
        "message_id": row["message_id"],
        "from": row["from_number"],
        "to": row["handset"],
        "text": row["text"],
        "subject": row["subject"],
        "media_urls": row["media_urls"] or [],
        "encoding": row["encoding"],
        "parts": row["parts"],
        "received_at": iso(row["received_at"]),
    }


def hosted_number_deletion(row: Row) -> dict[str, Any]:
    """MessagingHostedNumberOrder, as DELETE /messaging_hosted_numbers/{id} answers."""
    from heliograph.domain.ids import new_uuid

    return {
        "id": new_uuid(),
        "record_type": "messaging_hosted_number_order",
        "messaging_profile_id": row["messaging_profile_id"],
        "status": "deleted",
        "phone_numbers": [
            {
                "id": row["id"],
                "phone_number": row["phone_number"],
                "record_type": "messaging_hosted_number",
                "status": "deleted",
            }
        ],
    }

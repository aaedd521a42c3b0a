"""Identifier formats (spec README §9): UUIDs for most records, digit strings for phone numbers."""

from __future__ import annotations

import secrets
import string
import uuid

_ALNUM = string.ascii_letters + string.digits


def new_uuid() -> str:
    return str(uuid.uuid4())


def new_phone_number_id() -> str:
    """Telnyx phone-number ids are 18–19 digit integers, sent as strings."""
    return str(10**18 + secrets.randbelow(9 * 10**18))


def new_v1_secret() -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(24))


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return len(value) == 36

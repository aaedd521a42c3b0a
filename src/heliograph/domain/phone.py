"""Phone numbers: E.164 checks, country, line type and carrier from the `phonenumbers` metadata."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
SHORT_CODE = re.compile(r"^\d{3,8}$")

_LINE_TYPES = {
    PhoneNumberType.MOBILE: "Wireless",
    PhoneNumberType.FIXED_LINE: "Wireline",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "Wireless",
    PhoneNumberType.VOIP: "VoIP",
    PhoneNumberType.TOLL_FREE: "Wireline",
    PhoneNumberType.PERSONAL_NUMBER: "Wireless",
    PhoneNumberType.UAN: "Wireline",
}


@dataclass(frozen=True, slots=True)
class NumberInfo:
    e164: str
    country: str  # ISO 3166-1 alpha-2, "" when unknown
    line_type: str  # one of the SDK's line_type enum values
    carrier: str
    toll_free: bool
    possible: bool = True  # a length and prefix that numbers of its country can have


def is_e164(value: str) -> bool:
    # one parse serves both this check and the lookup that follows it on the send path
    return bool(E164.match(value)) and lookup(value).possible


def is_short_code(value: str) -> bool:
    return bool(SHORT_CODE.match(value))


@lru_cache(maxsize=65536)
def lookup(e164: str) -> NumberInfo:
    """What the metadata says about a number; never raises for an E.164 string."""
    from phonenumbers import carrier as carrier_names  # loaded lazily: the carrier tables are large

    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return NumberInfo(e164, "", "", "", False, possible=False)
    region = phonenumbers.region_code_for_number(parsed) or phonenumbers.region_code_for_country_code(
        parsed.country_code or 0  # always set once parsed; 0 is no country ("ZZ"), as None would be
    )
    if region in (None, "ZZ", "001"):
        region = ""
    kind = phonenumbers.number_type(parsed)
    return NumberInfo(
        e164=e164,
        country=region,
        line_type=_LINE_TYPES.get(kind, ""),
        carrier=carrier_names.name_for_number(parsed, "en") or "",
        toll_free=kind == PhoneNumberType.TOLL_FREE,
        possible=phonenumbers.is_possible_number(parsed),
    )


def number_kind(e164: str) -> str:
    """`longcode` or `tollfree` for an E.164 number (short codes are not E.164)."""
    return "tollfree" if lookup(e164).toll_free else "longcode"

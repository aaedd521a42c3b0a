"""What the API would do with an SMS text, without sending it: encoding, parts, segments, price.

It runs the send path's own encoding step (services/sending.py, domain/encoding.py) and tariff, so
it reports exactly what `POST /v2/messages` would, refusals included (40302 too many parts, 10015
`gsm7` requested for text GSM-7 cannot carry, 40316 nothing left after smart encoding).

    preview(ctx, "Caf\u00e9 \u201cnoir\u201d", smart_encoding=True)["encoding"]   # 'GSM-7'
"""

from __future__ import annotations

from heliograph.domain import encoding as enc
from heliograph.domain.errors import InvalidEnumValue
from heliograph.domain.pricing import money
from heliograph.domain.rows import Row
from heliograph.services import sending
from heliograph.services.context import Context

ENCODINGS = ("auto", "gsm7", "ucs2")


def _characters(text: str) -> list[Row]:
    """Each distinct character GSM-7 cannot carry, in order of appearance, with its smart-encoding stand-in."""
    seen: dict[str, int] = {}
    for ch in text:
        if not enc.is_gsm7(ch):
            seen[ch] = seen.get(ch, 0) + 1
    return [
        {
            "character": ch,
            "code_point": f"U+{ord(ch):04X}",
            "count": count,
            "replacement": enc.SMART_SUBSTITUTIONS.get(ch),  # None: smart encoding keeps it ("" removes it)
        }
        for ch, count in seen.items()
    ]


def preview(ctx: Context, text: str, *, encoding: str = "auto", smart_encoding: bool = False) -> Row:
    """The send path's verdict on `text` for one SMS recipient; raises the same errors the send would."""
    if encoding not in ENCODINGS:
        raise InvalidEnumValue("'encoding' must be one of auto, gsm7, ucs2.", pointer="/encoding")
    # the send path's own step: the request's `encoding` and the profile's `smart_encoding`
    encoded = sending.encode(ctx, text, "SMS", encoding=encoding, smart=smart_encoding)
    segments = enc.split_parts(encoded.transmitted, encoded.encoding)
    measure = enc.septet_length if encoded.encoding == enc.GSM7 else enc.utf16_length
    price = ctx.tariff.price("SMS", encoded.parts)
    characters = _characters(text)
    return {
        "record_type": "message_preview",
        "type": "SMS",
        "encoding": encoded.encoding,
        "parts": encoded.parts,
        "segments": [{"text": s, "length": measure(s)} for s in segments],
        "units": encoded.units,
        "num_chars": encoded.num_chars,
        "text": text,
        "transmitted_text": encoded.transmitted,
        "smart_encoding_applied": encoded.smart_encoding_applied,
        "replaced_characters": encoded.replaced_characters,
        "non_gsm7_characters": characters,
        "forced_ucs2": encoded.encoding == enc.UCS2 and bool(characters),
        "cost": {"amount": money(price.amount), "currency": "USD"},
        "cost_breakdown": {
            "carrier_fee": {"amount": money(price.carrier_fee), "currency": "USD"},
            "rate": {"amount": money(price.rate), "currency": "USD"},
        },
    }


__all__ = ["preview", "ENCODINGS"]

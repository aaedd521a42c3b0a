"""Datetime rendering and parsing in the formats Telnyx uses (spec README §8). Times are epoch microseconds."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import overload

_INPUT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)$"
)


@overload
def iso(us: int) -> str: ...
@overload
def iso(us: int | None) -> str | None: ...
def iso(us: int | None) -> str | None:
    """Render as `YYYY-MM-DDThh:mm:ss.sssZ`, or None."""
    if us is None:
        return None
    seconds, micros = divmod(us, 1_000_000)
    return f"{_iso_seconds(seconds)}.{micros // 1000:03d}Z"


@lru_cache(maxsize=4096)
def _iso_seconds(seconds: int) -> str:
    """Every message renders several times of the same few seconds: formatting a datetime is the costly
    part (a few µs), so the whole-second prefix is cached."""
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%dT%H:%M:%S}"


def parse_iso(text: str) -> int:
    """Parse the input forms Telnyx accepts; raise ValueError otherwise. Returns epoch microseconds."""
    m = _INPUT.match(text.strip()) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"not an ISO 8601 datetime: {text!r}")
    year, month, day, hour, minute, second, frac, zone = m.groups()
    if zone == "Z":
        tz = UTC
    else:
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    dt = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), tzinfo=tz)
    micro = int((frac or "0")[:6].ljust(6, "0"))
    return int(dt.timestamp()) * 1_000_000 + micro


def parse_upper_bound(text: str) -> int:
    """An inclusive upper bound ("lte"): times are shown to the millisecond but stored to the
    microsecond, so a bound copied from a response must still include the record it came from."""
    value = parse_iso(text)
    return value + (999 - value % 1000)


def later(now: int, previous: int) -> int:
    """A new `updated_at`: now, but always after the previous one, even when the clock has not moved."""
    return max(now, previous + 1)

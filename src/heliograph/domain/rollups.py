"""Rollup arithmetic: bucket widths, and cutting a time range into the fewest aligned buckets.

Counters are kept at three widths (5 minutes, 1 hour, 1 day; UTC-aligned). A window is read as
5-minute buckets up to the first hour boundary, hours up to the first day boundary, whole days, then
hours and 5-minute buckets again up to the end — a few dozen rows whatever its length.
"""

from __future__ import annotations

FIVE_MINUTES = 300
HOUR = 3600
DAY = 86400
WIDTHS = (FIVE_MINUTES, HOUR, DAY)
_US = 1_000_000


def floor_to(us: int, width_s: int) -> int:
    step = width_s * _US
    return us - us % step


def ceil_to(us: int, width_s: int) -> int:
    step = width_s * _US
    return -(-us // step) * step


def segments(lo: int, hi: int, max_width: int = DAY) -> list[tuple[int, int, int]]:
    """Cover [lo, hi) (µs, both on 5-minute boundaries) with (width, start, end) ranges of aligned
    buckets, using widths up to `max_width`; the ranges do not overlap and leave no gap.

    >>> H = 3600 * 10**6
    >>> segments(0, 2 * H, HOUR)
    [(3600, 0, 7200000000)]
    """
    out: list[tuple[int, int, int]] = []
    if hi <= lo:
        return out
    widths = [w for w in WIDTHS if w <= max_width]

    def cover(start: int, end: int, level: int) -> None:
        if start >= end:
            return
        if level == 0:
            out.append((widths[0], start, end))
            return
        width = widths[level]
        inner_lo, inner_hi = ceil_to(start, width), floor_to(end, width)
        if inner_lo >= inner_hi:
            cover(start, end, level - 1)
            return
        cover(start, inner_lo, level - 1)
        out.append((width, inner_lo, inner_hi))
        cover(inner_hi, end, level - 1)

    cover(lo, hi, len(widths) - 1)
    return sorted(out, key=lambda s: s[1])

"""Sender throughput: each sender sends at most `mps` messages per second; the excess waits its turn.

Slots are handed out at acceptance, so the send response can say how long the message will queue
(`wait_seconds`), and a queue longer than the message's validity is refused up front (40318).
"""

from __future__ import annotations


def interval_us(mps: float) -> int:
    """Microseconds between two messages of a sender sending `mps` a second.

    >>> interval_us(5)
    200000
    """
    return int(1_000_000 / mps)


def next_slot(next_free_us: int, now_us: int, mps: float) -> tuple[int, int]:
    """(when this message may go, when the one after it may go), in microseconds.

    >>> next_slot(0, 1_000_000, 10)
    (1000000, 1100000)
    >>> next_slot(1_100_000, 1_000_000, 10)
    (1100000, 1200000)
    """
    slot = max(next_free_us, now_us)
    return slot, slot + interval_us(mps)

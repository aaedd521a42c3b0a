"""When to try a webhook again (spec webhooks.md §5, plus Heliograph's long tail).

Telnyx: up to 3 attempts per URL, 1 s then 2 s apart, then the failover URL, same again.
Heliograph then keeps cycling through the URL pair with exponential backoff and jitter until
`retry_hours` after the first attempt, so a receiver that was down for an hour still gets everything.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

_PER_URL_DELAYS = (1.0, 2.0)
_TAIL_BASE = 5.0
_TAIL_CAP = 1800.0


@dataclass(frozen=True, slots=True)
class NextAttempt:
    url_index: int
    delay_seconds: float


def plan_next(
    attempt: int,
    url_count: int,
    attempts_per_url: int,
    elapsed_seconds: float,
    retry_hours: float,
    rng: random.Random | None = None,
) -> NextAttempt | None:
    """After `attempt` failed attempts (1-based count), where and when to try next; None = give up.

    >>> plan_next(1, 2, 3, 0, 0)
    NextAttempt(url_index=0, delay_seconds=1.0)
    >>> plan_next(3, 2, 3, 3, 0)
    NextAttempt(url_index=1, delay_seconds=0.0)
    """
    if url_count == 0:
        return None
    telnyx_phase = url_count * attempts_per_url
    if attempt < telnyx_phase:
        url_index, within = divmod(attempt, attempts_per_url)
        if within == 0:
            return NextAttempt(url_index, 0.0)  # move straight to the failover URL
        return NextAttempt(url_index, _PER_URL_DELAYS[min(within - 1, len(_PER_URL_DELAYS) - 1)])
    if elapsed_seconds >= retry_hours * 3600:
        return None
    tail = attempt - telnyx_phase  # 0, 1, 2, ...
    delay = min(_TAIL_CAP, _TAIL_BASE * (2 ** (tail // url_count)))
    delay *= 0.5 + (rng or random).random()  # full jitter around the step keeps a crowd of retries apart
    remaining = retry_hours * 3600 - elapsed_seconds
    return NextAttempt(tail % url_count, min(delay, max(remaining, 0.0)))

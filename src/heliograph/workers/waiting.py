"""The one "sleep until the next due item, or until nudged" used by the background loops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger(__name__)


async def wait_until_due(
    ctx: Any,
    nudge: asyncio.Event,
    next_due_at: Callable[[Any], Awaitable[int | None]],
    *,
    poll_seconds: float,
    busy_sleep: float,
) -> None:
    """Return when `nudge` is set, when the next item is due (epoch µs from `next_due_at`), or after
    `poll_seconds` at most. Work already due yields for `busy_sleep` (so a loop never spins hot)."""
    delay = poll_seconds
    try:
        due = await next_due_at(ctx)
        if due is not None:
            delay = min(delay, max(0.0, (due - ctx.now()) / 1_000_000))
    except Exception:  # the next poll tries again
        logger.exception("reading the next due time failed", extra={"action": "wait_until_due"})
    if delay <= 0:
        await asyncio.sleep(busy_sleep)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(nudge.wait(), delay)

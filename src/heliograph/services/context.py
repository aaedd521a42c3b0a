"""What every use case needs, built once by `bootstrap.build` and passed down explicitly."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from heliograph.clock import Clock
from heliograph.domain.pricing import Tariff
from heliograph.settings import Settings
from heliograph.store.engine import Database

if TYPE_CHECKING:  # these services import this module
    from heliograph.services.committer import GroupCommitter
    from heliograph.services.event_feed import Feed
    from heliograph.services.sealing import Sealer
    from heliograph.services.webhooks import Handoff


class ForwardingEvent(asyncio.Event):
    """An event whose `set()` is also passed on (to the worker process, see workers/process.py)."""

    def __init__(self, forward: Callable[[], None]) -> None:
        super().__init__()
        self._forward = forward

    def set(self) -> None:
        super().set()
        self._forward()


@dataclass
class Wakeups:
    """Nudges for the background loops, so new work starts at once instead of at the next poll."""

    dispatcher: asyncio.Event = field(default_factory=asyncio.Event)
    webhooks: asyncio.Event = field(default_factory=asyncio.Event)
    receipts: asyncio.Event = field(default_factory=asyncio.Event)  # carrier receipts stored, to be applied


@dataclass
class Context:
    settings: Settings
    db: Database
    clock: Clock
    wakeups: Wakeups = field(default_factory=Wakeups)
    committer: GroupCommitter | None = None  # set by bootstrap
    pool_rng: random.Random = field(default_factory=random.Random)
    feed: Feed | None = None  # made by the first event stream
    sealer: Sealer | None = None  # secrets at rest, set by bootstrap
    handoff: Handoff | None = None  # this process's webhook sender, set by it

    @property
    def tariff(self) -> Tariff:
        s = self.settings
        return Tariff(
            Decimal(s.sms_rate_per_part),
            Decimal(s.sms_carrier_fee_per_part),
            Decimal(s.mms_rate),
            Decimal(s.mms_carrier_fee),
        )

    def now(self) -> int:
        return self.clock.now_us()

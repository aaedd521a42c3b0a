"""The sandbox carrier: every destination is a virtual handset.

By default a submission is accepted and a `delivered` receipt follows after `dlr_delay`. Test numbers
force other outcomes (documented in the README):

    +15005550001  delivery_failed, 40008 Undeliverable (the handset never gets it)
    +15005550002  refused at submission: sending_failed, 40012 Invalid messaging destination number
    +15005550003  receipt says the outcome is unknown: delivery_unconfirmed
    +15005550004  refused by the API before anything is created (see domain/sandbox.py)

Receipts are kept in a heap and fired by one task in batches, so thousands in flight cost one timer.

Failure injection (the console's simulator page, `connectors` config of the `simulator` row): a receipt
delay, a percentage of messages that end `delivery_failed`, extra latency at submission, and handsets
switched off (their messages fail). `configure` applies a new config to the running simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import random
from collections.abc import Sequence
from typing import Any

from heliograph.carriers.base import (
    DeliveryReport,
    HandsetCopy,
    LinkState,
    ReportSink,
    Sinks,
    Submission,
    SubmitResult,
)
from heliograph.clock import Clock
from heliograph.domain import sandbox

logger = logging.getLogger(__name__)


class SimulatorCarrier:
    name = "simulator"
    type = "simulator"

    def __init__(self, clock: Clock, dlr_delay_ms: int = 200, rng: random.Random | None = None) -> None:
        self._clock = clock
        self._default_delay_ms = dlr_delay_ms
        self._delay_us = dlr_delay_ms * 1000
        self._failure_rate = 0.0  # fraction of messages whose receipt says delivery_failed
        self._extra_latency = 0.0  # seconds added to each submission
        self._handsets_off: frozenset[str] = frozenset()
        self._failing: set[str] = set()  # message ids drawn to fail by the failure rate
        self._rng = rng or random.Random()
        self._opened_at = clock.now_us()
        self._heap: list[tuple[int, int, Submission]] = []
        self._armed: set[str] = set()  # message ids with a receipt in the heap
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._sink: ReportSink | None = None

    def configure(self, config: dict[str, Any]) -> None:
        """Apply the simulator controls (keys as in services.connectors.simulator_controls)."""
        self._delay_us = int(config.get("dlr_delay_ms", self._default_delay_ms)) * 1000
        self._failure_rate = float(config.get("failure_rate_percent", 0)) / 100
        self._extra_latency = int(config.get("extra_latency_ms", 0)) / 1000
        self._handsets_off = frozenset(config.get("handsets_off", ()))

    async def open(self, sinks: Sinks) -> None:
        await self.start(sinks.reports)

    def link_state(self) -> LinkState:
        return LinkState("up", self._opened_at, None, len(self._armed))

    async def start(self, on_reports: ReportSink) -> None:
        self._sink = on_reports
        self._task = asyncio.create_task(self._run(), name="simulator-receipts")

    async def submit(self, submissions: Sequence[Submission]) -> list[SubmitResult]:
        if self._extra_latency:
            await asyncio.sleep(self._extra_latency)
        results = []
        now = self._clock.now_us()
        for sub in submissions:
            outcome = sandbox.outcome_for(sub.to_number)
            if outcome is sandbox.Outcome.REFUSE_SUBMISSION:
                results.append(
                    SubmitResult(
                        sub.message_id,
                        accepted=False,
                        error_code="40012",
                        error_detail=f"The carrier refused the destination {sub.to_number} (sandbox test number).",
                    )
                )
                continue
            if self._failure_rate and self._rng.random() < self._failure_rate:
                self._failing.add(sub.message_id)
            self._arm(now + self._delay_us, sub)
            results.append(SubmitResult(sub.message_id, accepted=True, carrier_message_id=sub.message_id))
        return results

    async def resume(self, in_flight: Sequence[Submission]) -> None:
        before = len(self._armed)
        for sub in in_flight:
            self._arm((sub.sent_at_us or self._clock.now_us()) + self._delay_us, sub)
        if len(self._armed) > before:
            logger.info("re-armed owed receipts", extra={"action": "resume", "count": len(self._armed) - before})

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _arm(self, due_us: int, sub: Submission) -> None:
        if sub.message_id in self._armed:
            return
        self._armed.add(sub.message_id)
        heapq.heappush(self._heap, (due_us, next(self._seq), sub))
        self._wake.set()

    async def _run(self) -> None:
        while True:
            now = self._clock.now_us()
            due: list[Submission] = []
            while self._heap and self._heap[0][0] <= now and len(due) < 500:
                sub = heapq.heappop(self._heap)[2]
                self._armed.discard(sub.message_id)
                due.append(sub)
            if due:
                try:
                    await self._sink([self._report(sub, now) for sub in due])  # type: ignore[misc]
                except Exception:  # the receipts are still owed: try again shortly
                    logger.exception("recording receipts failed; retrying", extra={"action": "receipts"})
                    for sub in due:
                        self._arm(now + 500_000, sub)
                    await self._clock.sleep(0.5)
                continue
            self._wake.clear()
            timeout = (self._heap[0][0] - now) / 1_000_000 if self._heap else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def _report(self, sub: Submission, now: int) -> DeliveryReport:
        if sub.to_number in self._handsets_off:
            return DeliveryReport(
                sub.message_id,
                "delivery_failed",
                now,
                error_code="40008",
                error_detail=f"The handset {sub.to_number} is switched off (simulator).",
            )
        if sub.message_id in self._failing:
            self._failing.discard(sub.message_id)
            return DeliveryReport(
                sub.message_id,
                "delivery_failed",
                now,
                error_code="40008",
                error_detail="Failed on purpose by the simulator's failure rate.",
            )
        outcome = sandbox.outcome_for(sub.to_number)
        if outcome is sandbox.Outcome.DELIVERY_FAILED:
            return DeliveryReport(
                sub.message_id,
                "delivery_failed",
                now,
                error_code="40008",
                error_detail=f"The handset {sub.to_number} could not be reached (sandbox test number).",
            )
        if outcome is sandbox.Outcome.UNCONFIRMED:
            return DeliveryReport(sub.message_id, "delivery_unconfirmed", now)
        copy = HandsetCopy(
            handset=sub.to_number,
            from_number=sub.from_number,
            text=sub.text,
            subject=sub.subject,
            media_urls=sub.media_urls,
            encoding=sub.encoding,
            parts=sub.parts,
        )
        return DeliveryReport(sub.message_id, "delivered", now, handset_copy=copy)

"""Deliver webhook events: claim due ones, sign each attempt afresh, POST with aiohttp, record outcomes.

Every attempt runs in its own task under a concurrency cap, so a receiver that hangs only ever holds
its own requests (each bounded by the 2 s timeout), never the others. Outcomes are written in
batches, one transaction per batch. In gateway mode connections go only to destinations the SSRF
guard allows, pinned to the address it checked (services/destinations.py); a refused destination is
a failed attempt with no response stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl

import aiohttp

from heliograph.services import destinations, signing, telemetry, webhooks
from heliograph.services.context import Context
from heliograph.workers.waiting import wait_until_due

logger = logging.getLogger(__name__)

MAX_RESPONSE_BODY = 10 * 1024


class WebhookSender:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._settings = ctx.settings
        self._stopping = asyncio.Event()
        self._inflight: set[asyncio.Task] = set()
        self._results: list[webhooks.AttemptResult] = []
        self._results_ready = asyncio.Event()
        self._seeds = webhooks.SeedCache()
        self._rng = random.Random()
        self._guard = destinations.webhook_guard(ctx)
        self.delivered = 0
        self.failed_attempts = 0
        self._session: aiohttp.ClientSession | None = None
        self._unstarted: list[dict] = []  # handed off while stopping
        self._done = False
        settings = self._settings
        self._lease_us = int((settings.webhook_timeout_seconds + settings.lease_seconds) * 1_000_000)

    def stop(self) -> None:
        self._stopping.set()
        self._ctx.wakeups.webhooks.set()

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self._settings.webhook_timeout_seconds)
        connector = aiohttp.TCPConnector(
            limit=self._settings.webhook_concurrency, limit_per_host=0, resolver=self._guard.aiohttp_resolver()
        )
        # no cookie jar: a cookie one receiver sets must never travel with later webhooks (Telnyx sends none)
        jar = aiohttp.DummyCookieJar()
        async with aiohttp.ClientSession(timeout=timeout, connector=connector, cookie_jar=jar) as session:
            recorder = asyncio.create_task(self._record_loop(), name="webhook-recorder")
            self._session = session
            self._ctx.handoff = webhooks.Handoff(self._room, self._take, self._lease_us)
            try:
                await self._claim_loop(session)
            finally:
                if self._inflight:
                    await asyncio.gather(*self._inflight, return_exceptions=True)
                self._results_ready.set()
                recorder.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await recorder
                await self._flush()
                self._done = True
                self._session = None
                await self._release_unstarted()

    async def _release_unstarted(self) -> None:
        events, self._unstarted = self._unstarted, []
        try:
            await webhooks.release(self._ctx, events)
        except Exception:  # their leases expire on their own
            logger.exception("releasing unstarted webhook events failed", extra={"action": "webhook_claim"})

    def _room(self) -> int:
        """Attempts that may start now. Finished attempts whose outcome is not written yet count too: when
        writing falls behind sending (a saturated process), new attempts wait for it, so unwritten results
        never pile up in memory, and no lease runs out before its outcome is written (which would send
        the event again)."""
        if self._stopping.is_set():
            return 0
        return self._settings.webhook_concurrency - len(self._inflight) - len(self._results)

    def _take(self, events: list[dict]) -> None:
        """Events this process just committed, leased for us (services.webhooks.Handoff)."""
        if self._session is None or self._stopping.is_set():
            self._unstarted.extend(events)  # their leases are given back when the sender stops
            if self._done:
                task = asyncio.create_task(self._release_unstarted())
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
            return
        if self._seeds.missing({e["organization_id"] for e in events}):
            self._start_later(events)
            return
        for event in events:
            self._start(self._session, event)

    def _start_later(self, events: list[dict]) -> None:
        async def load_then_start() -> None:
            try:
                async with self._ctx.db.read() as conn:
                    await self._seeds.load(self._ctx, conn, {e["organization_id"] for e in events})
            except Exception:  # the leases expire and the events are claimed again
                logger.exception("loading signing seeds failed", extra={"action": "webhook_claim"})
                return
            if self._session is not None:
                for event in events:
                    self._start(self._session, event)

        task = asyncio.create_task(load_then_start())
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    def _start(self, session: aiohttp.ClientSession, event: dict) -> None:
        task = asyncio.create_task(self._attempt(session, event))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _claim_loop(self, session: aiohttp.ClientSession) -> None:
        ctx = self._ctx
        lease = self._lease_us
        while not self._stopping.is_set():
            capacity = self._room()
            events = []
            if capacity > 0:
                ctx.wakeups.webhooks.clear()
                try:
                    events = await webhooks.claim_due(ctx, self._seeds, capacity, lease)
                except Exception:
                    logger.exception("claiming webhook events failed", extra={"action": "webhook_claim"})
                    await asyncio.sleep(1)
                    continue
                for event in events:
                    self._start(session, event)
            if events and len(events) >= min(capacity, webhooks.BACKGROUND_BATCH):
                await asyncio.sleep(0)
                continue
            if capacity <= 0:  # attempts in flight, or outcomes being written: wait for either to move
                if self._inflight:
                    await asyncio.wait(self._inflight, timeout=0.05, return_when=asyncio.FIRST_COMPLETED)
                else:
                    await asyncio.sleep(0.01)
                continue
            await wait_until_due(ctx, ctx.wakeups.webhooks, webhooks.next_due_at, poll_seconds=0.5, busy_sleep=0.01)

    async def _attempt(self, session: aiohttp.ClientSession, event: dict) -> None:
        ctx = self._ctx
        url = event["urls"][event["next_url_index"]]
        attempt = event["attempts"] + 1
        body = webhooks.body_for_attempt(event, attempt, url)
        started = ctx.now()
        headers = signing.headers(self._seeds[event["organization_id"]], started // 1_000_000, body)
        status = None
        error_code = None
        detail = None
        response_body = None
        try:
            refusal = self._guard.refusal(url)  # literal addresses never reach the resolver
            if refusal:
                raise destinations.DestinationRefused(refusal)
            async with session.post(url, data=body, headers=headers, allow_redirects=False) as response:
                status = response.status
                response_body = (await response.content.read(MAX_RESPONSE_BODY)).decode("utf-8", "replace")
            error_code = webhooks.error_code_for_status(status)
            if error_code:
                detail = f"The receiver answered HTTP {status}."
        except destinations.DestinationRefused as exc:
            error_code, detail = 75002, f"Not delivered: {exc}"
        except TimeoutError:
            error_code, detail = 75000, f"No answer within {self._settings.webhook_timeout_seconds:g} s."
        except aiohttp.ClientConnectorDNSError as exc:
            if isinstance(exc.os_error, destinations.DestinationRefused):
                error_code, detail = 75002, f"Not delivered: {exc.os_error}"
            else:
                error_code, detail = 75001, f"Could not resolve the host name: {exc}"
        except aiohttp.ClientConnectorCertificateError as exc:
            error_code, detail = 75003, f"TLS certificate problem: {exc}"
        except aiohttp.ClientConnectorError as exc:
            error_code, detail = 75002, f"Could not connect: {exc}"
        except (aiohttp.ClientError, ssl.SSLError, OSError, ValueError) as exc:
            error_code, detail = 75000, f"Delivery failed: {exc.__class__.__name__}: {exc}"
        delivered = status is not None and 200 <= status < 300
        if delivered:
            self.delivered += 1
        else:
            self.failed_attempts += 1
        self._results.append(
            webhooks.AttemptResult(
                event=event,
                attempt=attempt,
                url=url,
                started_at=started,
                finished_at=ctx.now(),
                delivered=delivered,
                http_status=status,
                error_code=None if delivered else error_code,
                error_detail=None if delivered else detail,
                response_body=response_body,
            )
        )
        self._results_ready.set()

    async def _record_loop(self) -> None:
        while True:
            await self._results_ready.wait()
            await asyncio.sleep(0.005)  # let a few more results gather into the same transaction
            self._results_ready.clear()
            await self._flush()

    async def _flush(self) -> None:
        while self._results:
            # a backlog of outcomes is written in larger transactions (fewer commits, the same rows)
            size = webhooks.BACKGROUND_BATCH if len(self._results) <= 2 * webhooks.BACKGROUND_BATCH else 250
            batch, self._results = self._results[:size], self._results[size:]
            try:
                outcomes = await webhooks.record_results(self._ctx, batch, self._rng)
            except Exception:
                # the leases will expire and the events be attempted again: at-least-once, never lost
                logger.exception("recording webhook attempts failed", extra={"action": "webhook_record"})
                return
            telemetry.record_write_batch("webhook_outcomes", len(batch))  # before the count tests wait on
            telemetry.record_webhook_outcomes(outcomes)
            if any(o["status"] == "pending" for o in outcomes):
                self._ctx.wakeups.webhooks.set()

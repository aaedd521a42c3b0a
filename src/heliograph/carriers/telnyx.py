"""An HTTP upstream that speaks the Telnyx Messaging API v2: real Telnyx, or another Heliograph.

Sending is `POST {base_url}/messages`; the upstream's id is stored as the message's only part id, and
its webhooks (sent, finalized, received) come back to `POST /carriers/v1/{name}/webhooks` on this
server, where services verify them with the upstream's public key and turn them into receipts and
inbound messages. A 429, a 5xx or an unreachable upstream is retryable (the next connector of the
route, or later); any other 4xx ends the message `sending_failed` with the upstream's code in the detail.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp

from heliograph.carriers.base import LinkState, Sinks, Submission, SubmitResult
from heliograph.clock import Clock

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TelnyxConfig:
    base_url: str  # the upstream's API base, ending in /v2
    api_key: str = field(repr=False)
    public_key: str  # base64 Ed25519 key the upstream signs its webhooks with
    messaging_profile_id: str | None = None
    webhook_url: str | None = None  # sent with each message, so the upstream's webhooks reach us
    timeout_seconds: float = 10.0
    concurrency: int = 64


class UpstreamDown(Exception):
    pass


class TelnyxUpstream:
    type = "telnyx"
    carries = frozenset({"SMS", "MMS"})

    def __init__(self, name: str, config: TelnyxConfig, clock: Clock) -> None:
        self.name = name
        self._config = config
        self._clock = clock
        self._base = config.base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None
        self._lanes = asyncio.Semaphore(config.concurrency)
        self._state = LinkState("connecting", clock.now_us())
        self._in_flight = 0
        self._probe: asyncio.Task | None = None
        self._backoff = 1.0

    async def open(self, sinks: Sinks) -> None:  # its reports arrive as webhooks, not here
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._config.timeout_seconds),
            headers={"Authorization": f"Bearer {self._config.api_key}", "Accept": "application/json"},
        )
        self._probe = asyncio.create_task(self._until_up(), name=f"upstream-{self.name}")

    def link_state(self) -> LinkState:
        s = self._state
        return LinkState(s.state, s.since_us, s.last_error, self._in_flight)

    async def resume(self, in_flight: Sequence[Submission]) -> None:
        """The upstream keeps its own receipts and sends them as webhooks: nothing to re-arm."""

    async def close(self) -> None:
        if self._probe:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
        if self._session:
            await self._session.close()

    async def submit(self, submissions: Sequence[Submission]) -> list[SubmitResult]:
        return list(await asyncio.gather(*(self._submit_one(s) for s in submissions)))

    async def _submit_one(self, sub: Submission) -> SubmitResult:
        if sub.message_type not in ("SMS", "MMS"):
            return SubmitResult(
                sub.message_id, False, error_code="40001", error_detail=f"{self.name} carries SMS and MMS only."
            )
        body: dict = {"from": sub.from_number, "to": sub.to_number}
        if sub.text:
            body["text"] = sub.text
        if sub.media_urls:
            body["media_urls"] = list(sub.media_urls)
        if sub.subject:
            body["subject"] = sub.subject
        if self._config.messaging_profile_id:
            body["messaging_profile_id"] = self._config.messaging_profile_id
        if self._config.webhook_url:
            body["webhook_url"] = self._config.webhook_url
        async with self._lanes:
            self._in_flight += 1
            try:
                status, data = await self._post("/messages", body)
            except (aiohttp.ClientError, TimeoutError, UpstreamDown) as exc:
                self._went_down(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
                return SubmitResult(sub.message_id, False, retryable=True, error_detail=str(exc))
            finally:
                self._in_flight -= 1
        if status == 200:
            upstream_id = str(((data or {}).get("data") or {}).get("id") or "")
            if not upstream_id:
                return SubmitResult(sub.message_id, False, retryable=True, error_detail="upstream answered without id")
            return SubmitResult(sub.message_id, True, carrier_message_id=upstream_id, carrier_part_ids=(upstream_id,))
        error = ((data or {}).get("errors") or [{}])[0] if isinstance(data, dict) else {}
        described = f"{error.get('code', '')} {error.get('title', '')}: {error.get('detail', '')}".strip(" :")
        detail = f"Upstream {self.name} answered HTTP {status}" + (f" ({described})" if described else "")
        if status == 429 or status >= 500:
            if status >= 500:
                self._went_down(detail)
            return SubmitResult(sub.message_id, False, retryable=True, error_detail=detail)
        code = str(error.get("code") or "")
        mapped = code if len(code) == 5 and code.startswith("40") else "40008"
        return SubmitResult(sub.message_id, False, error_code=mapped, error_detail=detail)

    async def _post(self, path: str, body: dict) -> tuple[int, dict | None]:
        if self._session is None:
            raise UpstreamDown("connector not open")
        async with self._session.post(self._base + path, json=body) as response:
            try:
                data = await response.json(content_type=None)
            except ValueError:
                data = None
            return response.status, data

    def _went_down(self, error: str) -> None:
        if self._state.state == "up":
            logger.warning(
                "upstream unreachable", extra={"action": "link_down", "connector": self.name, "error": error}
            )
            self._state = LinkState("down", self._clock.now_us(), error)
            self._probe = asyncio.create_task(self._until_up(), name=f"upstream-{self.name}")

    async def _until_up(self) -> None:
        """Probe the upstream (an authenticated, read-only call) until it answers; backoff 1 s → 60 s."""
        assert self._session is not None
        self._backoff = 1.0
        while True:
            try:
                async with self._session.get(self._base + "/messaging_profiles", params={"page[size]": "1"}) as r:
                    if r.status == 200:
                        self._state = LinkState("up", self._clock.now_us())
                        logger.info("upstream up", extra={"action": "link_up", "connector": self.name})
                        return
                    error = f"HTTP {r.status} from {self._base}/messaging_profiles"
                    if r.status in (401, 403):
                        error += " (check the connector's API key)"
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            if self._state.state != "down" or self._state.last_error != error:
                self._state = LinkState("down", self._clock.now_us(), error)
                logger.warning("upstream down", extra={"action": "link_down", "connector": self.name, "error": error})
            await asyncio.sleep(self._backoff * random.uniform(0.8, 1.2))
            self._backoff = min(self._backoff * 2, 60.0)

"""In-process worker tests: the real background loops (dispatcher, webhook sender, receipts, housekeeping)
started by `Heliograph.start`, on a temp SQLite file, with the simulator carrier and a real aiohttp webhook
receiver on loopback. Sends go through the ASGI app. No subprocess; waits are bounded polls, never sleeps."""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import telnyx
from aiohttp import web
from aiohttp.test_utils import TestServer

from heliograph.api.app import create_app
from heliograph.bootstrap import Heliograph, build
from heliograph.services import accounts
from heliograph.settings import Settings
from heliograph.store.migrate import upgrade

API_KEY = "KEYWORKERTESTS" + "0" * 20


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An aiohttp server recording every POST; `answer(path, n)` picks the status of the n-th POST to `path`."""

    answer: Callable[[str, int], int] = lambda path, n: 200
    hits: list[Hit] = field(default_factory=list)
    server: TestServer | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        n = sum(1 for h in self.hits if h.path == request.path)
        self.hits.append(Hit(request.path, dict(request.headers), body, time.monotonic()))
        return web.Response(status=self.answer(request.path, n), text="ok")

    def url(self, path: str = "/hook") -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    def events(self, message_id: str, event_type: str | None = None) -> list[Hit]:
        """Every POST about `message_id` (of `event_type`), in arrival order."""
        out = []
        for hit in self.hits:
            data = hit.json()["data"]
            if data["payload"]["id"] == message_id and event_type in (None, data["event_type"]):
                out.append(hit)
        return out


@asynccontextmanager
async def receiving(answer: Callable[[str, int], int] | None = None) -> AsyncIterator[Receiver]:
    receiver = Receiver(answer) if answer else Receiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", receiver._handle)
    receiver.server = TestServer(app, host="127.0.0.1")
    await receiver.server.start_server()
    try:
        yield receiver
    finally:
        await receiver.server.close()


@dataclass
class World:
    hg: Heliograph
    account: accounts.SandboxAccount
    http: httpx.AsyncClient

    @property
    def long_code(self) -> str:
        return next(n for n in self.account.phone_numbers if not n.startswith("+1888"))

    async def send(self, **body: Any) -> dict[str, Any]:
        """POST /v2/messages from the sandbox long code (`from_` overrides); the message of the 200 answer."""
        body = {"from": body.pop("from_", self.long_code), **body}
        answer = await self.http.post("/v2/messages", json=body)
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]

    async def message(self, message_id: str) -> dict[str, Any]:
        answer = await self.http.get(f"/v2/messages/{message_id}")
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]

    async def status(self, message_id: str) -> str:
        return (await self.message(message_id))["to"][0]["status"]

    def verify(self, hit: Hit) -> dict[str, Any]:
        """Check the Ed25519 signature as a Telnyx user's app does (the official SDK) and parse the body."""
        sdk = telnyx.Telnyx(api_key=API_KEY, public_key=self.account.organization["public_key"])
        sdk.webhooks.unwrap(hit.body.decode(), headers=hit.headers)
        return hit.json()


@asynccontextmanager
async def running(data_dir: Path, **settings: Any) -> AsyncIterator[World]:
    """A sandbox with every background loop running (as `heliograph serve` starts them)."""
    options = {"simulator_dlr_delay_ms": 0, "webhook_retry_hours": 0, **settings}
    hg = build(Settings(data_dir=data_dir, **options))
    await upgrade(hg.ctx.db)
    account = await accounts.bootstrap_sandbox(hg.ctx, API_KEY)
    app = create_app(hg, run_workers=True)
    await hg.start(workers=True)
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://heliograph.test",
        headers={"authorization": f"Bearer {API_KEY}"},
    )
    try:
        yield World(hg, account, http)
    finally:
        await http.aclose()
        await hg.stop()


async def eventually(check: Callable[[], Any], timeout: float = 15.0, message: str = "") -> Any:
    """Call (and await, if it is a coroutine) `check` until it returns something truthy; fail with
    `message` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if inspect.isawaitable(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(0.02)
    raise AssertionError(message or f"condition not met within {timeout}s (last value: {last!r})")

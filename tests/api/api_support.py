"""In-process API tests: the ASGI app as `heliograph serve` builds it (`create_app`), reached through
httpx's ASGI transport. A temp SQLite file and no background workers: no subprocess, no port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from heliograph.api.app import create_app
from heliograph.bootstrap import Heliograph, build
from heliograph.clock import FrozenClock
from heliograph.services import accounts
from heliograph.settings import Settings
from heliograph.store.migrate import upgrade

API_KEY = "KEYAPITESTS" + "0" * 23
START = 1_800_000_000_000_000  # 2027-01-15T08:00:00Z, in microseconds: the frozen clock's "now"
BASE_URL = "http://heliograph.test"


@dataclass
class Api:
    """One sandbox world and an httpx client authenticated as its account."""

    hg: Heliograph
    clock: FrozenClock
    app: Any
    account: accounts.SandboxAccount
    http: httpx.AsyncClient

    @property
    def profile_id(self) -> str:
        return self.account.profile_id

    @property
    def long_code(self) -> str:
        return next(n for n in self.account.phone_numbers if not n.startswith("+1888"))

    def client(self, api_key: str | None = None) -> httpx.AsyncClient:
        """Another client on the same app; without `api_key` it sends no Authorization header."""
        return client_for(self.app, api_key)

    async def other_account(self, name: str = "Other") -> str:
        """A second organization (as `heliograph accounts create` makes one); returns its API key."""
        org = await accounts.create_organization(self.hg.ctx, name)
        return await accounts.add_api_key(self.hg.ctx, org["id"])

    async def ok(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """The JSON body of a request that must answer 200."""
        answer = await self.http.request(method, path, **kwargs)
        assert answer.status_code == 200, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json()


def client_for(app: Any, api_key: str | None) -> httpx.AsyncClient:
    headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url=BASE_URL, headers=headers
    )


@asynccontextmanager
async def running_api(data_dir: Path, **settings: Any) -> AsyncIterator[Api]:
    """A migrated sandbox (account, default profile, numbers) behind `create_app`; workers off, time frozen."""
    clock = FrozenClock(START)
    hg = build(Settings(data_dir=data_dir, simulator_dlr_delay_ms=0, **settings), clock=clock)
    await upgrade(hg.ctx.db)
    account = await accounts.bootstrap_sandbox(hg.ctx, API_KEY)
    app = create_app(hg, run_workers=False)
    await hg.start(workers=False)
    http = client_for(app, API_KEY)
    try:
        yield Api(hg, clock, app, account, http)
    finally:
        await http.aclose()
        await hg.stop()


def error_of(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The one Telnyx error of a refusal, after checking its status, code and that it has words."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    (error,) = answer.json()["errors"]
    assert str(error["code"]) == code, error
    assert error["title"] and error["detail"]
    return error

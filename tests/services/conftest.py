"""In-process service tests: a real SQLite file, a FrozenClock and a recording carrier; no sleeping."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest

from heliograph.bootstrap import Heliograph, build
from heliograph.carriers.base import ReportSink, Submission, SubmitResult
from heliograph.clock import FrozenClock
from heliograph.services import accounts
from heliograph.settings import Settings
from heliograph.store.engine import Database
from heliograph.store.migrate import upgrade

START = 1_800_000_000_000_000  # 2027-01-15T08:00:00Z, in microseconds


@dataclass
class RecordingCarrier:
    """Accepts everything and remembers when each submission reached it (by the frozen clock)."""

    clock: FrozenClock
    name: str = "recording"
    submitted: list[tuple[int, Submission]] = field(default_factory=list)

    async def start(self, on_reports: ReportSink) -> None:
        self.on_reports = on_reports

    async def submit(self, submissions: Sequence[Submission]) -> list[SubmitResult]:
        now = self.clock.now_us()
        self.submitted.extend((now, s) for s in submissions)
        return [SubmitResult(s.message_id, True, s.message_id) for s in submissions]

    async def resume(self, in_flight: Sequence[Submission]) -> None:
        pass

    async def close(self) -> None:
        pass


@dataclass
class World:
    hg: Heliograph
    clock: FrozenClock
    carrier: RecordingCarrier
    account: accounts.SandboxAccount

    @property
    def ctx(self):
        return self.hg.ctx

    @property
    def links(self):
        return self.hg.workers.links

    @property
    def long_code(self) -> str:
        return next(n for n in self.account.phone_numbers if not n.startswith("+1888"))

    @property
    def toll_free(self) -> str:
        return next(n for n in self.account.phone_numbers if n.startswith("+1888"))

    @property
    def caller(self) -> accounts.Caller:
        return accounts.Caller(self.account.organization["id"], "test", True)


DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("HELIOGRAPH_TEST_DATABASE_URL") else [])


async def _reset_postgres(url: str) -> None:
    """An empty public schema, so every test migrates from nothing."""
    db = Database(url)
    async with db.transaction() as conn:
        await conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        await conn.exec_driver_sql("CREATE SCHEMA public")
    await db.dispose()


@pytest.fixture
def world_settings() -> dict:
    """Extra Settings for `world`; a test module overrides this fixture (gateway mode, allow lists …)."""
    return {}


@pytest.fixture(params=DATABASES)
async def world(request, tmp_path, world_settings) -> AsyncIterator[World]:
    clock = FrozenClock(START)
    carrier = RecordingCarrier(clock)
    database_url = None
    if request.param == "postgresql":
        database_url = os.environ["HELIOGRAPH_TEST_DATABASE_URL"]
        await _reset_postgres(database_url)
    settings = Settings(data_dir=tmp_path, simulator_dlr_delay_ms=0, database_url=database_url, **world_settings)
    hg = build(settings, clock=clock, carrier=carrier)
    await upgrade(hg.ctx.db)
    account = await accounts.bootstrap_sandbox(hg.ctx, "KEYSERVICETESTS0000000000000000000")
    await hg.workers.links.start()  # the default route sends everything to the simulator: the recording carrier
    yield World(hg, clock, carrier, account)
    await hg.workers.links.close()
    await hg.ctx.db.dispose()

"""Wire everything once: database, clock, carrier, services context, workers. Tests pass doubles in."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from heliograph.carriers.base import Carrier
from heliograph.carriers.simulator import SimulatorCarrier
from heliograph.clock import Clock, SystemClock
from heliograph.services.accounts import KeyCache
from heliograph.services.committer import GroupCommitter
from heliograph.services.context import Context
from heliograph.services.pacing import SharedPacer
from heliograph.services.sealing import Sealer, reseal_all
from heliograph.settings import Settings
from heliograph.store import files
from heliograph.store.engine import Database
from heliograph.workers.runner import Workers


@dataclass
class Heliograph:
    settings: Settings
    ctx: Context
    carrier: Carrier
    keys: KeyCache
    workers: Workers

    async def start(self, *, workers: bool = True, sole_worker: bool | None = None) -> None:
        """`sole_worker`: no other process runs workers on this database, so leases left behind are a dead
        run's and are released at once (default: in the sandbox)."""
        committer = self.ctx.committer
        assert isinstance(committer, GroupCommitter)
        committer.start()
        await reseal_all(self.ctx)  # seals plain secrets, moves old keys' to the current one
        if workers:
            self.ctx.db.start_checkpointer()
            sole = self.settings.mode == "sandbox" if sole_worker is None else sole_worker
            await self.workers.start(sole_process=sole)

    async def stop(self) -> None:
        await self.workers.stop() if self.workers.tasks else None
        committer = self.ctx.committer
        assert isinstance(committer, GroupCommitter)
        await committer.stop()
        await self.ctx.db.dispose()


def build(settings: Settings, *, clock: Clock | None = None, carrier: Carrier | None = None) -> Heliograph:
    clock = clock or SystemClock()
    url = settings.resolved_database_url()
    if url.startswith("sqlite"):
        files.secure(settings.data_dir, url.split(":///", 1)[1] if ":///" in url else None)
    db = Database(url)
    ctx = Context(settings=settings, db=db, clock=clock)
    ctx.sealer = Sealer.from_settings(settings)
    committer = GroupCommitter(db, window_ms=settings.group_commit_ms)
    committer.on_commit.append(lambda: ctx.wakeups.dispatcher.set())  # looked up late: serve may swap wakeups
    ctx.committer = committer
    if settings.number_pool_seed is not None:
        ctx.pool_rng = random.Random(settings.number_pool_seed)
    carrier = carrier or SimulatorCarrier(clock, settings.simulator_dlr_delay_ms)
    factory = connector_factory(clock, simulator=carrier, shared_pace=SharedPacer(ctx).wait)
    return Heliograph(settings=settings, ctx=ctx, carrier=carrier, keys=KeyCache(), workers=Workers(ctx, factory))


def connector_factory(
    clock: Clock, *, simulator: Carrier, shared_pace: Callable[[str, float], Any] | None = None
) -> Callable[[dict[str, Any]], Any]:
    """Builds the connector a `connectors` row describes; the one place that names concrete carriers.
    The `simulator` row gets the process's simulator (or the test double passed to `build`). An SMPP
    connector's `mps` holds across processes through `shared_pace` (services/pacing.py)."""

    def make(row: dict[str, Any]) -> Any:
        kind, config = row["type"], dict(row["config"] or {})
        if kind == "simulator":
            if hasattr(simulator, "configure"):
                simulator.configure(config)
            return simulator
        if kind == "smpp":
            from heliograph.carriers.smpp import SmppConfig, SmppConnector

            return SmppConnector(row["name"], SmppConfig(**config), clock, shared_pace)
        if kind == "telnyx":
            from heliograph.carriers.telnyx import TelnyxConfig, TelnyxUpstream

            return TelnyxUpstream(row["name"], TelnyxConfig(**config), clock)
        raise ValueError(f"unknown connector type {kind!r}")

    return make

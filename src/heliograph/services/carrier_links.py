"""The connectors this process runs, kept in step with the database, and the route each message takes.

`CarrierLinks` opens one instance per connector row (through the factory bootstrap hands it: services never
name a concrete carrier), reopens a connector whose config changed (or hands the new config to one that
can take it live), closes removed ones, and reports each link's state for `connectors list`.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any

from heliograph.carriers.base import LinkState, Sinks
from heliograph.domain import routing
from heliograph.domain.rows import Row
from heliograph.services import connectors
from heliograph.services.context import Context

logger = logging.getLogger(__name__)

Factory = Callable[[Row], Any]  # connector row (name, type, config) -> a Connector (carriers/base.py)


class CarrierLinks:
    def __init__(self, ctx: Context, factory: Factory, sinks: Sinks) -> None:
        self._ctx = ctx
        self._factory = factory
        self._sinks = sinks
        self._version: tuple | None = None
        self._rows: dict[str, Row] = {}
        self._running: dict[str, Any] = {}
        self._routes: tuple[routing.Route, ...] = ()
        self._broken: dict[str, str] = {}  # connectors whose config could not be opened: the error
        self._submitted: dict[str, int] = {}
        self._reported: tuple[float, dict[str, int]] = (time.monotonic(), {})
        self.process = f"{socket.gethostname()}:{os.getpid()}"

    async def start(self) -> None:
        await connectors.ensure_defaults(self._ctx)
        await self.refresh(force=True)

    async def refresh(self, *, force: bool = False) -> bool:
        """Apply connector and route changes made since the last look; True if anything changed."""
        if not force and await connectors.version(self._ctx) == self._version:
            return False
        snapshot = await connectors.load(self._ctx)
        self._routes = snapshot.routes
        for name in [n for n in self._running if n not in snapshot.connectors]:
            await self._close(name)
        self._broken = {n: e for n, e in self._broken.items() if n in snapshot.connectors}
        for name, row in snapshot.connectors.items():
            old = self._rows.get(name)
            if name in self._running and old is not None and old["type"] == row["type"]:
                if old["config"] == row["config"]:
                    continue
                instance = self._running[name]
                if hasattr(instance, "configure"):
                    instance.configure(row["config"])
                    self._rows[name] = row
                    continue
                await self._close(name)
            await self._open(row)
        self._version = snapshot.version
        return True

    async def _open(self, row: Row) -> None:
        try:
            instance = self._factory(row)
            if hasattr(instance, "open"):
                await instance.open(self._sinks)
            else:
                await instance.start(self._sinks.reports)
        except Exception as exc:  # e.g. a config the connector refuses: shown in `connectors list`
            logger.exception("opening connector failed", extra={"action": "connector_open", "connector": row["name"]})
            self._broken[row["name"]] = f"cannot open: {exc}"
            return
        self._broken.pop(row["name"], None)
        self._running[row["name"]] = instance
        self._rows[row["name"]] = row
        logger.info("connector opened", extra={"action": "connector_open", "connector": row["name"]})

    async def _close(self, name: str) -> None:
        instance = self._running.pop(name, None)
        self._rows.pop(name, None)
        if instance is None:
            return
        try:
            await instance.close()
        except Exception:
            logger.exception("closing connector failed", extra={"action": "connector_close", "connector": name})

    def route(self, to_number: str, profile_id: str | None, message_type: str) -> routing.Route | None:
        return routing.choose(self._routes, to_number, profile_id, message_type)

    def get(self, name: str) -> Any | None:
        return self._running.get(name)

    def state(self, name: str) -> LinkState:
        instance = self._running.get(name)
        if instance is None:
            return LinkState("down", 0, "not running in this process")
        if hasattr(instance, "link_state"):
            return instance.link_state()
        return LinkState("up", 0)

    def carries(self, name: str, message_type: str) -> bool:
        """Whether connector `name` can carry this type (a connector declares `carries`; none = all)."""
        kinds = getattr(self._running.get(name), "carries", None)
        return kinds is None or message_type in kinds

    def count_submitted(self, name: str, n: int) -> None:
        self._submitted[name] = self._submitted.get(name, 0) + n

    def all(self) -> dict[str, Any]:
        return dict(self._running)

    async def report(self) -> None:
        """Write this process's link states (heartbeat) for operators."""
        now = self._ctx.now()
        then, before = self._reported
        elapsed = max(time.monotonic() - then, 1e-3)
        states = []
        for name in self._running:
            s = self.state(name)
            total = self._submitted.get(name, 0)
            states.append(
                {
                    "connector": name,
                    "state": s.state,
                    "since": s.since_us or now,
                    "last_error": s.last_error,
                    "in_flight": s.in_flight,
                    "submitted": total,
                    "sent_per_second": (total - before.get(name, 0)) / elapsed,
                    "heartbeat_at": now,
                }
            )
        for name, error in self._broken.items():
            states.append(
                {
                    "connector": name,
                    "state": "down",
                    "since": now,
                    "last_error": error,
                    "in_flight": 0,
                    "submitted": 0,
                    "sent_per_second": 0.0,
                    "heartbeat_at": now,
                }
            )
        self._reported = (time.monotonic(), dict(self._submitted))
        await connectors.report_link_states(self._ctx, self.process, states)

    async def close(self) -> None:
        for name in list(self._running):
            await self._close(name)
        try:
            await connectors.forget_link_states(self._ctx, self.process)
        except Exception:  # the database may be gone at shutdown; the rows go stale anyway
            logger.debug("could not clear link states", exc_info=True)

"""Readiness (`GET /readyz`): can this process do its job right now? Liveness stays `/healthz`.

Ready means the database answers, its schema is not behind this release's migrations (a newer release's
schema is fine: during a rolling upgrade it migrates first, and migrations keep the previous release
working; see docs/operations.md), and at least one worker process
has reported its carrier links lately (workers write `connector_links` every few seconds; see
services/carrier_links.py): an API that accepts messages nobody will ever send is not ready.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from heliograph.services.context import Context
from heliograph.store import carriers as links_store
from heliograph.store.migrate import current_revision, head_revision, schema_state

logger = logging.getLogger(__name__)

DATABASE_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    reason: str | None = None


async def check(ctx: Context) -> Readiness:
    try:
        return await asyncio.wait_for(_check(ctx), DATABASE_TIMEOUT_SECONDS)
    except TimeoutError:
        return Readiness(False, f"The database did not answer within {DATABASE_TIMEOUT_SECONDS:g} s.")
    except Exception as exc:  # any failure to reach the database means not ready
        logger.warning("readiness check failed", extra={"action": "readyz", "error": exc.__class__.__name__})
        return Readiness(False, f"The database is unreachable ({exc.__class__.__name__}).")


async def _check(ctx: Context) -> Readiness:
    window_us = int(ctx.settings.ready_heartbeat_seconds * 1_000_000)
    async with ctx.db.read() as conn:
        revision = await current_revision(conn)
    if schema_state(revision) == "behind":  # ahead is fine: a rolling upgrade's newer release migrated first
        at = revision or "no revision"
        return Readiness(False, f"The database schema is at {at}, not {head_revision()}: run `heliograph migrate`.")
    async with ctx.db.read() as conn:
        fresh = await links_store.link_states(conn, ctx.now() - window_us)
    if not fresh:
        return Readiness(
            False, f"No worker has reported in the last {ctx.settings.ready_heartbeat_seconds:g} s; is one running?"
        )
    return Readiness(True)

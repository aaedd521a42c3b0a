"""Connectors and routes: the administration use cases, and what running processes read of them.

Both live in the database so every process sees one set; workers poll `load` (see services/carrier_links.py) and
pick up changes within seconds. Secrets in a connector's config (SMPP password, upstream API key) are
never returned by `list_connectors` nor logged.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from heliograph.domain import routing
from heliograph.domain.rows import Row
from heliograph.services import sealing
from heliograph.services.context import Context
from heliograph.store import carriers as store

logger = logging.getLogger(__name__)


TYPES = ("simulator", "smpp", "telnyx")
SECRET_KEYS = frozenset({"password", "api_key"})
SIMULATOR = "simulator"
DEFAULT_ROUTE = "default"
LINK_FRESH_US = 15_000_000  # a process that has not reported its links for this long is gone
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

SIMULATOR_DEFAULTS: Row = {"failure_rate_percent": 0.0, "extra_latency_ms": 0, "handsets_off": []}


class AdminError(ValueError):
    """A refused administration change; the message is shown to the operator as it is."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a worker needs to run the links: connector rows (with config) and routes."""

    version: tuple
    connectors: dict[str, Row]
    routes: tuple[routing.Route, ...]


async def ensure_defaults(ctx: Context) -> None:
    """The `simulator` connector always exists; the sandbox routes every destination to it until the
    operator adds routes of their own (a sandbox with no route at all gets the default one back)."""
    now = ctx.now()
    async with ctx.db.transaction() as conn:
        if await store.get_connector(conn, SIMULATOR) is None:
            await store.insert_connector(
                conn, {"name": SIMULATOR, "type": "simulator", "config": {}, "created_at": now, "updated_at": now}
            )
        if ctx.settings.mode == "sandbox" and not await store.list_routes(conn):
            await store.insert_route(conn, _route_row(DEFAULT_ROUTE, 0, [], None, None, [SIMULATOR], now))


async def load(ctx: Context) -> Snapshot:
    async with ctx.db.read() as conn:
        version = await store.config_version(conn)
        rows = await store.list_connectors(conn)
        route_rows = await store.list_routes(conn)
    rows = [{**r, "config": sealing.open_config(ctx, r["name"], r["config"])} for r in rows]  # secrets sealed at rest
    return Snapshot(version, {r["name"]: r for r in rows}, tuple(_route(r) for r in route_rows))


async def version(ctx: Context) -> tuple:
    async with ctx.db.read() as conn:
        return await store.config_version(conn)


async def add_connector(ctx: Context, type_: str, name: str, config: Row) -> Row:
    if type_ not in TYPES:
        raise AdminError(f"Unknown connector type {type_!r}; use one of {', '.join(TYPES)}.")
    if not _NAME.match(name):
        raise AdminError("A connector name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.")
    now = ctx.now()
    async with ctx.db.transaction() as conn:
        if await store.get_connector(conn, name) is not None:
            raise AdminError(f"A connector named {name!r} already exists.")
        row = {"name": name, "type": type_, "config": config, "created_at": now, "updated_at": now}
        await store.insert_connector(conn, {**row, "config": sealing.seal_config(ctx, name, config)})
    logger.info("connector added", extra={"action": "connector_add", "connector": name, "type": type_})
    return public(row)


async def remove_connector(ctx: Context, name: str) -> None:
    async with ctx.db.transaction() as conn:
        if await store.get_connector(conn, name) is None:
            raise AdminError(f"No connector named {name!r}.")
        users = [r["name"] for r in await store.list_routes(conn) if name in r["connectors"]]
        if users:
            raise AdminError(f"Connector {name!r} is used by route(s) {', '.join(users)}; remove them first.")
        await store.delete_connector(conn, name)
    logger.info("connector removed", extra={"action": "connector_remove", "connector": name})


async def list_connectors(ctx: Context) -> list[Row]:
    """Connectors with their link state as the running processes last reported it."""
    async with ctx.db.read() as conn:
        rows = await store.list_connectors(conn)
        links = await store.link_states(conn, ctx.now() - LINK_FRESH_US)
    by_connector: dict[str, list[Row]] = {}
    for link in links:
        by_connector.setdefault(link["connector"], []).append(link)
    return [{**public(r), **_merged_state(by_connector.get(r["name"], []))} for r in rows]


def public(row: Row) -> Row:
    """A connector as shown to operators: no secret, ever."""
    config = {k: v for k, v in (row["config"] or {}).items() if k not in SECRET_KEYS}
    out = {"name": row["name"], "type": row["type"], "config": config}
    if row["type"] == "telnyx":
        out["webhook_path"] = f"/carriers/v1/{row['name']}/webhooks"
    return out


_RANK = {"up": 2, "connecting": 1, "down": 0}


def _merged_state(links: list[Row]) -> Row:
    if not links:
        return {
            "state": "down",
            "since": None,
            "last_error": "no running worker holds this link",
            "in_flight": 0,
            "sent_per_second": 0.0,
        }
    best = max(links, key=lambda link: (_RANK.get(link["state"], 0), -link["since"]))
    errors = [link["last_error"] for link in links if link["last_error"]]
    return {
        "state": best["state"],
        "since": best["since"],
        "last_error": best["last_error"] or (errors[0] if errors else None),
        "in_flight": sum(link["in_flight"] for link in links),
        "sent_per_second": round(sum(link["sent_per_second"] for link in links), 1),
    }


async def report_link_states(ctx: Context, process: str, states: list[Row]) -> None:
    async with ctx.db.transaction() as conn:
        await store.save_link_states(conn, process, states)


async def forget_link_states(ctx: Context, process: str) -> None:
    async with ctx.db.transaction() as conn:
        await store.drop_link_states(conn, process)


async def add_route(
    ctx: Context,
    name: str,
    connector_names: list[str],
    *,
    prefixes: list[str] | None = None,
    profile_id: str | None = None,
    message_type: str | None = None,
    priority: int = 0,
) -> Row:
    if not _NAME.match(name):
        raise AdminError("A route name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.")
    if not connector_names:
        raise AdminError("A route needs at least one --connector.")
    if len(set(connector_names)) != len(connector_names):
        raise AdminError("A connector appears twice in the route.")
    prefixes = prefixes or []
    bad = [p for p in prefixes if not routing.valid_prefix(p)]
    if bad:
        raise AdminError(f"Not an E.164 prefix: {', '.join(bad)} (write it as +44, +1312, ...).")
    if message_type is not None:
        message_type = message_type.upper()
        if message_type not in ("SMS", "MMS"):
            raise AdminError("--type is SMS or MMS.")
    now = ctx.now()
    async with ctx.db.transaction() as conn:
        known = {r["name"] for r in await store.list_connectors(conn)}
        missing = [c for c in connector_names if c not in known]
        if missing:
            raise AdminError(f"No connector named {', '.join(missing)}.")
        if any(r["name"] == name for r in await store.list_routes(conn)):
            raise AdminError(f"A route named {name!r} already exists.")
        row = _route_row(name, priority, prefixes, profile_id, message_type, connector_names, now)
        await store.insert_route(conn, row)
    logger.info("route added", extra={"action": "route_add", "route": name})
    return route_view(row)


async def remove_route(ctx: Context, name: str) -> None:
    async with ctx.db.transaction() as conn:
        if not await store.delete_route(conn, name):
            raise AdminError(f"No route named {name!r}.")
    logger.info("route removed", extra={"action": "route_remove", "route": name})


async def list_routes(ctx: Context) -> list[Row]:
    async with ctx.db.read() as conn:
        return [route_view(r) for r in await store.list_routes(conn)]


def route_view(row: Row) -> Row:
    return {
        "name": row["name"],
        "priority": row["priority"],
        "connectors": list(row["connectors"]),
        "prefixes": list(row["prefixes"]),
        "messaging_profile_id": row["messaging_profile_id"],
        "type": row["message_type"],
    }


async def get_simulator_controls(ctx: Context) -> Row:
    """The simulator's failure injection and timing, as the console shows them."""
    async with ctx.db.read() as conn:
        row = await store.get_connector(conn, SIMULATOR)
    return simulator_controls(row["config"] if row else {}, ctx.settings.simulator_dlr_delay_ms)


def simulator_controls(config: Row, default_delay_ms: int) -> Row:
    return {"dlr_delay_ms": default_delay_ms, **SIMULATOR_DEFAULTS, **(config or {})}


async def set_simulator_controls(ctx: Context, **changes: Any) -> Row:
    """Change the simulator's behaviour; running workers apply it within seconds."""
    unknown = set(changes) - {"dlr_delay_ms", "failure_rate_percent", "extra_latency_ms", "handsets_off"}
    if unknown:
        raise AdminError(f"Unknown simulator control(s): {', '.join(sorted(unknown))}.")
    if "failure_rate_percent" in changes and not 0 <= float(changes["failure_rate_percent"]) <= 100:
        raise AdminError("failure_rate_percent is between 0 and 100.")
    for key in ("dlr_delay_ms", "extra_latency_ms"):
        if key in changes and int(changes[key]) < 0:
            raise AdminError(f"{key} cannot be negative.")
    await ensure_defaults(ctx)
    async with ctx.db.transaction() as conn:
        row = await store.get_connector(conn, SIMULATOR)
        assert row is not None  # ensure_defaults() created it
        config = {**(row["config"] or {}), **changes}
        if "handsets_off" in config:
            config["handsets_off"] = sorted(set(config["handsets_off"]))
        await store.update_connector_config(conn, SIMULATOR, config, ctx.now())
    return simulator_controls(config, ctx.settings.simulator_dlr_delay_ms)


def _route_row(
    name: str,
    priority: int,
    prefixes: list[str],
    profile_id: str | None,
    message_type: str | None,
    connector_names: list[str],
    now: int,
) -> Row:
    return {
        "name": name,
        "priority": priority,
        "prefixes": prefixes,
        "messaging_profile_id": profile_id,
        "message_type": message_type,
        "connectors": connector_names,
        "created_at": now,
    }


def _route(row: Row) -> routing.Route:
    return routing.Route(
        row["name"],
        row["priority"],
        tuple(row["prefixes"]),
        row["messaging_profile_id"],
        row["message_type"],
        tuple(row["connectors"]),
    )

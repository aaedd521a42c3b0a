"""Connectors, routes, link states, message parts and carrier receipts.

Connector and route rows are shared by every process (they poll them); parts and receipts are what a
receipt is matched against, stored so that a restart or another process can still match it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.domain.rows import Row
from heliograph.store.tables import carrier_receipts, connector_links, connectors, message_parts, routes


async def list_connectors(conn: AsyncConnection) -> list[Row]:
    """Every connector, with its config (secrets included: callers must not show it)."""
    rows = await conn.execute(select(connectors).order_by(connectors.c.name))
    return [dict(r._mapping) for r in rows]


async def get_connector(conn: AsyncConnection, name: str) -> Row | None:
    row = (await conn.execute(select(connectors).where(connectors.c.name == name))).first()
    return dict(row._mapping) if row else None


async def insert_connector(conn: AsyncConnection, row: Row) -> None:
    await conn.execute(connectors.insert(), [row])


async def update_connector_config(conn: AsyncConnection, name: str, config: Row, now: int) -> None:
    await conn.execute(update(connectors).where(connectors.c.name == name).values(config=config, updated_at=now))


async def connector_configs(conn: AsyncConnection) -> list[tuple[str, Row | None]]:
    """(name, config) of every connector."""
    return [
        (name, config) for name, config in (await conn.execute(select(connectors.c.name, connectors.c.config))).all()
    ]


async def replace_connector_config(conn: AsyncConnection, name: str, config: Row) -> None:
    """Store a connector's config as is (re-sealed secrets: updated_at stays)."""
    await conn.execute(update(connectors).where(connectors.c.name == name).values(config=config))


async def delete_connector(conn: AsyncConnection, name: str) -> None:
    await conn.execute(delete(connectors).where(connectors.c.name == name))
    await conn.execute(delete(connector_links).where(connector_links.c.connector == name))


async def list_routes(conn: AsyncConnection) -> list[Row]:
    rows = await conn.execute(select(routes).order_by(routes.c.priority.desc(), routes.c.name))
    return [dict(r._mapping) for r in rows]


async def insert_route(conn: AsyncConnection, row: Row) -> None:
    await conn.execute(routes.insert(), [row])


async def delete_route(conn: AsyncConnection, name: str) -> int:
    return (await conn.execute(delete(routes).where(routes.c.name == name))).rowcount


async def config_version(conn: AsyncConnection) -> tuple[Any, ...]:
    """Changes whenever a connector or route is added, changed or removed (cheap to poll)."""
    c = (await conn.execute(select(func.count(), func.max(connectors.c.updated_at)).select_from(connectors))).one()
    r = (await conn.execute(select(func.count(), func.max(routes.c.created_at)).select_from(routes))).one()
    return (tuple(c), tuple(r))


async def save_link_states(conn: AsyncConnection, process: str, states: list[Row]) -> None:
    """This process's view of its links (one row per connector and process)."""
    await conn.execute(delete(connector_links).where(connector_links.c.process == process))
    if states:
        await conn.execute(connector_links.insert(), [{**s, "process": process} for s in states])


async def link_states(conn: AsyncConnection, fresh_after: int) -> list[Row]:
    rows = await conn.execute(select(connector_links).where(connector_links.c.heartbeat_at >= fresh_after))
    return [dict(r._mapping) for r in rows]


async def drop_link_states(conn: AsyncConnection, process: str) -> None:
    await conn.execute(delete(connector_links).where(connector_links.c.process == process))


async def replace_parts(conn: AsyncConnection, parts: list[Row]) -> None:
    """Store the carrier ids of submitted parts (a resubmitted message's earlier ids are dropped)."""
    if parts:
        ids = list({p["message_id"] for p in parts})
        await conn.execute(delete(message_parts).where(message_parts.c.message_id.in_(ids)))
        await conn.execute(message_parts.insert(), parts)


async def parts_by_carrier_ids(conn: AsyncConnection, keys: set[tuple[str, str]]) -> list[Row]:
    """The stored parts with these (connector, carrier message id) pairs."""
    if not keys:
        return []
    query = select(message_parts).where(
        tuple_(message_parts.c.connector, message_parts.c.carrier_message_id).in_(sorted(keys))
    )
    return [dict(r._mapping) for r in await conn.execute(query)]


async def parts_of(conn: AsyncConnection, message_ids: list[str]) -> list[Row]:
    if not message_ids:
        return []
    query = (
        select(message_parts)
        .where(message_parts.c.message_id.in_(message_ids))
        .order_by(message_parts.c.message_id, message_parts.c.part)
    )
    return [dict(r._mapping) for r in await conn.execute(query)]


async def update_parts(conn: AsyncConnection, changes: list[Row]) -> None:
    """One executemany for a batch of part status changes."""
    if not changes:
        return
    statement = (
        update(message_parts)
        .where(message_parts.c.message_id == bindparam("b_message_id"), message_parts.c.part == bindparam("b_part"))
        .values(
            status=bindparam("b_status"),
            error_code=bindparam("b_error_code"),
            error_detail=bindparam("b_error_detail"),
            updated_at=bindparam("b_at"),
        )
    )
    await conn.execute(statement, [{f"b_{k}": v for k, v in c.items()} for c in changes])


async def add_receipts(conn: AsyncConnection, rows: list[Row]) -> None:
    if rows:
        await conn.execute(carrier_receipts.insert(), rows)


async def pending_receipts(conn: AsyncConnection, after_id: int, received_after: int, limit: int) -> list[Row]:
    """Receipts not yet applied to their message, in arrival order (keyset pages by id)."""
    query = (
        select(carrier_receipts)
        .where(carrier_receipts.c.id > after_id, carrier_receipts.c.received_at >= received_after)
        .order_by(carrier_receipts.c.id)
        .limit(limit)
    )
    return [dict(r._mapping) for r in await conn.execute(query)]


async def remove_receipts(conn: AsyncConnection, ids: list[int]) -> None:
    if ids:
        await conn.execute(delete(carrier_receipts).where(carrier_receipts.c.id.in_(ids)))


async def purge_receipts(conn: AsyncConnection, received_before: int) -> int:
    """Receipts that never matched a part (a foreign or long-forgotten id)."""
    return (
        await conn.execute(delete(carrier_receipts).where(carrier_receipts.c.received_at < received_before))
    ).rowcount

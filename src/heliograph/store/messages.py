"""Messages: read one, change state in batches. Sends are inserted by the group committer (services);
inbound messages, their auto-replies and handset copies here."""

from __future__ import annotations

from functools import cache
from typing import Any

import orjson
from sqlalchemy import JSON, Text, Update, bindparam, cast, column, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.domain.rows import Row
from heliograph.store import driver
from heliograph.store.tables import handset_messages, messages


async def insert_messages(conn: AsyncConnection, rows: list[Row]) -> None:
    """Inbound messages and the auto-replies they triggered."""
    await conn.execute(messages.insert(), rows)


async def get_message(conn: AsyncConnection, org_id: str, message_id: str) -> Row | None:
    query = select(messages).where(messages.c.id == message_id, messages.c.organization_id == org_id)
    row = (await conn.execute(query)).mappings().first()
    return dict(row) if row is not None else None


async def get_messages(conn: AsyncConnection, ids: list[str]) -> list[Row]:
    if not ids:
        return []
    if conn.dialect.name == "sqlite":
        return _GET_MESSAGES.all(await driver.sqlite_connection(conn), {"ids": driver.json_list(ids)})
    query = select(messages).where(messages.c.id.in_(ids))
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def lock(conn: AsyncConnection, ids: list[str]) -> None:
    """Row locks on these messages until the transaction ends (PostgreSQL; SQLite writers take turns)."""
    if ids and conn.dialect.name == "postgresql":
        await conn.execute(
            select(messages.c.id).where(messages.c.id.in_(ids)).order_by(messages.c.id).with_for_update()
        )


async def ids_in_status(conn: AsyncConnection, ids: list[str], status: str) -> set[str]:
    """Which of these messages are in `status` now (locked for this transaction on PostgreSQL)."""
    if not ids:
        return set()
    if conn.dialect.name == "sqlite":
        found = _IDS_IN_STATUS.all(
            await driver.sqlite_connection(conn), {"ids": driver.json_list(ids), "status": status}
        )
        return {r["id"] for r in found}
    query = select(messages.c.id).where(messages.c.id.in_(ids), messages.c.status == status)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return {r[0] for r in (await conn.execute(query)).all()}


async def update_many(conn: AsyncConnection, changes: list[Row]) -> None:
    """Apply per-message changes; every dict holds `id` and the same set of other keys.

    On PostgreSQL one UPDATE … FROM unnest(arrays) for the whole batch: one statement for the server to
    plan and run, where executemany ran one per row, and the same text whatever the batch size, so it
    stays prepared. SQLite runs the per-row form (there are no round trips to save)."""
    if not changes:
        return
    keys = [k for k in changes[0] if k != "id"]
    if conn.dialect.name == "postgresql":
        await conn.execute(
            _update_from_arrays(tuple(keys)), {f"a_{k}": _array(k, [c[k] for c in changes]) for k in ["id", *keys]}
        )
        return
    _sqlite_update(tuple(keys)).run(await driver.sqlite_connection(conn), changes)


@cache
def _sqlite_update(keys: tuple[str, ...]) -> driver.DriverWrite:
    return driver.DriverWrite(
        update(messages).where(messages.c.id == bindparam("id")).values({k: bindparam(k) for k in keys})
    )


def _is_json(key: str) -> bool:
    return isinstance(messages.c[key].type, JSON)


def _array(key: str, items: list[Any]) -> list[Any]:
    if _is_json(key):  # JSON travels as text and is cast back in the statement
        return [None if v is None else orjson.dumps(v).decode() for v in items]
    return items


@cache
def _update_from_arrays(keys: tuple[str, ...] | list[str]) -> Update:
    names = ["id", *keys]
    binds = [bindparam(f"a_{k}", type_=ARRAY(Text if _is_json(k) else messages.c[k].type)) for k in names]
    changes = func.unnest(*binds).table_valued(*[column(k) for k in names]).render_derived(name="changes")
    return (
        update(messages)
        .where(messages.c.id == changes.c.id)
        .values({k: cast(changes.c[k], JSON) if _is_json(k) else changes.c[k] for k in keys})
    )


async def in_flight(conn: AsyncConnection, sent_before: int | None = None, limit: int = 100_000) -> list[Row]:
    """Messages the carrier took but has not reported on yet (to re-arm receipts after a restart)."""
    query = select(messages).where(messages.c.status == "sent")
    if sent_before is not None:
        query = query.where(messages.c.sent_at < sent_before)
    query = query.order_by(messages.c.sent_at).limit(limit)
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def overdue_receipts(conn: AsyncConnection, sent_before: int, limit: int) -> list[Row]:
    query = (
        select(messages)
        .where(messages.c.status == "sent", messages.c.sent_at < sent_before)
        .order_by(messages.c.sent_at)
        .limit(limit)
    )
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def handset_inbox(conn: AsyncConnection, org_id: str, handset: str, limit: int) -> list[Row]:
    query = (
        select(handset_messages)
        .where(handset_messages.c.organization_id == org_id, handset_messages.c.handset == handset)
        .order_by(handset_messages.c.received_at.desc(), handset_messages.c.id.desc())
        .limit(limit)
    )
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def add_handset_messages(conn: AsyncConnection, rows: list[Row]) -> None:
    """Copies of delivered messages in the virtual handsets' inboxes."""
    if conn.dialect.name == "sqlite":
        _HANDSET_INSERT.run(await driver.sqlite_connection(conn), rows)
        return
    await conn.execute(handset_messages.insert(), rows)


async def clear_handset(conn: AsyncConnection, org_id: str, handset: str) -> int:
    result = await conn.execute(
        handset_messages.delete().where(
            handset_messages.c.organization_id == org_id, handset_messages.c.handset == handset
        )
    )
    return result.rowcount or 0


async def number_health(conn: AsyncConnection, numbers: list[str], since: int) -> dict[str, Row]:
    """Per sending number: finished outbound messages since `since`, delivered and spam-blocked counts."""
    from sqlalchemy import case, func

    if not numbers:
        return {}
    final = messages.c.status.in_(("delivered", "delivery_failed", "delivery_unconfirmed", "sending_failed", "expired"))
    query = (
        select(
            messages.c.from_number,
            func.count().label("finished"),
            func.sum(case((messages.c.status == "delivered", 1), else_=0)).label("delivered"),
        )
        .where(
            messages.c.from_number.in_(numbers),
            messages.c.direction == "outbound",
            messages.c.received_at >= since,
            final,
        )
        .group_by(messages.c.from_number)
    )
    inbound = (
        select(messages.c.to_number, func.count().label("received"))
        .where(
            messages.c.to_number.in_(numbers),
            messages.c.direction == "inbound",
            messages.c.received_at >= since,
        )
        .group_by(messages.c.to_number)
    )
    out: dict[str, Row] = {n: {"finished": 0, "delivered": 0, "received": 0} for n in numbers}
    for number, finished, delivered in (await conn.execute(query)).all():
        out[number].update(finished=finished, delivered=int(delivered or 0))
    for number, received in (await conn.execute(inbound)).all():
        out[number]["received"] = received
    return out


async def group_messages(conn: AsyncConnection, org_id: str, group_id: str) -> list[Row]:
    query = (
        select(messages)
        .where(messages.c.group_message_id == group_id, messages.c.organization_id == org_id)
        .order_by(messages.c.received_at, messages.c.id)
    )
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def mark_webhook_delivered(conn: AsyncConnection, message_ids: list[str]) -> None:
    """Inbound messages whose message.received webhook was accepted report `webhook_delivered`."""
    await conn.execute(
        update(messages)
        .where(messages.c.id.in_(message_ids), messages.c.direction == "inbound")
        .values(status="webhook_delivered")
    )


_HANDSET_INSERT = driver.DriverWrite(
    handset_messages.insert().values({c.name: bindparam(c.name) for c in handset_messages.c if c.name != "id"})
)
_GET_MESSAGES = driver.DriverQuery(select(messages).where(driver.in_list(messages.c.id, "ids")))
_IDS_IN_STATUS = driver.DriverQuery(
    select(messages.c.id).where(driver.in_list(messages.c.id, "ids"), messages.c.status == bindparam("status"))
)

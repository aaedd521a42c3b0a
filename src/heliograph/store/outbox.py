"""Webhook events (the transactional outbox) and their attempt log."""

from __future__ import annotations

from sqlalchemy import ColumnElement, bindparam, exists, func, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.domain.filters import WebhookDeliveryFilter
from heliograph.domain.rows import Row
from heliograph.store import driver
from heliograph.store.filters import time_range
from heliograph.store.tables import webhook_attempts, webhook_events


async def add_events(conn: AsyncConnection, events: list[Row]) -> None:
    if not events:
        return
    if conn.dialect.name == "sqlite":
        _EVENT_INSERT.run(await driver.sqlite_connection(conn), events)
        return
    await conn.execute(webhook_events.insert(), events)


# every column the services give an event, and its feed position: the next `seq` (SQLite writers take
# turns, so MAX + 1 inside the transaction is the commit order; txid stays 0 there). Migration 0006's
# trigger gives a `seq` to a row inserted without one, by updating the row just written: a second write
# of the ~1.4 KB row and of two indexes, ~40 % of the insert's SQLite time.
_EVENT_INSERT = driver.DriverWrite(
    webhook_events.insert().values(
        {c.name: bindparam(c.name) for c in webhook_events.c if c.name not in ("seq", "txid")}
        | {"seq": select(func.coalesce(func.max(webhook_events.c.seq), 0) + 1).scalar_subquery()}
    )
)
_ATTEMPT_INSERT = driver.DriverWrite(
    webhook_attempts.insert().values({c.name: bindparam(c.name) for c in webhook_attempts.c if c.name != "id"})
)
# each event's next state after an attempt; parameters are named "_<column>" (SQLAlchemy reserves the
# column names in an UPDATE's SET clause)
_OUTCOME_STATEMENT = (
    update(webhook_events)
    .where(webhook_events.c.id == bindparam("_id"))
    .values(
        {
            c: bindparam(f"_{c}")
            for c in ("status", "attempts", "next_url_index", "next_attempt_at", "first_attempt_at", "finished_at")
        }
        | {"lease_until": null()}
    )
    .execution_options(synchronize_session=False)
)
_OUTCOME_UPDATE = driver.DriverWrite(_OUTCOME_STATEMENT)


async def record_attempts(conn: AsyncConnection, attempts: list[Row], outcomes: list[Row]) -> None:
    """Store attempt rows and move each event on (delivered, next retry, or failed) in one go."""
    changes = [{f"_{k}": v for k, v in o.items()} for o in outcomes]
    if conn.dialect.name == "sqlite":
        connection = await driver.sqlite_connection(conn)
        if attempts:
            _ATTEMPT_INSERT.run(connection, attempts)
        if changes:
            _OUTCOME_UPDATE.run(connection, changes)
        return
    if attempts:
        await conn.execute(webhook_attempts.insert(), attempts)
    if changes:
        await conn.execute(_OUTCOME_STATEMENT, changes)


async def events_for_message(conn: AsyncConnection, message_id: str) -> list[Row]:
    query = select(webhook_events).where(webhook_events.c.message_id == message_id)
    return [dict(r) for r in (await conn.execute(query.order_by(webhook_events.c.occurred_at))).mappings()]


def _delivery_clauses(wanted: WebhookDeliveryFilter) -> list[ColumnElement[bool]]:
    e = webhook_events.c
    clauses = []
    if wanted.delivered is not None:
        clauses.append(e.status == "delivered" if wanted.delivered else e.status != "delivered")
    if wanted.event_types is not None:
        clauses.append(e.event_type.in_(list(wanted.event_types)))
    if wanted.webhook_contains is not None:
        clauses.append(e.data_json.contains(wanted.webhook_contains, autoescape=True))
    if wanted.attempts_contains is not None:
        needle = wanted.attempts_contains
        a = webhook_attempts.c
        clauses.append(
            exists(
                select(a.id).where(
                    a.event_id == e.id,
                    or_(a.url.contains(needle, autoescape=True), a.response_body.contains(needle, autoescape=True)),
                )
            )
        )
    return clauses + time_range(e.first_attempt_at, wanted.started_at) + time_range(e.finished_at, wanted.finished_at)


async def list_delivered_events(
    conn: AsyncConnection, org_id: str, wanted: WebhookDeliveryFilter, offset: int, limit: int
) -> tuple[list[Row], int]:
    """Events with at least one attempt, oldest first (new rows land on the last page)."""
    from sqlalchemy import func

    where = [webhook_events.c.organization_id == org_id, webhook_events.c.attempts > 0, *_delivery_clauses(wanted)]
    total = (await conn.execute(select(func.count()).select_from(webhook_events).where(*where))).scalar_one()
    query = (
        select(webhook_events)
        .where(*where)
        .order_by(webhook_events.c.first_attempt_at, webhook_events.c.id)
        .offset(offset)
        .limit(limit)
    )
    return [dict(r) for r in (await conn.execute(query)).mappings()], total


async def get_event(conn: AsyncConnection, org_id: str, event_id: str) -> Row | None:
    query = select(webhook_events).where(webhook_events.c.id == event_id, webhook_events.c.organization_id == org_id)
    row = (await conn.execute(query)).mappings().first()
    return dict(row) if row else None


async def attempts_of(conn: AsyncConnection, event_ids: list[str]) -> dict[str, list[Row]]:
    """Attempts per event, most recent first."""
    out: dict[str, list[Row]] = {i: [] for i in event_ids}
    if not event_ids:
        return out
    query = (
        select(webhook_attempts)
        .where(webhook_attempts.c.event_id.in_(event_ids))
        .order_by(webhook_attempts.c.attempt.desc(), webhook_attempts.c.id.desc())
    )
    for r in (await conn.execute(query)).mappings():
        out[r["event_id"]].append(dict(r))
    return out


async def recent_events(conn: AsyncConnection, org_id: str, *, failed_only: bool, limit: int) -> list[Row]:
    """Events that have (or had) somewhere to go, newest first; failed_only: those not delivered
    (given up, or failing and waiting for a retry)."""
    e = webhook_events.c
    where = [e.organization_id == org_id, e.status != "no_url"]
    if failed_only:
        where.append(e.status != "delivered")
        where.append(e.attempts > 0)
    query = select(webhook_events).where(*where).order_by(e.occurred_at.desc(), e.id.desc()).limit(limit)
    return [dict(r) for r in (await conn.execute(query)).mappings()]

"""Messages read as conversations: one remote handset talking to the organization's numbers.

The counterpart of a message is the handset: `to` of an outbound message, `from` of an inbound one.
Every query is scoped by organization.
"""

from __future__ import annotations

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.domain.rows import Row
from heliograph.store.tables import message_parts, messages, webhook_events

m = messages.c
_COUNTERPART = case((m.direction == "outbound", m.to_number), else_=m.from_number)
_OURS = case((m.direction == "outbound", m.from_number), else_=m.to_number)
# what a list entry needs; never the whole row (the list reads many of them)
_SUMMARY = (m.id, m.direction, m.status, m.from_number, m.to_number, m.text, m.type, m.received_at)


RECENT_WINDOW = 2000


async def latest_conversations(conn: AsyncConnection, org_id: str, limit: int) -> list[Row]:
    """Handsets with their newest message, newest activity first.

    Walking the newest messages (index on organization_id, received_at) finds them when handsets are
    many, the usual case: the first time a handset shows up is its newest message. When the newest
    RECENT_WINDOW messages name fewer than `limit` handsets, one GROUP BY over the organization's
    messages finds the rest."""
    recent = (
        select(_COUNTERPART.label("handset"), *_SUMMARY)
        .where(m.organization_id == org_id)
        .order_by(m.received_at.desc(), m.id.desc())
        .limit(RECENT_WINDOW)
    )
    rows = (await conn.execute(recent)).mappings().all()
    out: dict[str, Row] = {}
    for row in rows:
        if row["handset"] not in out:
            out[row["handset"]] = dict(row)
    if len(out) >= limit or len(rows) < RECENT_WINDOW:
        return list(out.values())[:limit]
    return await _grouped_conversations(conn, org_id, limit)


async def _grouped_conversations(conn: AsyncConnection, org_id: str, limit: int) -> list[Row]:
    counterpart = _COUNTERPART.label("handset")
    grouped = (
        select(counterpart, func.max(m.received_at).label("last_at"))
        .where(m.organization_id == org_id)
        .group_by(counterpart)
        .order_by(func.max(m.received_at).desc())
        .limit(limit)
        .subquery()
    )
    query = (
        select(grouped.c.handset, *_SUMMARY)
        .select_from(grouped)
        .join(
            messages,
            and_(
                m.organization_id == org_id,
                m.received_at == grouped.c.last_at,
                grouped.c.handset == _COUNTERPART,
            ),
        )
        .order_by(grouped.c.last_at.desc(), m.id.desc())
    )
    out: dict[str, Row] = {}
    for row in (await conn.execute(query)).mappings():
        out.setdefault(row["handset"], dict(row))  # two messages in one microsecond: keep one
    return list(out.values())


async def numbers_of_handset(conn: AsyncConnection, org_id: str, handset: str) -> list[Row]:
    """The organization's numbers a handset has talked with, newest activity first."""
    ours = _OURS.label("number")
    query = (
        select(ours, func.max(m.received_at).label("last_at"))
        .where(
            m.organization_id == org_id,
            or_(
                and_(m.direction == "inbound", m.from_number == handset),
                and_(m.direction == "outbound", m.to_number == handset),
            ),
        )
        .group_by(ours)
        .order_by(func.max(m.received_at).desc())
    )
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def thread(conn: AsyncConnection, org_id: str, handset: str, number: str, limit: int) -> list[Row]:
    """The newest `limit` messages between a handset and one of our numbers, oldest first."""
    query = (
        select(messages)
        .where(
            m.organization_id == org_id,
            or_(
                and_(m.from_number == handset, m.to_number == number, m.direction == "inbound"),
                and_(m.from_number == number, m.to_number == handset, m.direction == "outbound"),
            ),
        )
        .order_by(m.received_at.desc(), m.id.desc())
        .limit(limit)
    )
    rows = [dict(r) for r in (await conn.execute(query)).mappings()]
    rows.reverse()
    return rows


async def search(conn: AsyncConnection, org_id: str, needle: str, *, number: bool, limit: int) -> list[Row]:
    """Messages whose text contains `needle`, or (number=True) whose from/to contains it; newest first."""
    if number:
        where = or_(m.from_number.contains(needle, autoescape=True), m.to_number.contains(needle, autoescape=True))
    else:
        where = m.text.icontains(needle, autoescape=True)
    query = (
        select(*_SUMMARY)
        .where(m.organization_id == org_id, where)
        .order_by(m.received_at.desc(), m.id.desc())
        .limit(limit)
    )
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def created_since(conn: AsyncConnection, org_id: str, since: int, limit: int) -> list[Row]:
    """Messages accepted or received at or after `since` (index on organization_id, received_at)."""
    query = (
        select(*_SUMMARY)
        .where(m.organization_id == org_id, m.received_at >= since)
        .order_by(m.received_at)
        .limit(limit)
    )
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def changed_since(conn: AsyncConnection, org_id: str, since: int, limit: int) -> list[Row]:
    """Messages whose status moved at or after `since`, found through the events each move owes
    (message.sent / message.finalized are recorded even without a webhook URL)."""
    e = webhook_events.c
    ids = (
        select(e.message_id)
        .where(
            e.organization_id == org_id,
            e.occurred_at >= since,
            e.message_id.is_not(None),
            e.event_type.in_(("message.sent", "message.finalized")),
        )
        .limit(limit)
    )
    query = select(*_SUMMARY).where(m.id.in_(ids.scalar_subquery()))
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def carrier_parts(conn: AsyncConnection, message_id: str) -> list[Row]:
    """What the carrier link recorded per part (connector, carrier id, status); empty before submission."""
    query = select(message_parts).where(message_parts.c.message_id == message_id).order_by(message_parts.c.part)
    return [dict(r) for r in (await conn.execute(query)).mappings()]

"""Opt-outs (block rules), auto-response configs and short links."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.domain.filters import AutoRespConfigFilter, OptOutFilter
from heliograph.domain.rows import Row
from heliograph.store.filters import time_range
from heliograph.store.tables import autoresp_configs, opt_outs, short_links


async def opted_out(conn: AsyncConnection, profile_id: str, recipients: list[str]) -> set[str]:
    """Which of `recipients` have a block rule on this profile."""
    query = select(opt_outs.c.recipient).where(
        opt_outs.c.messaging_profile_id == profile_id, opt_outs.c.recipient.in_(recipients)
    )
    return {r[0] for r in (await conn.execute(query)).all()}


async def blocked_pairs(conn: AsyncConnection, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (profile id, recipient) pairs have a block rule."""
    if not pairs:
        return set()
    profiles = {p for p, _ in pairs}
    recipients = {r for _, r in pairs}
    query = select(opt_outs.c.messaging_profile_id, opt_outs.c.recipient).where(
        opt_outs.c.messaging_profile_id.in_(profiles), opt_outs.c.recipient.in_(recipients)
    )
    return {(p, r) for p, r in (await conn.execute(query)).all()} & pairs


async def add_opt_out(conn: AsyncConnection, row: Row) -> None:
    await remove_opt_out(conn, row["messaging_profile_id"], row["recipient"])
    await conn.execute(opt_outs.insert(), [row])


async def remove_opt_out(conn: AsyncConnection, profile_id: str, recipient: str) -> None:
    await conn.execute(
        opt_outs.delete().where(opt_outs.c.messaging_profile_id == profile_id, opt_outs.c.recipient == recipient)
    )


def _opt_out_clauses(wanted: OptOutFilter) -> list[ColumnElement[bool]]:
    c = opt_outs.c
    clauses = []
    if wanted.messaging_profile_id is not None:
        clauses.append(c.messaging_profile_id == wanted.messaging_profile_id)
    if wanted.from_number is not None:
        clauses.append(c.from_number == wanted.from_number)
    return clauses + time_range(c.created_at, wanted.created_at)


async def list_opt_outs(
    conn: AsyncConnection, org_id: str, wanted: OptOutFilter, offset: int, limit: int
) -> tuple[list[Row], int]:
    where = [opt_outs.c.organization_id == org_id, *_opt_out_clauses(wanted)]
    total = (await conn.execute(select(func.count()).select_from(opt_outs).where(*where))).scalar_one()
    query = (
        select(opt_outs)
        .where(*where)
        .order_by(opt_outs.c.created_at, opt_outs.c.messaging_profile_id, opt_outs.c.recipient)
        .offset(offset)
        .limit(limit)
    )
    return [dict(r) for r in (await conn.execute(query)).mappings()], total


def _config_clauses(wanted: AutoRespConfigFilter) -> list[ColumnElement[bool]]:
    c = autoresp_configs.c
    clauses = [c.country_code == wanted.country_code] if wanted.country_code is not None else []
    return clauses + time_range(c.created_at, wanted.created_at) + time_range(c.updated_at, wanted.updated_at)


async def configs_of_profile(
    conn: AsyncConnection, profile_id: str, wanted: AutoRespConfigFilter | None = None
) -> list[Row]:
    clauses = _config_clauses(wanted) if wanted is not None else []
    query = select(autoresp_configs).where(autoresp_configs.c.messaging_profile_id == profile_id, *clauses)
    query = query.order_by(autoresp_configs.c.created_at, autoresp_configs.c.id)
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def get_config(conn: AsyncConnection, profile_id: str, config_id: str) -> Row | None:
    query = select(autoresp_configs).where(
        autoresp_configs.c.id == config_id, autoresp_configs.c.messaging_profile_id == profile_id
    )
    row = (await conn.execute(query)).mappings().first()
    return dict(row) if row else None


async def insert_config(conn: AsyncConnection, row: Row) -> None:
    await conn.execute(autoresp_configs.insert(), [row])


async def update_config(conn: AsyncConnection, config_id: str, values: Row) -> None:
    await conn.execute(update(autoresp_configs).where(autoresp_configs.c.id == config_id).values(**values))


async def delete_config(conn: AsyncConnection, config_id: str) -> None:
    await conn.execute(autoresp_configs.delete().where(autoresp_configs.c.id == config_id))


async def delete_profile_rules(conn: AsyncConnection, profile_id: str) -> None:
    await conn.execute(autoresp_configs.delete().where(autoresp_configs.c.messaging_profile_id == profile_id))
    await conn.execute(opt_outs.delete().where(opt_outs.c.messaging_profile_id == profile_id))


async def get_short_link(conn: AsyncConnection, token: str) -> Row | None:
    row = (await conn.execute(select(short_links).where(short_links.c.token == token))).mappings().first()
    return dict(row) if row else None

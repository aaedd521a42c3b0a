"""Organizations, API keys, messaging profiles, phone numbers, short codes and number orders.

Every read takes the organization id: a row of another organization is simply not found.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import ColumnElement, Result, Select, Table, and_, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.domain.filters import NumberOrderFilter
from heliograph.domain.rows import Row
from heliograph.store import driver
from heliograph.store.tables import (
    alphanumeric_sender_ids,
    api_keys,
    messaging_profiles,
    number_orders,
    opt_outs,
    organizations,
    phone_numbers,
    short_codes,
    sticky_senders,
)


def _one(result: Result[Any]) -> Row | None:
    row = result.mappings().first()
    return dict(row) if row is not None else None


async def _insert(conn: AsyncConnection, table: Table, row: Row) -> None:
    await conn.execute(table.insert(), [row])


async def insert_organization(conn: AsyncConnection, row: Row) -> None:
    await _insert(conn, organizations, row)


async def insert_api_key(conn: AsyncConnection, row: Row) -> None:
    await _insert(conn, api_keys, row)


async def insert_profile(conn: AsyncConnection, row: Row) -> None:
    await _insert(conn, messaging_profiles, row)


async def insert_number(conn: AsyncConnection, row: Row) -> None:
    await _insert(conn, phone_numbers, row)


async def insert_short_code(conn: AsyncConnection, row: Row) -> None:
    await _insert(conn, short_codes, row)


async def insert_order(conn: AsyncConnection, row: Row) -> None:
    await _insert(conn, number_orders, row)


async def insert_alpha_sender(conn: AsyncConnection, row: Row) -> bool:
    """Add a sender ID to its profile; False when the profile already has it (nothing is added)."""
    try:
        await _insert(conn, alphanumeric_sender_ids, row)
    except IntegrityError:
        return False
    return True


async def get_organization(conn: AsyncConnection, org_id: str) -> Row | None:
    return _one(await conn.execute(select(organizations).where(organizations.c.id == org_id)))


async def signing_seeds(conn: AsyncConnection, org_ids: set[str]) -> dict[str, str]:
    """Organization id -> its signing seed as stored (maybe sealed)."""
    if not org_ids:
        return {}
    query = select(organizations.c.id, organizations.c.signing_seed).where(organizations.c.id.in_(org_ids))
    return {org_id: seed for org_id, seed in (await conn.execute(query)).all()}


async def signing_seeds_of_all(conn: AsyncConnection) -> list[tuple[str, str]]:
    """(organization id, signing seed as stored) for every organization."""
    query = select(organizations.c.id, organizations.c.signing_seed)
    return [(org_id, seed) for org_id, seed in (await conn.execute(query)).all()]


async def replace_signing_seed(conn: AsyncConnection, org_id: str, old: str, new: str) -> int:
    """Store `new` if the organization's seed is still `old` (compare and set); 1 if it was, else 0."""
    statement = (
        update(organizations)
        .where(organizations.c.id == org_id, organizations.c.signing_seed == old)
        .values(signing_seed=new)
    )
    return (await conn.execute(statement)).rowcount


async def sandbox_organization(conn: AsyncConnection) -> Row | None:
    """The organization `heliograph serve` bootstrapped (the oldest sandbox one)."""
    query = select(organizations).where(organizations.c.is_sandbox.is_(True)).order_by(organizations.c.created_at)
    return _one(await conn.execute(query.limit(1)))


async def organization_for_key(conn: AsyncConnection, key_hash: str) -> tuple[Row, Row] | None:
    """(organization, key) for a live key hash; None for unknown keys."""
    query = (
        select(api_keys, organizations.c.messaging_enabled)
        .join(organizations, organizations.c.id == api_keys.c.organization_id)
        .where(api_keys.c.key_hash == key_hash)
    )
    row = _one(await conn.execute(query))
    if row is None:
        return None
    return row, {"id": row["organization_id"], "messaging_enabled": row["messaging_enabled"]}


async def keys_revoked_since(conn: AsyncConnection, since: int) -> list[str]:
    """Hashes of keys revoked at or after `since` (caches evict them)."""
    query = select(api_keys.c.key_hash).where(api_keys.c.revoked_at >= since)
    return list((await conn.execute(query)).scalars())


async def touch_keys(conn: AsyncConnection, used: dict[str, int]) -> None:
    """Record when keys were last used (never moving a time back)."""
    statement = (
        update(api_keys)
        .where(
            api_keys.c.key_hash == bindparam("h"),
            (api_keys.c.last_used_at.is_(None)) | (api_keys.c.last_used_at < bindparam("t")),
        )
        .values(last_used_at=bindparam("t"))
    )
    await conn.execute(statement, [{"h": h, "t": t} for h, t in used.items()])


async def list_keys(conn: AsyncConnection, org_id: str | None = None) -> list[Row]:
    """API keys (never their hashes' full value), oldest first."""
    columns = [
        api_keys.c[name] for name in ("id", "organization_id", "prefix", "created_at", "last_used_at", "revoked_at")
    ]
    query = select(*columns).order_by(api_keys.c.created_at, api_keys.c.id)
    if org_id is not None:
        query = query.where(api_keys.c.organization_id == org_id)
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def find_keys(conn: AsyncConnection, *, key_id: str, prefix: str, key_hash: str) -> list[Row]:
    """Keys matching an id, a listed prefix or a whole key's hash."""
    query = select(api_keys).where(
        (api_keys.c.id == key_id) | (api_keys.c.prefix == prefix) | (api_keys.c.key_hash == key_hash)
    )
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def revoke_key(conn: AsyncConnection, key_id: str, now: int) -> None:
    await conn.execute(
        update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None)).values(revoked_at=now)
    )


async def key_with_organization(conn: AsyncConnection, key_id: str) -> tuple[Row, Row] | None:
    """(key, organization) for an API key's row id (console sessions name the key they were opened with)."""
    key = _one(await conn.execute(select(api_keys).where(api_keys.c.id == key_id)))
    if key is None:
        return None
    org = await get_organization(conn, key["organization_id"])
    return (key, org) if org is not None else None


# --- messaging profiles ---------------------------------------------------------------------------


async def get_profile(conn: AsyncConnection, org_id: str, profile_id: str) -> Row | None:
    query = select(messaging_profiles).where(
        messaging_profiles.c.id == profile_id, messaging_profiles.c.organization_id == org_id
    )
    return _one(await conn.execute(query))


async def first_profile(conn: AsyncConnection, org_id: str) -> Row | None:
    """The organization's oldest messaging profile."""
    query = (
        select(messaging_profiles)
        .where(messaging_profiles.c.organization_id == org_id)
        .order_by(messaging_profiles.c.created_at)
        .limit(1)
    )
    return _one(await conn.execute(query))


async def list_profiles(
    conn: AsyncConnection,
    org_id: str,
    *,
    name_eq: str | None,
    name_contains: str | None,
    offset: int,
    limit: int,
) -> tuple[list[Row], int]:
    where = [messaging_profiles.c.organization_id == org_id]
    if name_eq is not None:
        where.append(messaging_profiles.c.name == name_eq)
    if name_contains is not None:
        where.append(func.lower(messaging_profiles.c.name).contains(name_contains.lower(), autoescape=True))
    total = (await conn.execute(select(func.count()).select_from(messaging_profiles).where(*where))).scalar_one()
    query = (
        select(messaging_profiles)
        .where(*where)
        .order_by(
            messaging_profiles.c.created_at, messaging_profiles.c.id
        )  # oldest first: new rows land on the last page
        .offset(offset)
        .limit(limit)
    )
    return [dict(r) for r in (await conn.execute(query)).mappings()], total


async def update_profile(conn: AsyncConnection, profile_id: str, values: Row) -> None:
    await conn.execute(update(messaging_profiles).where(messaging_profiles.c.id == profile_id).values(**values))


async def delete_profile(conn: AsyncConnection, org_id: str, profile_id: str, now: int) -> None:
    """Delete a profile; its numbers and short codes stay, unassigned (spec §11 item 11)."""
    for table in (phone_numbers, short_codes):
        await conn.execute(
            update(table)
            .where(table.c.organization_id == org_id, table.c.messaging_profile_id == profile_id)
            .values(messaging_profile_id=None, updated_at=now)
        )
    await conn.execute(
        alphanumeric_sender_ids.delete().where(alphanumeric_sender_ids.c.messaging_profile_id == profile_id)
    )
    await conn.execute(messaging_profiles.delete().where(messaging_profiles.c.id == profile_id))


# --- phone numbers ----------------------------------------------------------------------------------


async def number_by_e164(conn: AsyncConnection, e164: str) -> Row | None:
    """A number whoever owns it (ownership is checked by the caller)."""
    return _one(await conn.execute(select(phone_numbers).where(phone_numbers.c.phone_number == e164)))


def _sender_query() -> Select[Any]:
    p = messaging_profiles.alias("p")
    blocked = (
        select(opt_outs.c.recipient)
        .where(opt_outs.c.messaging_profile_id == phone_numbers.c.messaging_profile_id)
        .where(opt_outs.c.recipient == bindparam("to"))
        .exists()
    )
    return (
        select(phone_numbers, blocked.label("p__opted_out"), *[c.label(f"p__{c.name}") for c in p.c])
        .outerjoin(p, p.c.id == phone_numbers.c.messaging_profile_id)
        .where(
            phone_numbers.c.phone_number == bindparam("e164"),
            phone_numbers.c.organization_id == bindparam("org"),
        )
    )


# built once: constructing the aliased select on every send cost more than running it
_SENDER_QUERY = _sender_query()


_SENDER_DRIVER_QUERY = driver.DriverQuery(_SENDER_QUERY)
_SENDER_PG_QUERY = driver.PgQuery(_SENDER_QUERY)


async def sender_with_profile(
    conn: AsyncConnection, org_id: str, e164: str, to: str = ""
) -> tuple[Row, Row | None] | None:
    """The caller's number and the profile it is assigned to, in one query (the send hot path).
    The profile row carries `opted_out`: whether `to` opted out of that profile."""
    return _split_sender(_one(await conn.execute(_SENDER_QUERY, {"e164": e164, "org": org_id, "to": to})))


def sender_with_profile_now(
    connection: sqlite3.Connection, org_id: str, e164: str, to: str = ""
) -> tuple[Row, Row | None] | None:
    """sender_with_profile on SQLite's driver connection (store/driver.py)."""
    return _split_sender(_SENDER_DRIVER_QUERY.first(connection, {"e164": e164, "org": org_id, "to": to}))


async def sender_with_profile_pg(pool: Any, org_id: str, e164: str, to: str = "") -> tuple[Row, Row | None] | None:
    """sender_with_profile on PostgreSQL's fast pool (store/driver.py): one round trip."""
    return _split_sender(await _SENDER_PG_QUERY.first(pool, {"e164": e164, "org": org_id, "to": to}))


_NUMBER_KEYS = tuple(c.name for c in _SENDER_QUERY.selected_columns if not c.name.startswith("p__"))
_PROFILE_KEYS = tuple((c.name[3:], c.name) for c in _SENDER_QUERY.selected_columns if c.name.startswith("p__"))


def _split_sender(row: Row | None) -> tuple[Row, Row | None] | None:
    """The joined row as (number, profile); the key lists are worked out once (this runs on every send)."""
    if row is None:
        return None
    number = {k: row[k] for k in _NUMBER_KEYS}
    if row["p__id"] is None:
        return number, None
    return number, {k: row[full] for k, full in _PROFILE_KEYS}


async def get_number(conn: AsyncConnection, org_id: str, id_or_e164: str) -> Row | None:
    column = phone_numbers.c.phone_number if id_or_e164.startswith("+") else phone_numbers.c.id
    query = select(phone_numbers).where(column == id_or_e164, phone_numbers.c.organization_id == org_id)
    return _one(await conn.execute(query))


async def list_numbers(
    conn: AsyncConnection,
    org_id: str,
    *,
    profile_id: str | None = None,
    phone_numbers_in: list[str] | None = None,
    contains: str | None = None,
    number_type: str | None = None,
    hosted: bool | None = None,
    sort_desc: bool | None = None,
    offset: int,
    limit: int,
) -> tuple[list[Row], int]:
    where = [phone_numbers.c.organization_id == org_id]
    if profile_id is not None:
        where.append(phone_numbers.c.messaging_profile_id == profile_id)
    if phone_numbers_in:
        where.append(phone_numbers.c.phone_number.in_(phone_numbers_in))
    if contains:
        where.append(phone_numbers.c.phone_number.contains(contains, autoescape=True))
    if number_type is not None:
        where.append(phone_numbers.c.type == number_type)
    if hosted is not None:
        where.append(phone_numbers.c.hosted.is_(hosted))
    total = (await conn.execute(select(func.count()).select_from(phone_numbers).where(*where))).scalar_one()
    if sort_desc is None:
        order = [phone_numbers.c.created_at, phone_numbers.c.id]
    else:
        col = phone_numbers.c.phone_number
        order = [col.desc() if sort_desc else col.asc()]  # type: ignore[list-item]  # both branches order by columns
    query = select(phone_numbers).where(*where).order_by(*order).offset(offset).limit(limit)
    return [dict(r) for r in (await conn.execute(query)).mappings()], total


async def update_number(conn: AsyncConnection, number_id: str, values: Row) -> None:
    await conn.execute(update(phone_numbers).where(phone_numbers.c.id == number_id).values(**values))


async def delete_number(conn: AsyncConnection, number_id: str) -> None:
    await conn.execute(phone_numbers.delete().where(phone_numbers.c.id == number_id))


async def numbers_of_profile(conn: AsyncConnection, profile_id: str) -> list[Row]:
    query = select(phone_numbers).where(phone_numbers.c.messaging_profile_id == profile_id)
    return [dict(r) for r in (await conn.execute(query.order_by(phone_numbers.c.created_at))).mappings()]


# --- short codes ------------------------------------------------------------------------------------


async def short_code_by_code(conn: AsyncConnection, code: str) -> Row | None:
    return _one(await conn.execute(select(short_codes).where(short_codes.c.short_code == code)))


async def get_short_code(conn: AsyncConnection, org_id: str, short_code_id: str) -> Row | None:
    query = select(short_codes).where(short_codes.c.id == short_code_id, short_codes.c.organization_id == org_id)
    return _one(await conn.execute(query))


async def list_short_codes(
    conn: AsyncConnection, org_id: str, *, profile_id: str | None, unassigned: bool, offset: int, limit: int
) -> tuple[list[Row], int]:
    where = [short_codes.c.organization_id == org_id]
    if unassigned:
        where.append(short_codes.c.messaging_profile_id.is_(None))
    elif profile_id is not None:
        where.append(short_codes.c.messaging_profile_id == profile_id)
    total = (await conn.execute(select(func.count()).select_from(short_codes).where(*where))).scalar_one()
    query = (
        select(short_codes)
        .where(*where)
        .order_by(short_codes.c.created_at, short_codes.c.id)
        .offset(offset)
        .limit(limit)
    )
    return [dict(r) for r in (await conn.execute(query)).mappings()], total


async def update_short_code(conn: AsyncConnection, short_code_id: str, values: Row) -> None:
    await conn.execute(update(short_codes).where(short_codes.c.id == short_code_id).values(**values))


# --- number orders ----------------------------------------------------------------------------------


async def get_order(conn: AsyncConnection, org_id: str, order_id: str) -> Row | None:
    query = select(number_orders).where(and_(number_orders.c.id == order_id, number_orders.c.organization_id == org_id))
    return _one(await conn.execute(query))


def _order_clauses(wanted: NumberOrderFilter) -> list[ColumnElement[bool]]:
    c = number_orders.c
    clauses = []
    if wanted.status is not None:
        clauses.append(c.status == wanted.status)
    if wanted.customer_reference is not None:
        clauses.append(c.customer_reference == wanted.customer_reference)
    if wanted.created_after is not None:
        clauses.append(c.created_at > wanted.created_after)
    if wanted.created_before is not None:
        clauses.append(c.created_at < wanted.created_before)
    if wanted.phone_numbers_count is not None:
        # filtered in SQL, so the page and its meta count only matching orders
        # (json_array_length exists in SQLite and PostgreSQL alike)
        clauses.append(func.json_array_length(c.phone_numbers) == wanted.phone_numbers_count)
    return clauses


async def list_orders(
    conn: AsyncConnection, org_id: str, wanted: NumberOrderFilter, *, offset: int, limit: int
) -> tuple[list[Row], int]:
    where = [number_orders.c.organization_id == org_id, *_order_clauses(wanted)]
    total = (await conn.execute(select(func.count()).select_from(number_orders).where(*where))).scalar_one()
    query = (
        select(number_orders)
        .where(*where)
        .order_by(number_orders.c.created_at, number_orders.c.id)
        .offset(offset)
        .limit(limit)
    )
    return [dict(r) for r in (await conn.execute(query)).mappings()], total


async def update_order(conn: AsyncConnection, order_id: str, values: Row) -> None:
    await conn.execute(update(number_orders).where(number_orders.c.id == order_id).values(**values))


async def profiles_by_ids(conn: AsyncConnection, ids: set[str]) -> dict[str, Row]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    if conn.dialect.name == "sqlite":
        found = _PROFILES_BY_IDS.all(await driver.sqlite_connection(conn), {"ids": driver.json_list(ids)})
        return {r["id"]: r for r in found}
    rows = (await conn.execute(select(messaging_profiles).where(messaging_profiles.c.id.in_(ids)))).mappings()
    return {r["id"]: dict(r) for r in rows}


# the worker reads the profiles of every batch it settles (webhook URLs)
_PROFILES_BY_IDS = driver.DriverQuery(select(messaging_profiles).where(driver.in_list(messaging_profiles.c.id, "ids")))


# --- alphanumeric sender IDs ------------------------------------------------------------------------


async def alpha_senders_of_profile(conn: AsyncConnection, profile_id: str) -> list[Row]:
    query = select(alphanumeric_sender_ids).where(alphanumeric_sender_ids.c.messaging_profile_id == profile_id)
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def get_alpha_sender(conn: AsyncConnection, org_id: str, sender_id: str) -> Row | None:
    t = alphanumeric_sender_ids
    return _one(await conn.execute(select(t).where(t.c.id == sender_id, t.c.organization_id == org_id)))


async def list_alpha_senders(
    conn: AsyncConnection, org_id: str, *, profile_id: str | None, offset: int, limit: int
) -> tuple[list[Row], int]:
    t = alphanumeric_sender_ids
    where = [t.c.organization_id == org_id]
    if profile_id is not None:
        where.append(t.c.messaging_profile_id == profile_id)
    total = (await conn.execute(select(func.count()).select_from(t).where(*where))).scalar_one()
    query = select(t).where(*where).order_by(t.c.created_at, t.c.id).offset(offset).limit(limit)
    return [dict(r) for r in (await conn.execute(query)).mappings()], total


async def delete_alpha_sender(conn: AsyncConnection, sender_id: str) -> None:
    await conn.execute(alphanumeric_sender_ids.delete().where(alphanumeric_sender_ids.c.id == sender_id))


# --- sticky senders ---------------------------------------------------------------------------------


async def sticky_sender(conn: AsyncConnection, profile_id: str, recipient: str, not_before: int) -> str | None:
    t = sticky_senders
    query = select(t.c.phone_number).where(
        t.c.messaging_profile_id == profile_id, t.c.recipient == recipient, t.c.last_used_at >= not_before
    )
    return (await conn.execute(query)).scalar()


async def remember_sticky_sender(conn: AsyncConnection, profile_id: str, recipient: str, number: str, now: int) -> None:
    """Upsert the (profile, recipient) → number mapping."""
    t = sticky_senders
    await conn.execute(t.delete().where(t.c.messaging_profile_id == profile_id, t.c.recipient == recipient))
    await conn.execute(
        t.insert(),
        [
            {
                "messaging_profile_id": profile_id,
                "recipient": recipient,
                "phone_number": number,
                "last_used_at": now,
            }
        ],
    )


async def forget_sticky_senders(
    conn: AsyncConnection, *, profile_id: str | None = None, number: str | None = None
) -> None:
    t = sticky_senders
    if profile_id is not None:
        await conn.execute(t.delete().where(t.c.messaging_profile_id == profile_id))
    if number is not None:
        await conn.execute(t.delete().where(t.c.phone_number == number))


async def number_counts(conn: AsyncConnection, profile_ids: list[str]) -> dict[str, int]:
    """Phone numbers currently assigned, per profile."""
    if not profile_ids:
        return {}
    query = (
        select(phone_numbers.c.messaging_profile_id, func.count())
        .where(phone_numbers.c.messaging_profile_id.in_(profile_ids))
        .group_by(phone_numbers.c.messaging_profile_id)
    )
    return {p: n for p, n in (await conn.execute(query)).all()}


async def platform_addresses(conn: AsyncConnection, addresses: set[str]) -> set[str]:
    """Which of these numbers and short codes belong to some organization on this platform."""
    if not addresses:
        return set()
    numbers = select(phone_numbers.c.phone_number).where(phone_numbers.c.phone_number.in_(addresses))
    codes = select(short_codes.c.short_code).where(short_codes.c.short_code.in_(addresses))
    found = {r[0] for r in (await conn.execute(numbers)).all()}
    if any(not a.startswith("+") for a in addresses):
        found |= {r[0] for r in (await conn.execute(codes)).all()}
    return found

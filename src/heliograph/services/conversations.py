"""Conversations: the sandbox's virtual handsets and what each said to the organization's numbers.

What the console shows; read-only (replies go through services.inbound, sends through services.sending).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from heliograph.domain import phone
from heliograph.domain.rows import Row
from heliograph.services.context import Context
from heliograph.store import accounts
from heliograph.store import compliance as compliance_store
from heliograph.store import conversations as store

LIST_LIMIT = 100
THREAD_LIMIT = 200


async def latest(ctx: Context, org_id: str, limit: int = LIST_LIMIT) -> list[Row]:
    """Handsets, newest activity first, each with its last message (summary columns only)."""
    async with ctx.db.read() as conn:
        return await store.latest_conversations(conn, org_id, limit)


@dataclass
class Thread:
    handset: str
    number: str | None  # the organization's number this thread is with (None: the handset talked to none)
    numbers: list[str]  # every number of ours the handset talked with, newest activity first
    messages: list[Row] = field(default_factory=list)  # whole rows, oldest first
    opted_out: bool = False  # the handset sent STOP to this number's messaging profile


async def thread(ctx: Context, org_id: str, handset: str, number: str | None = None) -> Thread:
    """One handset with one of our numbers (the most recent one unless `number` is given)."""
    async with ctx.db.read() as conn:
        numbers = [r["number"] for r in await store.numbers_of_handset(conn, org_id, handset)]
        if number is None or number not in numbers:
            owned = number is not None and await accounts.get_number(conn, org_id, number) is not None
            if not owned:
                number = numbers[0] if numbers else None
            elif number not in numbers:
                numbers.append(number)
        if number is None:  # a handset that never wrote: let it start with the organization's first number
            first, _ = await accounts.list_numbers(conn, org_id, offset=0, limit=1)
            number = first[0]["phone_number"] if first else None
            numbers = [number] if number else []
        result = Thread(handset, number, numbers)
        if number is None:
            return result
        result.messages = await store.thread(conn, org_id, handset, number, THREAD_LIMIT)
        row = await accounts.get_number(conn, org_id, number)
        profile_id = row["messaging_profile_id"] if row else None
        if profile_id:
            result.opted_out = bool(await compliance_store.opted_out(conn, profile_id, [handset]))
    return result


async def search(ctx: Context, org_id: str, query: str, limit: int = 100) -> list[Row]:
    """Messages whose text contains `query`, or whose number does when `query` looks like a number."""
    query = query.strip()
    if not query:
        return []
    digits = query.replace(" ", "").replace("-", "")
    as_number = digits.lstrip("+").isdigit()
    async with ctx.db.read() as conn:
        return await store.search(conn, org_id, digits if as_number else query, number=as_number, limit=limit)


def is_handset(value: str) -> bool:
    return phone.is_e164(value) or phone.is_short_code(value)

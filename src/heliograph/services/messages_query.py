"""Reading a message back, and cancelling a scheduled one."""

from __future__ import annotations

from typing import Any

from heliograph.domain.errors import MessageNotFound, NotCancellable, NotFound
from heliograph.services import telemetry, views
from heliograph.services.context import Context
from heliograph.store import carriers as carrier_store
from heliograph.store import messages as store

RETENTION_DAYS = 10
CANCEL_MARGIN_SECONDS = 60


def _not_found(message_id: str) -> NotFound:
    return MessageNotFound(f"The message with ID {message_id} was not found.")


async def retrieve(ctx: Context, org_id: str, message_id: str) -> dict[str, Any]:
    async with ctx.db.read() as conn:
        row = await store.get_message(conn, org_id, message_id)
        parts = await carrier_store.parts_of(conn, [message_id]) if row is not None and row["connector"] else []
    if row is None or row["received_at"] < ctx.now() - RETENTION_DAYS * 86400 * 1_000_000:
        raise _not_found(message_id)
    return {**views.message(row), "heliograph": carrier_view(row, parts)}


def carrier_view(row: dict[str, Any], parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Heliograph's own field on a retrieved message: which connector carried it, under which carrier ids
    (one per part; SDK models allow extra fields, spec README §8)."""
    ids = [p["carrier_message_id"] for p in parts] or ([row["carrier_message_id"]] if row["carrier_message_id"] else [])
    return {"connector": row["connector"], "carrier_message_ids": ids}


async def cancel(ctx: Context, org_id: str, message_id: str) -> dict[str, Any]:
    """Cancel a message still scheduled more than a minute ahead; anything else is refused (403)."""
    async with ctx.db.transaction() as conn:
        row = await store.get_message(conn, org_id, message_id)
        if row is None:
            raise _not_found(message_id)
        if row["status"] != "scheduled":
            raise NotCancellable(
                f"Only scheduled messages can be cancelled; this one is {row['status']}.",
            )
        if row["send_at"] - ctx.now() <= CANCEL_MARGIN_SECONDS * 1_000_000:
            raise NotCancellable(
                "A scheduled message can be cancelled only until 60 seconds before its send_at.",
            )
        change = {"id": row["id"], "status": "cancelled", "due_at": None, "lease_until": None}
        await store.update_many(conn, [change])
        row.update(change)
    telemetry.record_cancelled()
    return views.message(row)


async def group(ctx: Context, org_id: str, group_id: str) -> list[dict[str, Any]]:
    """The per-recipient messages of a group MMS, oldest first."""
    async with ctx.db.read() as conn:
        rows = await store.group_messages(conn, org_id, group_id)
    if not rows:
        raise _not_found(group_id)
    return [views.message(r) for r in rows]

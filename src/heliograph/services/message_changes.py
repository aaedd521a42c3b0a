"""What changed in an organization's messages since a moment: new ones and status moves.

Read from the database, so it sees the work of every process (the sandbox's workers run in a child
process, the gateway's anywhere); the console's live feed polls it.
"""

from __future__ import annotations

from heliograph.domain.rows import Row
from heliograph.services.context import Context
from heliograph.store import conversations as store


async def since(ctx: Context, org_id: str, moment: int, limit: int = 500) -> list[Row]:
    """Messages created, or whose status moved, at or after `moment` (epoch µs); summary columns plus
    `new` (True for creations)."""
    async with ctx.db.read() as conn:
        created = await store.created_since(conn, org_id, moment, limit)
        moved = await store.changed_since(conn, org_id, moment, limit)
    out: dict[str, Row] = {}
    for row in created:
        out[row["id"]] = {**row, "new": True}
    for row in moved:
        out.setdefault(row["id"], {**row, "new": False})
    return list(out.values())

"""Messaging profile metrics (spec metrics.md), read from rollups kept by the state changes themselves.

Counting: `sent` by the time a recipient reached sent; `delivered` and failures by the time they became
final; `received` by arrival; error ratio = failed ÷ attempted (attempted = reached sent, or failed
before it could); spend = cost of what was sent. Buckets are 5 minutes wide; a window covers the
buckets that start inside it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from heliograph.domain import phone
from heliograph.domain.errors import NotFound
from heliograph.domain.pricing import money
from heliograph.domain.times import iso
from heliograph.services.context import Context
from heliograph.store import accounts
from heliograph.store import metrics as store

Row = dict[str, Any]
BUCKET_US = 5 * 60 * 1_000_000
MINUTE = 60 * 1_000_000
TIME_FRAMES = {"1h": 60, "3h": 180, "24h": 1440, "3d": 3 * 1440, "7d": 7 * 1440, "30d": 30 * 1440}  # minutes
DETAIL_WIDTH = {"1h": 5, "3h": 15, "24h": 60, "3d": 360, "7d": 1440, "30d": 1440}  # minutes
FAILED = {"sending_failed", "delivery_failed", "expired"}


def bucket_of(us: int) -> int:
    return us - us % BUCKET_US


def label_of(sender: str) -> str:
    if phone.is_e164(sender):
        return phone.number_kind(sender)
    if phone.is_short_code(sender):
        return "shortcode"
    return "alphanumeric"


def _micros(row: Row) -> int:
    if row.get("cost_rate") is None:
        return 0
    return int((Decimal(row["cost_rate"]) + Decimal(row["cost_carrier_fee"])) * 1_000_000)


def outbound_increments(before: Row, after: Row) -> tuple[list[Row], list[Row]]:
    """Counter changes for one outbound message moving from `before` to `after` (and its error codes)."""
    profile = after["messaging_profile_id"]
    if not profile:
        return [], []
    label = label_of(after["from_number"])
    status = after["status"]
    incs: list[Row] = []
    errs: list[Row] = []
    if status == "sent":
        incs.append(
            {"bucket": bucket_of(after["sent_at"]), "sent": 1, "attempted": 1, "spend_micros": _micros(after)}
        )
    elif status in FAILED or status in ("delivered", "delivery_unconfirmed"):
        at = bucket_of(after["completed_at"])
        inc: Row = {"bucket": at}
        if status == "delivered":
            inc["delivered"] = 1
        if status in FAILED:
            inc["failed"] = 1
            if before["status"] != "sent":  # failed before it could be sent: still an attempt
                inc["attempted"] = 1
        incs.append(inc)
        errs = [{"bucket": at, "code": e["code"]} for e in after.get("errors") or []]
    for inc in incs:
        inc.update(messaging_profile_id=profile, label=label)
    for err in errs:
        err["messaging_profile_id"] = profile
    return incs, errs


def inbound_increment(row: Row) -> Row | None:
    if not row["messaging_profile_id"]:
        return None
    return {
        "messaging_profile_id": row["messaging_profile_id"],
        "bucket": bucket_of(row["received_at"]),
        "label": label_of(row["to_number"]),
        "received": 1,
    }


async def record(conn, pairs: list[tuple[Row, Row]], inbound_rows: list[Row] = ()) -> None:  # noqa: ANN001
    """Write the rollup changes of these transitions on the caller's transaction."""
    incs, errs = [], []
    for before, after in pairs:
        i, e = outbound_increments(before, after)
        incs += i
        errs += e
    incs += [inc for inc in (inbound_increment(r) for r in inbound_rows) if inc]
    await store.add(conn, incs)
    await store.add_errors(conn, errs)


def _ratio(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else 0.0


def _overview(profile_id: str, numbers: int, sums: Row | None, errors: dict[str, int] | None = None) -> Row:
    sums = sums or dict.fromkeys(store.COUNTERS, 0)
    attempted, failed = int(sums["attempted"] or 0), int(sums["failed"] or 0)
    sent, delivered = int(sums["sent"] or 0), int(sums["delivered"] or 0)
    error_ratio = _ratio(failed, attempted)
    overview = {
        "record_type": "messaging_profile_metrics",
        "messaging_profile_id": profile_id,
        "phone_numbers": numbers,
        "outbound": {
            "sent": sent,
            "delivered": delivered,
            "failed": failed,
            "error_ratio": error_ratio,
            "errors": error_ratio,
            "delivery_rate": _ratio(delivered, sent),
        },
        "inbound": {"received": int(sums["received"] or 0)},
        "spend": {"amount": money(Decimal(int(sums["spend_micros"] or 0)) / 1_000_000), "currency": "USD"},
    }
    if errors is not None:
        overview["outbound"]["error_breakdown"] = [{"code": c, "count": n} for c, n in sorted(errors.items())]
    return overview


async def high_level(
    ctx: Context, org_id: str, time_frame: str, profile_id: str | None, offset: int, limit: int
) -> tuple[list[Row], int]:
    since = ctx.now() - TIME_FRAMES[time_frame] * MINUTE
    async with ctx.db.read() as conn:
        profiles, total = await accounts.list_profiles(
            conn, org_id, name_eq=None, name_contains=None, offset=0, limit=10**6
        )
        if profile_id is not None:
            profiles = [p for p in profiles if p["id"] == profile_id]
            total = len(profiles)
        profiles = profiles[offset : offset + limit]
        ids = [p["id"] for p in profiles]
        sums = await store.totals(conn, ids, since)
        counts = await accounts.number_counts(conn, ids)
    return [_overview(p["id"], counts.get(p["id"], 0), sums.get(p["id"])) for p in profiles], total


async def detailed(ctx: Context, org_id: str, profile_id: str, time_frame: str) -> Row:
    now = ctx.now()
    since = bucket_of(now - TIME_FRAMES[time_frame] * MINUTE)
    width = DETAIL_WIDTH[time_frame] * MINUTE
    async with ctx.db.read() as conn:
        if await accounts.get_profile(conn, org_id, profile_id) is None:
            raise NotFound(f"Messaging profile {profile_id} was not found.")
        sums = (await store.totals(conn, [profile_id], since)).get(profile_id)
        errors = await store.errors(conn, profile_id, since)
        rows = await store.series(conn, profile_id, since, width)
        counts = await accounts.number_counts(conn, [profile_id])
    buckets: dict[int, list[Row]] = {}
    for r in rows:
        sent, attempted, failed = int(r["sent"] or 0), int(r["attempted"] or 0), int(r["failed"] or 0)
        ratio = _ratio(failed, attempted)
        buckets.setdefault(int(r["start"]), []).append(
            {
                "label": r["label"],
                "sent": sent,
                "delivered": int(r["delivered"] or 0),
                "outbound_error_ratio": ratio,
                "errors": ratio,
                "received": int(r["received"] or 0),
            }
        )
    detailed_rows = [
        {"timestamp": iso(start), "metrics": metrics} for start, metrics in sorted(buckets.items())
    ]
    return {
        "overview": _overview(profile_id, counts.get(profile_id, 0), sums, errors),
        "detailed": detailed_rows,
    }

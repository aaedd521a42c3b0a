"""Messaging profile metrics (spec metrics.md), read from rollups kept by the state changes themselves.

Counting: `sent` by the time a recipient reached sent; `delivered` and failures by the time they became
final; `received` by arrival; error ratio = failed ÷ attempted (attempted = reached sent, or failed
before it could); spend = cost of what was sent. A window starts at the 5-minute boundary at or before
`now - time_frame` and ends with the current 5-minute bucket; both endpoints use the same window.
Detailed time buckets are aligned to UTC (5 min, 15 min, 1 h, 6 h, 1 day).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from heliograph.domain import phone, rollups
from heliograph.domain.errors import NotFound
from heliograph.domain.pricing import money
from heliograph.domain.rows import Row
from heliograph.domain.times import iso
from heliograph.services import telemetry
from heliograph.services.context import Context
from heliograph.store import accounts
from heliograph.store import metrics as store

MINUTE = 60 * 1_000_000
TIME_FRAMES = {"1h": 60, "3h": 180, "24h": 1440, "3d": 3 * 1440, "7d": 7 * 1440, "30d": 30 * 1440}  # minutes
DETAIL_WIDTH = {"1h": 5, "3h": 15, "24h": 60, "3d": 360, "7d": 1440, "30d": 1440}  # minutes
FAILED = {"sending_failed", "delivery_failed", "expired"}


def window(now: int, time_frame: str) -> tuple[int, int]:
    start = rollups.floor_to(now - TIME_FRAMES[time_frame] * MINUTE, rollups.FIVE_MINUTES)
    end = rollups.floor_to(now, rollups.FIVE_MINUTES) + rollups.FIVE_MINUTES * 1_000_000
    return start, end


def _series_width(detail_minutes: int) -> int:
    """The widest rollup that fits a detail bucket a whole number of times."""
    return max(w for w in rollups.WIDTHS if (detail_minutes * 60) % w == 0)


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
        incs.append({"at": after["sent_at"], "sent": 1, "attempted": 1, "spend_micros": _micros(after)})
    elif status in FAILED or status in ("delivered", "delivery_unconfirmed"):
        at = after["completed_at"]
        inc: Row = {"at": at}
        if status == "delivered":
            inc["delivered"] = 1
        if status in FAILED:
            inc["failed"] = 1
            if before["status"] != "sent":  # failed before it could be sent: still an attempt
                inc["attempted"] = 1
        incs.append(inc)
        errs = [{"at": at, "code": e["code"]} for e in after.get("errors") or []]
    incs = [inc for inc in incs if len(inc) > 1]  # delivery_unconfirmed changes no counter
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
        "at": row["received_at"],
        "label": label_of(row["to_number"]),
        "received": 1,
    }


async def record(conn, pairs: list[tuple[Row, Row]], inbound_rows: Sequence[Row] = ()) -> None:
    """Write the rollup changes of these transitions on the caller's transaction."""
    incs, errs = [], []
    for before, after in pairs:
        i, e = outbound_increments(before, after)
        incs += i
        errs += e
    incs += [inc for inc in (inbound_increment(r) for r in inbound_rows) if inc]
    await store.add(conn, incs)
    await store.add_errors(conn, errs)
    telemetry.record_transitions(pairs, inbound_rows)  # Prometheus counters, same batch


def _ratio(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else 0.0


def _overview(profile_id: str, numbers: int, sums: Row | None, errors: dict[str, int] | None = None) -> Row:
    sums = sums or dict.fromkeys(store.COUNTERS, 0)
    attempted, failed = int(sums["attempted"] or 0), int(sums["failed"] or 0)
    sent, delivered = int(sums["sent"] or 0), int(sums["delivered"] or 0)
    error_ratio = _ratio(failed, attempted)
    overview: dict[str, Any] = {
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
    segments = rollups.segments(*window(ctx.now(), time_frame))
    async with ctx.db.read() as conn:
        if profile_id is not None:
            profile = await accounts.get_profile(conn, org_id, profile_id)
            profiles, total = ([profile] if profile else []), (1 if profile else 0)
            profiles = profiles[offset : offset + limit]
        else:
            profiles, total = await accounts.list_profiles(
                conn, org_id, name_eq=None, name_contains=None, offset=offset, limit=limit
            )
        ids = [p["id"] for p in profiles]
        sums = await store.totals(conn, ids, segments)
        counts = await accounts.number_counts(conn, ids)
    return [_overview(p["id"], counts.get(p["id"], 0), sums.get(p["id"])) for p in profiles], total


async def detailed(ctx: Context, org_id: str, profile_id: str, time_frame: str) -> Row:
    lo, hi = window(ctx.now(), time_frame)
    detail_minutes = DETAIL_WIDTH[time_frame]
    segments = rollups.segments(lo, hi)
    series_segments = rollups.segments(lo, hi, _series_width(detail_minutes))
    async with ctx.db.read() as conn:
        if await accounts.get_profile(conn, org_id, profile_id) is None:
            raise NotFound(f"Messaging profile {profile_id} was not found.")
        sums = (await store.totals(conn, [profile_id], segments)).get(profile_id)
        errors = await store.errors(conn, profile_id, segments)
        rows = await store.rows(conn, profile_id, series_segments)
        counts = await accounts.number_counts(conn, [profile_id])
    buckets: dict[tuple[int, str], Row] = {}
    for r in rows:
        key = (rollups.floor_to(r["bucket"], detail_minutes * 60), r["label"])
        slot = buckets.setdefault(key, dict.fromkeys(store.COUNTERS, 0))
        for counter in store.COUNTERS:
            slot[counter] += r[counter]
    series: dict[int, list[Row]] = {}
    for (start, label), c in sorted(buckets.items()):
        ratio = _ratio(c["failed"], c["attempted"])
        series.setdefault(start, []).append(
            {
                "label": label,
                "sent": c["sent"],
                "delivered": c["delivered"],
                "outbound_error_ratio": ratio,
                "errors": ratio,
                "received": c["received"],
            }
        )
    detailed_rows = [{"timestamp": iso(start), "metrics": metrics} for start, metrics in sorted(series.items())]
    return {"overview": _overview(profile_id, counts.get(profile_id, 0), sums, errors), "detailed": detailed_rows}

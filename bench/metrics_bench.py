"""Heliograph metrics benchmark: the two metrics endpoints at one million messages, with a correctness check.

    python bench/metrics_bench.py [--messages 1000000] [--profiles 20] [--requests 50]
                      [--database-url postgresql://postgres@127.0.0.1:5432/heliograph_metrics_bench]

Phases:

1. setup    a fresh data dir; migrations (heliograph.store.migrate.upgrade, in process); the sandbox account
            with a known API key (services.accounts.bootstrap_sandbox) plus N extra messaging profiles, each
            with a long code and a toll-free number, every 4th also a short code. With --database-url the
            named scratch database is created (dropped first if it exists; never `test` or `postgres`) and
            dropped again at the end unless --keep.
2. load     --messages rows written straight into `messages`, in time order, spread over the profiles
            (mildly skewed: weight 1/sqrt(rank)) and over the last 30 days (minus a 2 h margin at the old
            end, so a 30d window taken during the run still covers everything). Mix: 8 % inbound, 85 %
            delivered, 4 % delivery_failed, 2 % sending_failed, 0.5 % expired, 0.5 % delivery_unconfirmed,
            with Telnyx error codes. In the SAME transaction as each batch of messages the rollups are
            written exactly as the server writes them: services.metrics.outbound_increments /
            inbound_increment for each state change (sending→sent, sent→final, sending→sending_failed,
            inbound) and store.metrics.add / add_errors (the server's upserts, at 5 min / 1 h / 1 day).
            100k messages a transaction.
3. truth    independently of the rollups, counters per (profile, 5-minute UTC bucket, sender label) and
            error codes per (profile, 5-minute bucket) are kept from the message timestamps themselves
            (spec metrics.md §5), and a GROUP BY over `messages` is checked against what was generated.
4. http     `heliograph serve` on that data dir (HELIOGRAPH_API_KEY set; gateway mode for PostgreSQL), one
            keep-alive httpx client over 127.0.0.1: for each time_frame (1h 3h 24h 3d 7d 30d) and each of
            GET /v2/messaging_profile_metrics?page[size]=250 (every profile) and
            GET /v2/messaging_profiles/{busiest}/metrics, --warmup untimed then --requests timed requests;
            GET /v2/messages/{id} (random loaded ids) as a reference point. The expected window is computed
            here as services.metrics.window() defines it (start = 5-minute boundary at or before
            now - time_frame, end = end of the current 5-minute bucket; checked against window() itself)
            for the request's start and end times. If both give the same window (almost always) the answer
            must match the truth exactly: sent, delivered, failed, received, error ratio, spend,
            phone_numbers, and on the detail endpoint the error codes and every (UTC-aligned bucket, label)
            cell of the series; otherwise each count must lie between the two windows' truths. 30d must
            equal everything loaded. Detailed buckets must be aligned, ordered and add up to the overview.
5. db       the rollup queries run in process (no HTTP) for each window with the segments the service
            reads (domain.rollups.segments), timed, with their plans (EXPLAIN QUERY PLAN on SQLite,
            EXPLAIN ANALYZE on PostgreSQL).
6. report   one table on stdout; JSON in bench/results/metrics-<timestamp>[-pg].json.

Target: both endpoints under 100 ms at one million messages. Every loop is bounded, traffic goes to
127.0.0.1 only, the server is stopped on exit (and told to die with this process).
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import bisect
import contextlib
import ctypes
import datetime as dt
import json
import math
import os
import platform
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, func, select, text

from heliograph.bootstrap import build
from heliograph.domain.errors import DELIVERY_ERROR_TITLES
from heliograph.domain.rollups import segments
from heliograph.services import accounts, numbers, profiles
from heliograph.services import metrics as svc
from heliograph.services.messages_query import RETENTION_DAYS
from heliograph.services.senders import PLATFORM_CARRIER
from heliograph.settings import Settings
from heliograph.store import metrics as rollups
from heliograph.store.engine import normalise_url
from heliograph.store.migrate import upgrade
from heliograph.store.tables import messages, profile_error_rollups, profile_rollups

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
HOST = "127.0.0.1"
API_KEY = "KEYMETRICSBENCH" + "0" * 33
TIME_FRAMES = list(svc.TIME_FRAMES)  # 1h 3h 24h 3d 7d 30d
MINUTE = 60 * 1_000_000
SECOND = 1_000_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
TARGET_MS = 100.0
BATCH = 100_000  # messages per transaction
COUNTERS = ("attempted", "sent", "delivered", "failed", "received", "spend_micros")

# status mix of all messages (sums to 1)
MIX = [
    ("inbound", 0.08),
    ("delivered", 0.85),
    ("delivery_failed", 0.04),
    ("sending_failed", 0.02),
    ("expired", 0.005),
    ("delivery_unconfirmed", 0.005),
]
DELIVERY_FAILED_CODES = [("40001", 0.30), ("40002", 0.15), ("40004", 0.20), ("40006", 0.10), ("40008", 0.25)]
SENDING_FAILED_CODES = [("40014", 0.40), ("40012", 0.40), ("40013", 0.20)]
TO_CARRIERS = ["T-Mobile USA", "Verizon Wireless", "AT&T Wireless"]
SMS_COST = ("0.0040", "0.0010")
MMS_COST = ("0.0150", "0.0050")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def now_us() -> int:
    return time.time_ns() // 1000


# ------------------------------------------------------------------------------------------ server process

_children: list[subprocess.Popen] = []


def _die_with_parent() -> None:  # in the child between fork and exec
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def stop_process(p: subprocess.Popen, grace: float = 15.0) -> int | None:
    if p.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            p.send_signal(signal.SIGTERM)
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                p.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(5)
    return p.returncode


def stop_all() -> None:
    while _children:
        stop_process(_children.pop())


def _on_signal(signum: int, _frame: Any) -> None:
    stop_all()
    sys.exit(128 + signum)


atexit.register(stop_all)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


def start_server(settings_env: dict[str, str], data_dir: Path, port: int) -> tuple[subprocess.Popen, Path, float]:
    log_path = data_dir / "server.log"
    env = {**os.environ, **settings_env, "HELIOGRAPH_API_KEY": API_KEY, "HELIOGRAPH_LOG_LEVEL": "warning"}
    argv = [
        sys.executable,
        "-m",
        "heliograph",
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    started = time.perf_counter()
    with open(log_path, "ab") as out:
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent)
    _children.append(p)
    url = f"http://{HOST}:{port}/healthz"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise SystemExit(f"server exited with {p.returncode}:\n{log_path.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1.0).status_code == 200:
                return p, log_path, time.perf_counter() - started
        time.sleep(0.1)
    raise SystemExit(f"server not healthy within 120 s:\n{log_path.read_text()[-3000:]}")


# ---------------------------------------------------------------------------------------------- setup


PROTECTED_DATABASES = {"test", "postgres", "template0", "template1"}  # other suites use `test`


def pg_database_name(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?", 1)[0]


def _pg_admin_url(url: str) -> str:
    base, rest = url.rsplit("/", 1)
    return normalise_url(base + "/postgres" + ("?" + rest.split("?", 1)[1] if "?" in rest else ""))


async def _pg_admin(url: str, statement: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(_pg_admin_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def create_scratch_postgres(url: str) -> None:
    """A new, empty scratch database (dropped first if a previous run left it behind)."""
    name = pg_database_name(url)
    await _pg_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _pg_admin(url, f'CREATE DATABASE "{name}"')


async def drop_scratch_postgres(url: str) -> None:
    await _pg_admin(url, f'DROP DATABASE IF EXISTS "{pg_database_name(url)}" WITH (FORCE)')


async def setup_account(hg: Any, n_profiles: int) -> dict:
    ctx = hg.ctx
    await upgrade(ctx.db)
    account = await accounts.bootstrap_sandbox(ctx, API_KEY)
    org_id = account.organization["id"]
    plist = [
        {
            "id": account.profile_id,
            "name": "Default",
            "senders": {"longcode": "+13125550100", "tollfree": "+18885550100"},
        }
    ]
    for i in range(n_profiles):
        profile = await profiles.create_profile(
            ctx, org_id, {"name": f"metrics-bench-{i + 1:02d}", "whitelisted_destinations": ["*"]}
        )
        senders = {"longcode": f"+1312555{1001 + i:04d}", "tollfree": f"+1888555{1001 + i:04d}"}
        for number in senders.values():
            await numbers.add_number(ctx, org_id, number, profile_id=profile["id"])
        if i % 4 == 0:
            senders["shortcode"] = f"{61001 + i}"
            await numbers.add_number(ctx, org_id, senders["shortcode"], profile_id=profile["id"])
        plist.append({"id": profile["id"], "name": profile["name"], "senders": senders})
    return {"organization_id": org_id, "profiles": plist}


# ---------------------------------------------------------------------------------------------- data


def pick(rng: random.Random, table: list[tuple[str, float]]) -> str:
    x = rng.random()
    for value, p in table:
        x -= p
        if x < 0:
            return value
    return table[-1][0]


def error(code: str) -> dict:
    # the shape dispatch.message_error writes
    return {
        "code": code,
        "title": DELIVERY_ERROR_TITLES.get(code, "Undeliverable"),
        "source": {"pointer": "/to/0/phone_number"},
    }


def fake_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


FIVE_MINUTES = 5 * MINUTE


def expected_window(now: int, time_frame: str) -> tuple[int, int]:
    """[start, end) in µs, written out here exactly as services.metrics.window() defines it (and checked
    against it): start = the 5-minute boundary at or before now - time_frame; end = the end of the
    current 5-minute bucket. UTC-aligned (µs since the epoch)."""
    since = now - svc.TIME_FRAMES[time_frame] * MINUTE
    return since - since % FIVE_MINUTES, now - now % FIVE_MINUTES + FIVE_MINUTES


class Truth:
    """Ground truth from message timestamps (spec metrics.md §5), independent of the rollup code:
    counters per (profile, 5-minute UTC bucket, sender label), error codes per (profile, 5-minute bucket)."""

    def __init__(self, profile_ids: list[str]) -> None:
        self.profile_ids = profile_ids
        self.cells: dict[tuple[int, int, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
        self.code_cells: dict[tuple[int, int], Counter] = defaultdict(Counter)
        self.codes: list[Counter] = [Counter() for _ in profile_ids]  # all time, per profile
        self.statuses: Counter = Counter()
        self._index: list[tuple[list[int], list[list[int]]]] | None = None
        self._by_bucket: list[dict[int, dict[str, list[int]]]] | None = None

    def add(self, p: int, at: int, label: str, counter: int, n: int = 1) -> None:
        self.cells[(p, at - at % FIVE_MINUTES, label)][counter] += n

    def add_code(self, p: int, at: int, code: str) -> None:
        self.code_cells[(p, at - at % FIVE_MINUTES)][code] += 1
        self.codes[p][code] += 1

    def finish(self) -> None:
        """Per profile: sorted buckets and prefix sums, so a window's totals are two bisects."""
        by_bucket: list[dict[int, dict[str, list[int]]]] = [defaultdict(dict) for _ in self.profile_ids]
        for (p, b, label), c in self.cells.items():
            by_bucket[p][b][label] = c
        self._by_bucket = [dict(d) for d in by_bucket]
        self._codes_by_profile: list[dict[int, Counter]] = [{} for _ in self.profile_ids]
        for (p, b), c in self.code_cells.items():
            self._codes_by_profile[p][b] = c
        self._index = []
        for per in self._by_bucket:
            buckets = sorted(per)
            prefix = [[0] * 6]
            for b in buckets:
                row = [0] * 6
                for c in per[b].values():
                    row = [x + y for x, y in zip(row, c, strict=True)]
                prefix.append([x + y for x, y in zip(prefix[-1], row, strict=True)])
            self._index.append((buckets, prefix))

    def between(self, p: int, lo: int, hi: int) -> dict[str, int]:
        """Counters of profile p over 5-minute buckets in [lo, hi)."""
        assert self._index is not None
        buckets, prefix = self._index[p]
        i, j = bisect.bisect_left(buckets, lo), bisect.bisect_left(buckets, hi)
        return dict(zip(COUNTERS, (b - a for a, b in zip(prefix[i], prefix[j], strict=True)), strict=True))

    def codes_between(self, p: int, lo: int, hi: int) -> Counter:
        out: Counter = Counter()
        for b, c in self._codes_by_profile[p].items():
            if lo <= b < hi:
                out.update(c)
        return out

    def series(self, p: int, lo: int, hi: int, width: int) -> dict[tuple[int, str], list[int]]:
        """Counters per (UTC-aligned bucket of `width` µs, label) over [lo, hi)."""
        assert self._by_bucket is not None
        out: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0] * 6)
        for b, labels in self._by_bucket[p].items():
            if lo <= b < hi:
                for label, c in labels.items():
                    slot = out[(b - b % width, label)]
                    for k in range(6):
                        slot[k] += c[k]
        return out

    def total(self, p: int) -> dict[str, int]:
        return self.between(p, -(2**62), 2**62)


def window_self_check(now: int) -> list[str]:
    """expected_window() must be services.metrics.window(): on, just before and just after boundaries."""
    problems = []
    base = now - now % FIVE_MINUTES
    for t in (base, base + 1, base - 1, base + FIVE_MINUTES // 2, base - DAY - 1, base + HOUR):
        for tf in TIME_FRAMES:
            if tuple(svc.window(t, tf)) != expected_window(t, tf):
                problems.append(f"window({t}, {tf}): server {svc.window(t, tf)}, benchmark {expected_window(t, tf)}")
    return problems


def iso_us(us: int) -> str:
    return dt.datetime.fromtimestamp(us / 1e6, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso_us(value: str) -> int:
    t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return int(t.timestamp()) * SECOND + t.microsecond


A, S, D, F, R, SP = range(6)  # indexes into Truth cells, in COUNTERS order


def micros(rate: str, fee: str) -> int:
    return int((Decimal(rate) + Decimal(fee)) * 1_000_000)


def generate_batch(
    rng: random.Random, times: list[int], setup: dict, weights: list[float], end: int, truth: Truth
) -> tuple[list[dict], list[dict], list[dict]]:
    """Rows for `times` (received_at, ascending) plus the rollup increments the server would record."""
    org_id = setup["organization_id"]
    plist = setup["profiles"]
    prof_idx = rng.choices(range(len(plist)), cum_weights=weights, k=len(times))
    rows: list[dict] = []
    incs: list[dict] = []
    errs: list[dict] = []
    sms_micros, mms_micros = micros(*SMS_COST), micros(*MMS_COST)
    for received, p in zip(times, prof_idx, strict=True):
        prof = plist[p]
        senders = prof["senders"]
        status = pick(rng, MIX)
        r = rng.random()
        kind = "shortcode" if (r < 0.05 and "shortcode" in senders) else ("tollfree" if r < 0.25 else "longcode")
        own = senders[kind]
        handset = f"+1773{rng.randrange(2_000_000, 9_999_999):07d}"
        mms = rng.random() < 0.04
        body = f"metrics bench {len(rows)} {rng.getrandbits(32):08x}"
        row = {
            "id": fake_uuid(rng),
            "organization_id": org_id,
            "messaging_profile_id": prof["id"],
            "type": "MMS" if mms else "SMS",
            "text": body,
            "transmitted_text": None,
            "subject": None,
            "media": [
                {
                    "url": "https://example.com/cat.jpg",
                    "content_type": "image/jpeg",
                    "size": 52133,
                    "sha256": None,
                }
            ]
            if mms
            else [],
            "webhook_url": None,
            "webhook_failover_url": None,
            "use_profile_webhooks": True,
            "encoding": "GSM-7",
            "parts": 1,
            "num_chars": len(body),
            "tags": [],
            "smart_encoding_applied": False,
            "received_at": received,
            "valid_until": None,
            "send_at": None,
            "due_at": None,
            "lease_until": None,
            "group_message_id": None,
            "extra": None,
        }
        if status == "inbound":
            row.update(
                direction="inbound",
                status="delivered",
                from_number=handset,
                from_carrier=rng.choice(TO_CARRIERS),
                from_line_type="Wireless",
                to_number=own,
                to_carrier=PLATFORM_CARRIER,
                to_line_type="" if kind == "shortcode" else "VoIP",
                cost_rate="0",
                cost_carrier_fee="0",
                errors=[],
                wait_seconds=None,
                sent_at=None,
                completed_at=None,
                submit_attempts=0,
                carrier_message_id=None,
            )
            rows.append(row)
            inc = svc.inbound_increment(row)
            if inc:
                incs.append(inc)
            truth.add(p, received, kind, R)
            truth.statuses["inbound"] += 1
            continue
        rate, fee = MMS_COST if mms else SMS_COST
        row.update(
            direction="outbound",
            from_number=own,
            from_carrier=PLATFORM_CARRIER,
            from_line_type="" if kind == "shortcode" else "VoIP",
            to_number=handset,
            to_carrier=rng.choice(TO_CARRIERS),
            to_line_type="Wireless",
            cost_rate=rate,
            cost_carrier_fee=fee,
            wait_seconds=0.0,
            submit_attempts=1,
            carrier_message_id=None,
            errors=[],
        )
        if status == "delivery_unconfirmed" and received + 72 * HOUR + SECOND > end:
            status = "delivered"  # the receipt window has not run out yet
        if status == "sending_failed":
            code = pick(rng, SENDING_FAILED_CODES)
            completed = received + 4 * HOUR if code == "40014" else received + rng.randrange(5_000, 500_000)
            if completed > end:
                code, completed = "40012", received + rng.randrange(5_000, 50_000)
            final = {
                **row,
                "status": "sending_failed",
                "sent_at": None,
                "completed_at": completed,
                "errors": [error(code)],
                "cost_rate": "0",
                "cost_carrier_fee": "0",
            }
            i, e = svc.outbound_increments({"status": "sending"}, final)
            incs += i
            errs += e
            rows.append(final)
            truth.add(p, completed, kind, A)
            truth.add(p, completed, kind, F)
            truth.add_code(p, completed, code)
            truth.statuses["sending_failed"] += 1
            continue
        sent_at = received + rng.randrange(2_000, 800_000)
        if status == "delivery_unconfirmed":
            completed = sent_at + 72 * HOUR
        elif status == "expired":
            completed = sent_at + rng.randrange(1 * HOUR, 24 * HOUR)
        else:
            completed = sent_at + rng.randrange(200_000, 15 * SECOND)
        completed = min(completed, end)
        codes = {"delivery_failed": pick(rng, DELIVERY_FAILED_CODES), "expired": "40005"}.get(status)
        sent_row = {
            **row,
            "status": "sent",
            "sent_at": sent_at,
            "completed_at": None,
            "carrier_message_id": fake_uuid(rng),
        }
        final = {
            **sent_row,
            "status": status,
            "completed_at": completed,
            "errors": [error(codes)] if codes else [],
        }
        for before, after in (
            ({"status": "sending"}, sent_row),
            ({"status": "sent"}, final),
        ):  # dispatch, then delivery
            i, e = svc.outbound_increments(before, after)
            incs += i
            errs += e
        rows.append(final)
        truth.add(p, sent_at, kind, A)
        truth.add(p, sent_at, kind, S)
        truth.add(p, sent_at, kind, SP, mms_micros if mms else sms_micros)
        if status == "delivered":
            truth.add(p, completed, kind, D)
        elif status in ("delivery_failed", "expired"):
            truth.add(p, completed, kind, F)
            truth.add_code(p, completed, codes)
        truth.statuses[status] += 1
    return rows, incs, errs


async def load(hg: Any, setup: dict, n: int, seed: int) -> tuple[Truth, dict]:
    rng = random.Random(seed)
    plist = setup["profiles"]
    raw = [1 / math.sqrt(i + 1) for i in range(len(plist))]
    weights = list(_accumulate([w / sum(raw) for w in raw]))
    t0 = now_us()
    start, end = t0 - 30 * DAY + 2 * HOUR, t0 - 5 * MINUTE
    times = sorted(rng.randrange(start, end) for _ in range(n))
    truth = Truth([p["id"] for p in plist])
    sample_ids: list[str] = []
    stats = {
        "window_start_us": start,
        "window_end_us": end,
        "batches": 0,
        "rollup_upserts": 0,
        "error_upserts": 0,
    }
    gen_s = db_s = 0.0
    started = time.perf_counter()
    for offset in range(0, n, BATCH):
        g0 = time.perf_counter()
        rows, incs, errs = generate_batch(rng, times[offset : offset + BATCH], setup, weights, end, truth)
        g1 = time.perf_counter()
        async with hg.ctx.db.transaction() as conn:  # the messages and their rollups in one transaction
            await conn.execute(messages.insert(), rows)
            await rollups.add(conn, incs)
            await rollups.add_errors(conn, errs)
        g2 = time.perf_counter()
        gen_s += g1 - g0
        db_s += g2 - g1
        stats["batches"] += 1
        stats["rollup_upserts"] += len(incs)
        stats["error_upserts"] += len(errs)
        retrievable = [
            r for r in rows if r["received_at"] > t0 + 2 * HOUR - RETENTION_DAYS * DAY
        ]  # GET /messages/{id} is 404 after 10 days
        sample_ids += [r["id"] for r in rng.sample(retrievable, min(40, len(retrievable)))]
        done = min(offset + BATCH, n)
        log(
            f"  loaded {done:>9,} / {n:,}  ({done / (g2 - started):,.0f} msg/s;"
            f" batch: generate {g1 - g0:.1f} s, write {g2 - g1:.1f} s)"
        )
    stats.update(
        seconds=round(time.perf_counter() - started, 2),
        generate_seconds=round(gen_s, 2),
        write_seconds=round(db_s, 2),
    )
    truth.finish()
    stats["sample_ids"] = sample_ids
    return truth, stats


def _accumulate(xs: list[float]) -> list[float]:
    out, acc = [], 0.0
    for x in xs:
        acc += x
        out.append(acc)
    out[-1] = 1.0
    return out


async def after_load(hg: Any, truth: Truth) -> dict:
    """Checkpoint/analyse as the database would be in steady state, and check `messages` against the truth."""
    db = hg.ctx.db
    info: dict[str, Any] = {}
    if db.sqlite:
        # the server's WAL checkpoints would have folded the WAL back by now; no ANALYZE: it never runs one
        path = db.url.split(":///", 1)[1]
        await db.dispose()
        t = time.perf_counter()
        with contextlib.closing(sqlite3.connect(path)) as raw:
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        info["wal_checkpoint_s"] = round(time.perf_counter() - t, 2)
    else:
        t = time.perf_counter()
        async with db.transaction() as conn:
            await conn.exec_driver_sql("ANALYZE")  # autovacuum would do this within a minute anyway
        info["analyze_s"] = round(time.perf_counter() - t, 2)
    async with db.read() as conn:
        t = time.perf_counter()
        groups = (
            await conn.execute(
                select(messages.c.direction, messages.c.status, func.count()).group_by(
                    messages.c.direction, messages.c.status
                )
            )
        ).all()
        info["messages_group_by_status_ms"] = round((time.perf_counter() - t) * 1000, 1)
        info["rollup_rows"] = (await conn.execute(select(func.count()).select_from(profile_rollups))).scalar_one()
        info["error_rollup_rows"] = (
            await conn.execute(select(func.count()).select_from(profile_error_rollups))
        ).scalar_one()
        for name, table in (
            ("rollup_rows_by_width", profile_rollups),
            ("error_rollup_rows_by_width", profile_error_rollups),
        ):
            by_width = (
                await conn.execute(select(table.c.width, func.count()).group_by(table.c.width).order_by(table.c.width))
            ).all()
            info[name] = {int(w): n for w, n in by_width}
        info["messages_rows"] = (await conn.execute(select(func.count()).select_from(messages))).scalar_one()
    found = Counter({("inbound" if d == "inbound" else s): n for d, s, n in groups})
    info["messages_by_status"] = dict(found)
    info["messages_match_generated"] = found == truth.statuses
    return info


# ---------------------------------------------------------------------------------------------- HTTP


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


def summary(lat_ms: list[float]) -> dict:
    return {
        "n": len(lat_ms),
        "p50_ms": round(pct(lat_ms, 50), 2),
        "p99_ms": round(pct(lat_ms, 99), 2),
        "max_ms": round(max(lat_ms), 2),
        "mean_ms": round(statistics.fmean(lat_ms), 2),
    }


def check_overview(
    o: dict,
    want: dict,
    numbers_count: int,
    codes: Counter | None,
    where: str,
    exact: bool,
    lo: dict | None = None,
) -> list[str]:
    """Problems with one HighLevelMetrics object; `want`/`lo` are the truth at the request's start/end."""
    problems = []
    got = {
        "sent": o["outbound"]["sent"],
        "delivered": o["outbound"]["delivered"],
        "failed": o["outbound"]["failed"],
        "received": o["inbound"]["received"],
    }
    for k, v in got.items():
        hi_v, lo_v = want[k], (lo or want)[k]
        if not (lo_v <= v <= hi_v):
            problems.append(
                f"{where}: {k}={v}, expected {'=' if exact else 'between '}{lo_v}{'' if exact else f'..{hi_v}'}"
            )
    if exact:
        ratio = round(want["failed"] / want["attempted"], 4) if want["attempted"] else 0.0
        if o["outbound"]["error_ratio"] != ratio:
            problems.append(f"{where}: error_ratio={o['outbound']['error_ratio']}, expected {ratio}")
        spend = f"{Decimal(want['spend_micros']) / 1_000_000:.4f}"
        if o["spend"]["amount"] != spend:
            problems.append(f"{where}: spend={o['spend']['amount']}, expected {spend}")
    if o["phone_numbers"] != numbers_count:
        problems.append(f"{where}: phone_numbers={o['phone_numbers']}, expected {numbers_count}")
    if codes is not None:
        got_codes = {e["code"]: e["count"] for e in o["outbound"].get("error_breakdown", [])}
        if got_codes != dict(codes):
            problems.append(f"{where}: error_breakdown={got_codes}, expected {dict(codes)}")
    return problems


def cpu_ms(pid: int) -> float:
    """utime + stime of a process in ms (Linux /proc): less sensitive to a busy machine than wall time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def http_phase(
    base: str,
    setup: dict,
    truth: Truth,
    busiest: int,
    sample_ids: list[str],
    args: argparse.Namespace,
    server_pid: int,
) -> dict:
    plist = setup["profiles"]
    index = {p["id"]: i for i, p in enumerate(plist)}
    n_numbers = [sum(1 for k in p["senders"] if k != "shortcode") for p in plist]
    results: dict[str, Any] = {"rows": [], "problems": window_self_check(now_us()), "checks": Counter()}
    headers = {"Authorization": f"Bearer {API_KEY}", "Accept": "application/json"}
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    with httpx.Client(base_url=base, headers=headers, timeout=60.0, limits=limits) as client:

        def timed(path: str, params: dict | None = None) -> tuple[float, int, int, httpx.Response]:
            t0 = now_us()
            p0 = time.perf_counter()
            r = client.get(path, params=params)
            ms = (time.perf_counter() - p0) * 1000
            return ms, t0, now_us(), r

        def run(label: str, tf: str | None, path_of: Any, params_of: Any, check: Any) -> None:
            lat: list[float] = []
            statuses: Counter = Counter()
            bytes_ = 0
            cpu0 = 0.0
            for i in range(args.warmup + args.requests):
                if i == args.warmup:
                    cpu0 = cpu_ms(server_pid)
                ms, t0, t1, r = timed(path_of(i), params_of(i))
                statuses[r.status_code] += 1
                if r.status_code == 200 and (i == 0 or i == args.warmup or args.check_all):
                    results["problems"] += check(r.json(), t0, t1)
                elif r.status_code != 200:
                    results["problems"].append(f"{label} {tf}: HTTP {r.status_code} {r.text[:200]}")
                if i >= args.warmup:
                    lat.append(ms)
                    bytes_ = len(r.content)
            row = {
                "endpoint": label,
                "time_frame": tf,
                **summary(lat),
                "statuses": dict(statuses),
                "body_bytes": bytes_,
                "server_cpu_ms_per_request": round((cpu_ms(server_pid) - cpu0) / args.requests, 2),
                "loadavg_1m": round(os.getloadavg()[0], 2),
            }
            row["under_target"] = row["p99_ms"] < TARGET_MS
            results["rows"].append(row)
            log(
                f"  {label:<36} {tf or '':>4}  p50 {row['p50_ms']:7.2f}  p99 {row['p99_ms']:7.2f}"
                f"  max {row['max_ms']:7.2f} ms  server cpu {row['server_cpu_ms_per_request']:6.2f} ms/req"
                f"  load {row['loadavg_1m']}"
            )

        def expected(p: int, tf: str, t0: int, t1: int) -> tuple[tuple[int, int], dict, dict, bool]:
            """The window and the truth for a request that ran from t0 to t1 (its `now` lies in between).
            If both ends give the same window, the answer must match exactly; otherwise each count must lie
            between the truth of the later window (lo) and of the earlier one (hi): no data is newer than
            the load, so a later window can only lose messages at its start."""
            w0, w1 = expected_window(t0, tf), expected_window(t1, tf)
            results["checks"]["exact" if w0 == w1 else "bounded"] += 1
            return w0, truth.between(p, *w0), truth.between(p, *w1), w0 == w1

        for tf in TIME_FRAMES:

            def check_list(body: dict, t0: int, t1: int, tf: str = tf) -> list[str]:
                problems = []
                if len(body["data"]) != len(plist) or body["meta"]["total_results"] != len(plist):
                    problems.append(
                        f"list {tf}: {len(body['data'])} profiles, meta {body['meta']}, expected {len(plist)}"
                    )
                for o in body["data"]:
                    p = index[o["messaging_profile_id"]]
                    _, hi, lo, exact = expected(p, tf, t0, t1)
                    if tf == "30d" and (hi != truth.total(p) or lo != truth.total(p)):
                        problems.append("list 30d: the run outlived the 2 h margin, window no longer covers all data")
                    problems += check_overview(o, hi, n_numbers[p], None, f"list {tf} profile#{p}", exact, lo)
                return problems

            run(
                "GET /messaging_profile_metrics",
                tf,
                lambda i: "/v2/messaging_profile_metrics",
                lambda i, tf=tf: {"time_frame": tf, "page[size]": 250},
                check_list,
            )

        pid = plist[busiest]["id"]
        for tf in TIME_FRAMES:
            width = svc.DETAIL_WIDTH[tf] * MINUTE

            def check_detail(body: dict, t0: int, t1: int, tf: str = tf, width: int = width) -> list[str]:
                d = body["data"]
                (lo_us, hi_us), hi, lo, exact = expected(busiest, tf, t0, t1)
                codes = truth.codes_between(busiest, lo_us, hi_us) if exact else None
                problems = check_overview(d["overview"], hi, n_numbers[busiest], codes, f"detail {tf}", exact, lo)
                o = d["overview"]
                for k, src in (("sent", "outbound"), ("delivered", "outbound"), ("received", "inbound")):
                    total = sum(m[k] for b in d["detailed"] for m in b["metrics"])
                    if total != o[src][k]:
                        problems.append(f"detail {tf}: buckets sum {k}={total}, overview says {o[src][k]}")
                starts = [parse_iso_us(b["timestamp"]) for b in d["detailed"]]
                if starts != sorted(set(starts)):
                    problems.append(f"detail {tf}: bucket timestamps not strictly increasing")
                misaligned = [b["timestamp"] for b, t in zip(d["detailed"], starts, strict=True) if t % width]
                if misaligned:
                    problems.append(f"detail {tf}: buckets not aligned to UTC {width // MINUTE} min: {misaligned[:3]}")
                outside = [
                    b["timestamp"]
                    for b, t in zip(d["detailed"], starts, strict=True)
                    if not (lo_us - width < t < hi_us)
                ]
                if outside:
                    problems.append(f"detail {tf}: buckets outside the window: {outside[:3]}")
                if exact:  # every bucket and label against the truth
                    want = {}  # the visible cells: all-zero entries (e.g. failures whose attempt is elsewhere) may be
                    for key, c in truth.series(busiest, lo_us, hi_us, width).items():  # present or not: ignored
                        ratio = round(c[F] / c[A], 4) if c[A] else 0.0
                        exp = {"sent": c[S], "delivered": c[D], "received": c[R], "outbound_error_ratio": ratio}
                        if any(exp.values()):
                            want[key] = exp
                    got = {}
                    for b, t in zip(d["detailed"], starts, strict=True):
                        for m in b["metrics"]:
                            if m["sent"] or m["delivered"] or m["received"] or m["outbound_error_ratio"]:
                                got[(t, m["label"])] = m
                    if set(got) != set(want):
                        extra, missing = sorted(set(got) - set(want)), sorted(set(want) - set(got))
                        problems.append(
                            f"detail {tf}: bucket/label cells differ: extra {extra[:3]}, missing {missing[:3]}"
                        )
                    for key in sorted(set(got) & set(want)):
                        m, exp = got[key], want[key]
                        diff = {k: (m[k], v) for k, v in exp.items() if m[k] != v}
                        if diff:
                            problems.append(f"detail {tf} {iso_us(key[0])} {key[1]}: (got, expected) {diff}")
                            break
                return problems

            run(
                "GET /messaging_profiles/{id}/metrics",
                tf,
                lambda i, pid=pid: f"/v2/messaging_profiles/{pid}/metrics",
                lambda i, tf=tf: {"time_frame": tf},
                check_detail,
            )

        def check_message(body: dict, t0: int, t1: int) -> list[str]:
            return [] if body["data"]["id"] in sample_ids else [f"GET /messages: unexpected id {body['data']['id']}"]

        run(
            "GET /messages/{id} (reference)",
            None,
            lambda i: f"/v2/messages/{sample_ids[i % len(sample_ids)]}",
            lambda i: None,
            check_message,
        )
    return results


# -------------------------------------------------------------------------------------- in-process queries


async def db_phase(hg: Any, setup: dict, busiest: int, repeats: int) -> dict:
    """Time the rollup queries without HTTP, and capture their plans."""
    db = hg.ctx.db
    captured: list[tuple[str, Any]] = []

    def _capture(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    ids = [p["id"] for p in setup["profiles"]]
    pid = ids[busiest]
    out: dict[str, Any] = {"timings_ms": {}, "cpu_ms": {}, "plans": {}, "segments": {}}
    now = now_us()
    for tf in TIME_FRAMES:
        lo, hi = svc.window(now, tf)
        segs = segments(lo, hi)  # what high_level() and detailed() read totals and errors from
        series_segs = segments(lo, hi, svc._series_width(svc.DETAIL_WIDTH[tf]))  # what detailed() reads rows from
        out["segments"][tf] = {"totals": len(segs), "series": len(series_segs)}
        queries = {
            "totals(all profiles)": lambda c, segs=segs: rollups.totals(c, ids, segs),
            "totals(one)": lambda c, segs=segs: rollups.totals(c, [pid], segs),
            "rows(one)": lambda c, segs=series_segs: rollups.rows(c, pid, segs),
            "errors(one)": lambda c, segs=segs: rollups.errors(c, pid, segs),
        }
        row, cpu_row = {}, {}
        for name, q in queries.items():
            times, cpus = [], []
            for _ in range(repeats):
                async with db.read() as conn:
                    t, c = time.perf_counter(), time.process_time()
                    await q(conn)
                    times.append((time.perf_counter() - t) * 1000)
                    cpus.append((time.process_time() - c) * 1000)  # all threads: includes aiosqlite's
            row[name] = round(statistics.median(times), 2)
            cpu_row[name] = round(statistics.median(cpus), 2)
            if tf in ("24h", "30d"):
                event.listen(db.reader.sync_engine, "before_cursor_execute", _capture)
                try:
                    captured.clear()
                    async with db.read() as conn:
                        await q(conn)
                finally:
                    event.remove(db.reader.sync_engine, "before_cursor_execute", _capture)
                statement, params = captured[-1]
                explain = "EXPLAIN QUERY PLAN " if db.sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
                async with db.read() as conn:
                    plan = (await conn.exec_driver_sql(explain + statement, tuple(params))).all()
                lines = [" | ".join(str(x) for x in r[-1:]) if db.sqlite else str(r[0]) for r in plan]
                out["plans"][f"{name} {tf}"] = {"sql": " ".join(statement.split()), "plan": lines}
        out["timings_ms"][tf] = row
        out["cpu_ms"][tf] = cpu_row
        log(f"  {tf:>4}  " + "  ".join(f"{k} {v:.2f} ms (cpu {cpu_row[k]:.2f})" for k, v in row.items()))
    return out


# ---------------------------------------------------------------------------------------------- report


def table(report: dict) -> str:
    lines = []
    db = report["database"]
    git = report.get("git") or {}
    lines.append(
        f"Heliograph metrics benchmark: {report['messages']:,} messages, {report['profiles']} profiles, {db};"
        f" git {git.get('commit', '?')}{'+dirty src' if git.get('dirty_src') else ''}"
    )
    ld = report["load"]
    lines.append(
        f"load: {ld['seconds']} s ({report['messages'] / ld['seconds']:,.0f} msg/s;"
        f" generate {ld['generate_seconds']} s, write {ld['write_seconds']} s)"
        f" in {ld['batches']} transactions;"
        f" rollup rows {report['after_load']['rollup_rows']:,}"
        f" ({' / '.join(f'{n:,}' for n in report['after_load']['rollup_rows_by_width'].values())} at"
        f" {' / '.join(f'{w}' for w in report['after_load']['rollup_rows_by_width'])} s),"
        f" error rollup rows {report['after_load']['error_rollup_rows']:,};"
        f" db size {report.get('db_size_mb', '?')} MB;"
        f" server start {report['server_start_s']} s"
    )
    lines.append(
        f"requests: {report['args']['requests']} timed after {report['args']['warmup']} warm-up,"
        " 1 keep-alive connection;"
        f" detail endpoint on the busiest profile ({report['busiest_profile_messages']:,} messages)"
    )
    lines.append("")
    head = (
        f"| {'endpoint':<36} | {'window':<6} | {'p50 ms':>7} | {'p99 ms':>7} | {'max ms':>7}"
        f" | {'srv cpu ms/req':>14} | {'bytes':>6} | {'load':>5} | <100ms |"
    )
    lines.append(head)
    lines.append("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for r in report["http"]["rows"]:
        lines.append(
            f"| {r['endpoint']:<36} | {r['time_frame'] or '-':<6} | {r['p50_ms']:>7.2f}"
            f" | {r['p99_ms']:>7.2f} |"
            f" {r['max_ms']:>7.2f} | {r['server_cpu_ms_per_request']:>14.2f} | {r['body_bytes']:>6} |"
            f" {r['loadavg_1m']:>5.1f} | {'yes' if r['under_target'] else 'NO':<6} |"
        )
    lines.append("")
    lines.append("in-process rollup queries, no HTTP (median wall ms / cpu ms; segments read for totals/rows):")
    for tf, row in report["db"]["timings_ms"].items():
        cpu = report["db"]["cpu_ms"][tf]
        sg = report["db"]["segments"][tf]
        lines.append(
            f"  {tf:>4}  [{sg['totals']}/{sg['series']}]  "
            + "  ".join(f"{k} {v:.1f}/{cpu[k]:.1f}" for k, v in row.items())
        )
    lines.append("")
    t = report["expected_30d"]
    lines.append(
        f"30d totals loaded: sent {t['sent']:,}, delivered {t['delivered']:,}, failed {t['failed']:,},"
        f" received {t['received']:,};"
        f" messages table matches generator: {report['after_load']['messages_match_generated']};"
        f" GROUP BY over messages took {report['after_load']['messages_group_by_status_ms']} ms"
    )
    problems = report["http"]["problems"]
    checks = report["http"].get("checks", {})
    lines.append(
        "correctness: "
        + ("all answers match the loaded data" if not problems else f"{len(problems)} PROBLEMS")
        + f" ({checks.get('exact', 0)} profile-window answers compared exactly,"
        f" {checks.get('bounded', 0)} within bounds because a 5-minute boundary fell inside the request)"
    )
    lines += [f"  - {p}" for p in problems[:30]]
    return "\n".join(lines)


def git_state() -> dict[str, Any]:
    def git(*argv: str) -> str:
        try:
            done = subprocess.run(["git", *argv], cwd=BENCH.parent, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return done.stdout.rstrip()

    dirty = [
        line[3:] for line in git("status", "--porcelain").splitlines() if not line[3:].startswith(("bench/", "tests/"))
    ]
    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty_src": dirty}


def db_size_mb(data_dir: Path, url: str | None) -> float | None:
    if url:
        return None
    return round(sum(f.stat().st_size for f in data_dir.glob("heliograph.db*")) / 1e6, 1)


async def pg_size_mb(hg: Any) -> float:
    async with hg.ctx.db.read() as conn:
        return round((await conn.exec_driver_sql("SELECT pg_database_size(current_database())")).scalar_one() / 1e6, 1)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--profiles", type=int, default=20, help="extra messaging profiles besides the sandbox default")
    ap.add_argument("--requests", type=int, default=50, help="timed requests per endpoint and window")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL scratch database, e.g. postgresql://postgres@127.0.0.1:5432/heliograph_metrics_bench:"
        " CREATED by the benchmark (dropped first if it exists) and DROPPED at the end unless --keep",
    )
    ap.add_argument("--data-dir", type=Path, default=None, help="default: a new temp dir, removed afterwards")
    ap.add_argument("--keep", action="store_true", help="keep the data dir")
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--check-all", action="store_true", help="check every answer, not only the first of each phase")
    ap.add_argument("--db-repeats", type=int, default=20)
    args = ap.parse_args()
    if not 1 <= args.messages <= 20_000_000 or not 0 <= args.profiles <= 1000 or not 1 <= args.requests <= 10_000:
        ap.error("out of range")
    if args.database_url and "127.0.0.1" not in args.database_url and "localhost" not in args.database_url:
        ap.error("only a local database")
    if args.database_url and pg_database_name(args.database_url) in PROTECTED_DATABASES:
        ap.error(f"{pg_database_name(args.database_url)!r} is shared with other suites: name a scratch database")

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="heliograph-metrics-bench-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    if any(data_dir.glob("heliograph.db*")):
        ap.error(f"{data_dir} already has a database; give a fresh --data-dir")
    settings_env = {}
    if args.database_url:
        settings_env = {"HELIOGRAPH_MODE": "gateway", "HELIOGRAPH_DATABASE_URL": args.database_url}
    settings = Settings(
        data_dir=data_dir,
        database_url=args.database_url,
        api_key=API_KEY,
        mode="gateway" if args.database_url else "sandbox",
        log_level="warning",
    )
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    report: dict[str, Any] = {
        "benchmark": "metrics",
        "timestamp": stamp,
        "messages": args.messages,
        "profiles": args.profiles + 1,
        "database": "PostgreSQL " + args.database_url.split("@")[-1] if args.database_url else "SQLite (WAL) sandbox",
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "git": git_state(),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
    }
    try:
        # 1-3: setup, load, truth — in process
        async def prepare() -> tuple[dict, Truth, dict, dict]:
            if args.database_url:
                log(f"creating the scratch database {args.database_url}")
                await create_scratch_postgres(args.database_url)
            hg = build(settings)
            try:
                t = time.perf_counter()
                setup = await setup_account(hg, args.profiles)
                log(
                    f"migrated and bootstrapped {len(setup['profiles'])} profiles"
                    f" in {time.perf_counter() - t:.1f} s; loading {args.messages:,} messages"
                )
                truth, stats = await load(hg, setup, args.messages, args.seed)
                log(f"load done in {stats['seconds']} s")
                info = await after_load(hg, truth)
                if not args.database_url:
                    info["db_size_mb"] = db_size_mb(data_dir, None)
                else:
                    info["db_size_mb"] = await pg_size_mb(hg)
                log(f"after load: {json.dumps({k: v for k, v in info.items() if k != 'messages_by_status'})}")
            finally:
                await hg.ctx.db.dispose()
            return setup, truth, stats, info

        setup, truth, stats, info = asyncio.run(prepare())
        sample_ids = stats.pop("sample_ids")
        report["load"] = stats
        report["after_load"] = info
        report["db_size_mb"] = info.pop("db_size_mb")
        busiest = max(range(len(setup["profiles"])), key=lambda p: truth.total(p)["sent"] + truth.total(p)["received"])
        totals = [truth.total(p) for p in range(len(setup["profiles"]))]
        report["expected_30d"] = {k: sum(t[k] for t in totals) for k in COUNTERS}
        report["busiest_profile"] = setup["profiles"][busiest]["id"]
        bt = truth.total(busiest)
        report["busiest_profile_messages"] = bt["attempted"] + bt["received"]

        # 4: HTTP against a real server
        port = free_port()
        server, log_path, start_s = start_server(settings_env, data_dir, port)
        report["server_start_s"] = round(start_s, 2)
        log(f"server up on 127.0.0.1:{port} in {start_s:.2f} s (pid {server.pid}); timing endpoints")
        report["http"] = http_phase(f"http://{HOST}:{port}", setup, truth, busiest, sample_ids, args, server.pid)
        stop_process(server)
        _children.remove(server)
        report["server_log_tail"] = log_path.read_text()[-2000:]

        # 5: in-process queries and plans
        log("rollup queries in process")

        async def queries() -> dict:
            hg = build(settings)
            try:
                return await db_phase(hg, setup, busiest, args.db_repeats)
            finally:
                await hg.ctx.db.dispose()

        report["db"] = asyncio.run(queries())
    finally:
        stop_all()
        if args.database_url and not args.keep:
            log(f"dropping the scratch database {pg_database_name(args.database_url)}")
            asyncio.run(drop_scratch_postgres(args.database_url))
        if not args.keep and args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)
        elif args.keep or args.data_dir:
            report["data_dir"] = str(data_dir)

    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "-pg" if args.database_url else ""
    out = RESULTS / f"metrics-{stamp}{suffix}.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    print()
    print(table(report))
    print(f"\nJSON: {out.relative_to(BENCH.parent)}")
    slow = [f"{r['endpoint']} {r['time_frame']}" for r in report["http"]["rows"] if not r["under_target"]]
    print(f"target p99 < {TARGET_MS:.0f} ms: " + ("met everywhere" if not slow else f"MISSED by {', '.join(slow)}"))
    # like send_bench: 0 = the run completed (targets are reported, not enforced); 1 = wrong answers
    return 1 if report["http"]["problems"] or not report["after_load"]["messages_match_generated"] else 0


if __name__ == "__main__":
    sys.exit(main())

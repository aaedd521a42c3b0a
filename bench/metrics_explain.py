"""The metrics rollup queries on SQLite, as the server issues them and rewritten, on a copy of a kept database.

    python bench/metrics_explain.py --data-dir DIR [--repeats 15]

DIR is a sandbox data dir left by `bench/metrics_bench.py --keep --data-dir DIR`. Its database is copied
(SQLite backup API) to a scratch file next to it, which is deleted afterwards; the original is not touched.
For each time_frame the window and its segments are computed by the server's own code
(services.metrics.window, domain.rollups.segments), and the statements of store/metrics.py are captured
by running store.metrics.totals / rows / errors against a recording connection and compiling them for
SQLite. On the copy, with the stdlib sqlite3 module (no SQLAlchemy, no HTTP), each query runs as:

  current      the statement store/metrics.py issues: profile IN (...) AND (w=? AND b>=? AND b<? OR ...)
  or-per-arm   the same conditions with the profile test moved into every OR arm:
               (profile IN (...) AND w=? AND b>=? AND b<?) OR ..., so each arm is a primary-key range
  union-all    one SELECT per segment (each a primary-key range), UNION ALL, summed outside
  5-min only   the `current` statement over 5-minute rows only (segments(lo, hi, 300)): the pre-tier
               design's row count, on today's table, for comparison

and prints median wall and CPU ms per query, thousands of SQLite VM instructions it ran (a measure of rows
visited that a busy machine does not distort), and EXPLAIN QUERY PLAN. All variants must give
the same answer (checked; exit 1 if not; rows(one) compared per detail bucket and label, as the endpoint
sums them). Nothing here changes server code.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

from sqlalchemy.dialects import sqlite as sqlite_dialect

from heliograph.domain.rollups import FIVE_MINUTES, floor_to, segments
from heliograph.services import metrics as svc
from heliograph.store import metrics as store

WINDOWS = ("1h", "3h", "24h", "3d", "7d", "30d")
COUNTERS = store.COUNTERS
SUMS = ", ".join(f"sum({c}) AS {c}" for c in COUNTERS)


class _Recorder:
    """Stands in for an AsyncConnection: keeps the statement, answers nothing."""

    def __init__(self) -> None:
        self.statement: Any = None

    async def execute(self, statement: Any) -> Any:
        self.statement = statement
        return self

    def mappings(self) -> list:
        return []

    def all(self) -> list:
        return []


def captured_sql(call: Any) -> tuple[str, tuple]:
    """The SQL and positional parameters a store.metrics function would send to SQLite."""
    rec = _Recorder()
    asyncio.run(call(rec))
    compiled = rec.statement.compile(dialect=sqlite_dialect.dialect(), compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    return str(compiled), tuple(params[name] for name in compiled.positiontup)


def or_per_arm_sql(table: str, select_list: str, profile_col_test: str, segs: list, group_by: str) -> str:
    arms = " OR ".join(f"({profile_col_test} AND width = ? AND bucket >= ? AND bucket < ?)" for _ in segs)
    return f"SELECT {select_list} FROM {table} WHERE {arms}{group_by}"


def union_all_sql(table: str, cols: str, profile_col_test: str, segs: list, outer: str) -> str:
    parts = " UNION ALL ".join(
        f"SELECT {cols} FROM {table} WHERE {profile_col_test} AND width = ? AND bucket >= ? AND bucket < ?"
        for _ in segs
    )
    return outer.format(inner=parts)


def variants(name: str, ids: list[str], pid: str, segs: list, series_segs: list) -> dict[str, tuple[str, tuple]]:
    """The four forms of one query; the same answer is expected from each."""
    five = None
    if name == "totals(all profiles)":
        current = captured_sql(lambda c: store.totals(c, ids, segs))
        five = captured_sql(lambda c: store.totals(c, ids, segments(segs[0][1], segs[-1][2], FIVE_MINUTES)))
        marks = ", ".join("?" * len(ids))
        test = f"messaging_profile_id IN ({marks})"
        flat = tuple(x for w, lo, hi in segs for x in (*ids, w, lo, hi))
        arm = or_per_arm_sql(
            "profile_rollups", f"messaging_profile_id, {SUMS}", test, segs, " GROUP BY messaging_profile_id"
        )
        union = union_all_sql(
            "profile_rollups",
            f"messaging_profile_id, {', '.join(COUNTERS)}",
            test,
            segs,
            f"SELECT messaging_profile_id, {SUMS} FROM ({{inner}}) GROUP BY messaging_profile_id",
        )
        return {"current": current, "or-per-arm": (arm, flat), "union-all": (union, flat), "5-min only": five}
    if name == "totals(one)":
        current = captured_sql(lambda c: store.totals(c, [pid], segs))
        five = captured_sql(lambda c: store.totals(c, [pid], segments(segs[0][1], segs[-1][2], FIVE_MINUTES)))
        test = "messaging_profile_id IN (?)"
        flat = tuple(x for w, lo, hi in segs for x in (pid, w, lo, hi))
        arm = or_per_arm_sql(
            "profile_rollups", f"messaging_profile_id, {SUMS}", test, segs, " GROUP BY messaging_profile_id"
        )
        union = union_all_sql(
            "profile_rollups",
            f"messaging_profile_id, {', '.join(COUNTERS)}",
            test,
            segs,
            f"SELECT messaging_profile_id, {SUMS} FROM ({{inner}}) GROUP BY messaging_profile_id",
        )
        return {"current": current, "or-per-arm": (arm, flat), "union-all": (union, flat), "5-min only": five}
    if name == "rows(one)":
        current = captured_sql(lambda c: store.rows(c, pid, series_segs))
        five = captured_sql(lambda c: store.rows(c, pid, segments(series_segs[0][1], series_segs[-1][2], FIVE_MINUTES)))
        cols = "messaging_profile_id, width, bucket, label, " + ", ".join(COUNTERS)
        test = "messaging_profile_id = ?"
        flat = tuple(x for w, lo, hi in series_segs for x in (pid, w, lo, hi))
        arm = or_per_arm_sql("profile_rollups", cols, test, series_segs, "")
        union = union_all_sql("profile_rollups", cols, test, series_segs, "{inner}")
        return {"current": current, "or-per-arm": (arm, flat), "union-all": (union, flat), "5-min only": five}
    # errors(one)
    current = captured_sql(lambda c: store.errors(c, pid, segs))
    five = captured_sql(lambda c: store.errors(c, pid, segments(segs[0][1], segs[-1][2], FIVE_MINUTES)))
    test = "messaging_profile_id = ?"
    flat = tuple(x for w, lo, hi in segs for x in (pid, w, lo, hi))
    arm = or_per_arm_sql("profile_error_rollups", 'code, sum("count")', test, segs, " GROUP BY code")
    union = union_all_sql(
        "profile_error_rollups", 'code, "count"', test, segs, 'SELECT code, sum("count") FROM ({inner}) GROUP BY code'
    )
    return {"current": current, "or-per-arm": (arm, flat), "union-all": (union, flat), "5-min only": five}


def timed(conn: sqlite3.Connection, sql: str, params: tuple, repeats: int) -> tuple[float, float, list]:
    walls, cpus, rows = [], [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        rows = conn.execute(sql, params).fetchall()
        walls.append((time.perf_counter() - t) * 1000)
        cpus.append((time.process_time() - c) * 1000)
    return statistics.median(walls), statistics.median(cpus), rows


def vm_steps_k(conn: sqlite3.Connection, sql: str, params: tuple) -> int:
    """Thousands of SQLite virtual-machine instructions the statement ran: a machine-independent measure of
    the work (rows visited), from the progress handler called every 1,000 instructions (the stdlib does not
    expose sqlite3_stmt_status)."""
    steps = 0

    def tick() -> int:
        nonlocal steps
        steps += 1
        return 0

    conn.set_progress_handler(tick, 1000)
    try:
        conn.execute(sql, params).fetchall()
    finally:
        conn.set_progress_handler(None, 0)
    return steps


def plan(conn: sqlite3.Connection, sql: str, params: tuple) -> list[str]:
    return [r[-1] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()]


def normalise(rows: list) -> list:
    return sorted(tuple(int(x) if isinstance(x, float) and x.is_integer() else x for x in r) for r in rows)


def detail_buckets(rows: list, detail_minutes: int) -> list:
    """rows(one) answers compared as the detail endpoint uses them: summed per (detail bucket, label)."""
    out: dict[tuple, list[int]] = {}
    for r in rows:
        slot = out.setdefault((floor_to(r[2], detail_minutes * 60), r[3]), [0] * len(COUNTERS))
        for i, v in enumerate(r[4:]):
            slot[i] += v
    return sorted((k, tuple(v)) for k, v in out.items())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    if not 1 <= args.repeats <= 1000:
        ap.error("--repeats out of range")
    source = args.data_dir / "heliograph.db"
    if not source.exists():
        ap.error(f"no {source}")
    scratch = args.data_dir / "metrics-explain-scratch.db"
    scratch.unlink(missing_ok=True)
    report: dict = {"source": str(source), "results": {}, "plans": {}, "segments": {}}
    names = ("totals(all profiles)", "totals(one)", "rows(one)", "errors(one)")
    kinds = ("current", "or-per-arm", "union-all", "5-min only")
    try:
        t = time.perf_counter()
        with (
            contextlib.closing(sqlite3.connect(source)) as src,
            contextlib.closing(sqlite3.connect(scratch)) as dst,
        ):
            src.backup(dst)
        print(f"copied {source} in {time.perf_counter() - t:.1f} s")
        conn = sqlite3.connect(scratch)
        conn.execute("PRAGMA journal_mode=WAL")
        ids = [r[0] for r in conn.execute("SELECT id FROM messaging_profiles ORDER BY created_at, id")]
        pid = conn.execute(
            "SELECT messaging_profile_id FROM profile_rollups WHERE width = 86400"
            " GROUP BY 1 ORDER BY sum(sent) + sum(received) DESC"
        ).fetchone()[0]
        by_width = dict(conn.execute("SELECT width, count(*) FROM profile_rollups GROUP BY width").fetchall())
        print(f"profile_rollups rows by width: {by_width}; {len(ids)} profiles")
        report["rollup_rows_by_width"] = by_width
        now = time.time_ns() // 1000
        results: dict = {}
        mismatches = []
        for window in WINDOWS:
            lo, hi = svc.window(now, window)
            segs = segments(lo, hi)
            series_segs = segments(lo, hi, svc._series_width(svc.DETAIL_WIDTH[window]))
            report["segments"][window] = {"totals": len(segs), "rows": len(series_segs)}
            for name in names:
                forms = variants(name, ids, pid, segs, series_segs)
                answers = {}
                key = f"{name} {window}"
                for kind in kinds:
                    sql, params = forms[kind]
                    wall, cpu, rows_ = timed(conn, sql, params, args.repeats)
                    results.setdefault(key, {})[kind] = {
                        "wall_ms": round(wall, 2),
                        "cpu_ms": round(cpu, 2),
                        "vm_steps_k": vm_steps_k(conn, sql, params),
                    }
                    answers[kind] = (
                        detail_buckets(rows_, svc.DETAIL_WIDTH[window]) if name == "rows(one)" else normalise(rows_)
                    )
                    if window in ("24h", "30d"):
                        report["plans"][f"{kind}: {key}"] = plan(conn, sql, params)
                mismatches += [
                    f"{key}: {k} differs from current" for k, a in answers.items() if a != answers["current"]
                ]
        report["results"] = results
        report["mismatches"] = mismatches
        conn.close()
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(str(scratch) + suffix).unlink(missing_ok=True)

    print()
    print("cells: median wall ms / cpu ms / thousands of SQLite VM instructions")
    head = f"| {'query':<28} | " + " | ".join(f"{k:>26}" for k in kinds) + " |"
    print(head)
    print("|" + "|".join("-" * len(c) for c in head.split("|")[1:-1]) + "|")
    for key, per in report["results"].items():
        cells = [f"{per[k]['wall_ms']:.2f} / {per[k]['cpu_ms']:.2f} / {per[k]['vm_steps_k']:,}" for k in kinds]
        print(f"| {key:<28} | " + " | ".join(f"{c:>26}" for c in cells) + " |")
    print("\nplans (30d):")
    for k, v in report["plans"].items():
        if k.endswith("30d"):
            print(f"  {k}: {' / '.join(v)}")
    print("\nsame answers in every variant:", "yes" if not report["mismatches"] else report["mismatches"])
    out = Path(__file__).resolve().parent / "results" / f"metrics-explain-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"JSON: {out.relative_to(out.parents[2])}")  # bench/results/…, as the other benchmarks print it
    return 1 if report["mismatches"] else 0


if __name__ == "__main__":
    raise SystemExit(main())

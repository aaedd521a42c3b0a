"""Soak mode (issue 15): send N messages open-loop at a fixed rate and watch memory and database size.

    python bench/send_bench.py --messages 1000000 [--soak-rate 500] [--soak-chunk 30] [--soak-max-minutes M]
        [--database postgresql://...]

The load goes in chunks (one bench/loadgen.py run of --soak-chunk seconds each, without --keep-ids: a
million ids are too many to keep). After every chunk one line is printed and kept in the JSON: messages
accepted so far, webhooks received (the receiver's /stats; /dump is never called), the backlog (accepted −
unique message.finalized), VmRSS and VmHWM of the API process and of its worker process, the database size
on disk (SQLite: heliograph.db + -wal + -shm; PostgreSQL: pg_database_size) and server CPU ms per message.

When the backlog grew in 3 chunks in a row (by more than half a second of load each time), the rate is
lowered by 20 % — the soak measures memory and size, not rate. It stops early, with the reason, when the
server dies, a chunk has > 1 % errors, no webhook arrives during a whole chunk while a backlog is waiting,
or --soak-max-minutes of sending have passed. Then it drains (bounded by --drain-timeout and
--stall-timeout), stops the server, counts messages by status in its database and writes
bench/results/<stamp>-soak.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import send_bench as sb

TARGET_MIB = 300.0
INBOUND_STATUSES = {"received", "webhook_delivered"}  # an inbound message's statuses
GROWING_CHUNKS = 3  # backlog growth in this many chunks in a row lowers the rate
LOWER_BY = 0.8
MIN_RATE = 20.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--messages", type=int, default=None, help="soak mode: send this many messages open-loop (bench/soak.py)"
    )
    parser.add_argument("--soak-rate", type=float, default=500.0, help="soak: msgs/s (default 500)")
    parser.add_argument("--soak-chunk", type=float, default=30.0, help="soak: seconds of load per chunk (default 30)")
    parser.add_argument(
        "--soak-max-minutes", type=float, default=None, help="soak: stop sending after this long, then drain and report"
    )


def db_bytes(hg: sb.Heliograph) -> int | None:
    """The database's size on disk: the SQLite file and its -wal/-shm, or pg_database_size."""
    if hg.database:
        done = subprocess.run(
            [*sb._psql(hg.database), "-Atc", "/* bench */ SELECT pg_database_size(current_database())"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        return int(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip().isdigit() else None
    files = list(hg.data_dir.glob("heliograph.db*"))
    return sum(f.stat().st_size for f in files if f.is_file()) or None


def _mib(kib: int | None) -> float | None:
    return None if kib is None else round(kib / 1024, 1)


def sample(hg: sb.Heliograph, started: float, accepted: int, base: dict, cpu0: float | None) -> dict:
    assert hg.server is not None and hg.receiver is not None
    stats = hg.stats()
    mem = sb.memory_kib(hg.server.pid)
    receiver = sb.memory_kib(hg.receiver.pid)
    finalized = stats["unique"]["message.finalized"] - base["unique"]["message.finalized"]
    cpu = hg.cpu()
    server_cpu = sb._delta(cpu0, cpu["server"])
    return {
        "elapsed_s": round(time.monotonic() - started, 1),
        "accepted": accepted,
        "webhooks": stats["total"] - base["total"],
        "finalized": finalized,
        "sent_webhooks": stats["unique"]["message.sent"] - base["unique"]["message.sent"],
        "backlog": accepted - finalized,
        "api_rss_mib": _mib(mem.get("VmRSS")),
        "api_hwm_mib": _mib(mem.get("VmHWM")),
        "worker_rss_mib": _mib(mem.get("children_VmRSS")),
        "worker_hwm_mib": _mib(mem.get("children_VmHWM")),
        "hwm_sum_mib": _mib(mem.get("VmHWM", 0) + mem.get("children_VmHWM", 0)),
        "rss_sum_mib": _mib(mem.get("VmRSS", 0) + mem.get("children_VmRSS", 0)),
        "receiver_rss_mib": _mib(receiver.get("VmRSS")),
        "db_mib": None if (size := db_bytes(hg)) is None else round(size / 2**20, 1),
        "server_cpu_ms_per_msg": sb._per_msg(server_cpu, accepted),
        "duplicates": stats["duplicates"],
        "retried": stats["retried"],
    }


HEADER = (
    f"{'chunk':>5} {'t(s)':>7} {'rate':>5} {'accepted':>9} {'webhooks':>9} {'backlog':>7} "
    f"{'api RSS/HWM':>13} {'worker RSS/HWM':>15} {'HWM sum':>8} {'DB MiB':>7} {'cpu ms/msg':>10}"
)


def line(i: int | str, rate: float, s: dict) -> str:
    def pair(a: Any, b: Any) -> str:
        return f"{a}/{b}"

    return (
        f"{i!s:>5} {s['elapsed_s']:>7} {rate:>5.0f} {s['accepted']:>9} {s['webhooks']:>9} {s['backlog']:>7} "
        f"{pair(s['api_rss_mib'], s['api_hwm_mib']):>13} {pair(s['worker_rss_mib'], s['worker_hwm_mib']):>15} "
        f"{s['hwm_sum_mib']!s:>8} {s['db_mib']!s:>7} {s['server_cpu_ms_per_msg']!s:>10}"
    )


def slope_mib_per_100k(samples: list[dict], key: str) -> float | None:
    """Least-squares slope of `key` against messages accepted over the second half of the run (after the
    start-up growth): MiB per 100,000 messages. Near 0 = flat; a steady positive value = something grows."""
    points = [(s["accepted"], s[key]) for s in samples[len(samples) // 2 :] if s.get(key) is not None]
    if len(points) < 3:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    if not var:
        return None
    return round(100_000 * sum((x - mx) * (y - my) for x, y in points) / var, 2)


def drain(hg: sb.Heliograph, accepted: int, base: dict, args: argparse.Namespace) -> dict:
    """Wait (bounded) until unique message.finalized and message.sent reach the accepted count. Counts only."""
    stall = max(args.stall_timeout, 5 * args.dlr_delay_ms / 1000)
    started = time.monotonic()
    last_total, last_change = -1, started
    while True:
        stats = hg.stats()
        now = time.monotonic()
        if stats["total"] != last_total:
            last_total, last_change = stats["total"], now
        finalized = stats["unique"]["message.finalized"] - base["unique"]["message.finalized"]
        sent = stats["unique"]["message.sent"] - base["unique"]["message.sent"]
        if finalized >= accepted and sent >= accepted:
            ended_by = "complete"
        elif now - started >= args.drain_timeout:
            ended_by = "timeout"
        elif now - last_change >= stall:
            ended_by = "stalled"
        else:
            time.sleep(0.5)
            continue
        return {"waited_s": round(now - started, 1), "ended_by": ended_by}


def run(args: argparse.Namespace, work: Path, hg: sb.Heliograph, report: dict) -> None:
    """The chunks, then the drain. Fills report["soak"] as it goes, so an interrupted run keeps its samples."""
    assert hg.server is not None
    soak: dict[str, Any] = {"messages_requested": args.messages, "rate_start": args.soak_rate, "chunks": []}
    report["soak"] = soak
    base = hg.stats()
    started = time.monotonic()
    cpu0 = hg.cpu()["server"]
    first = sample(hg, started, 0, base, cpu0)
    soak["start"] = first
    print(HEADER, flush=True)
    print(line("start", 0, first), flush=True)
    rate, accepted, sent_total, errors, growing = args.soak_rate, 0, 0, 0, 0
    deadline = started + 60 * args.soak_max_minutes if args.soak_max_minutes else None
    previous_backlog = 0
    stop_reason = None
    i = 0
    while sent_total < args.messages:
        if deadline and time.monotonic() >= deadline:
            stop_reason = f"--soak-max-minutes {args.soak_max_minutes:g} reached"
            break
        i += 1
        count = min(int(rate * args.soak_chunk), args.messages - sent_total)
        chunk_started = time.monotonic()
        chunk_args = argparse.Namespace(**{**vars(args), "duration": (count + 0.5) / rate})
        result = sb.run_loadgen(
            f"soak-{i}", work, hg.url, "open", chunk_args, hg.api_key,
            rate=rate, max_requests=count, **{"from": hg.sender},
        )  # fmt: skip
        (work / f"soak-{i}.json").unlink(missing_ok=True)
        sent_total += result["sent"] + result["skipped"]
        accepted += result["accepted"]
        bad = result["sent"] - result["accepted"] + result["skipped"]
        errors += bad
        if not hg.server.alive():
            stop_reason = f"the server exited with {hg.server.popen.returncode}"
            break
        s = sample(hg, started, accepted, base, cpu0)
        s["chunk"] = i
        s["rate"] = rate
        s["chunk_accepted"] = result["accepted"]
        s["chunk_errors"] = bad
        s["post_p99_ms"] = sb.pct(result["latencies_ms"], 99)
        s["chunk_wall_s"] = round(time.monotonic() - chunk_started, 1)
        s["loadgen_elapsed_s"] = round(result["elapsed"], 1)
        s["late_starts"] = result["late_starts"]
        s["max_start_lag_ms"] = result["max_start_lag_ms"]
        soak["chunks"].append(s)
        print(line(i, rate, s), flush=True)
        if bad > 0.01 * max(1, result["sent"]):
            stop_reason = (
                f"chunk {i}: {bad} of {result['sent']} requests failed: {result['status_counts']} "
                f"{result['exceptions']} {result['error_examples'][:2]}"
            )
            break
        previous = soak["chunks"][-2] if len(soak["chunks"]) > 1 else first
        if s["backlog"] > 0 and s["finalized"] == previous["finalized"]:
            stop_reason = f"chunk {i}: no message.finalized arrived during the chunk (backlog {s['backlog']})"
            break
        growing = growing + 1 if s["backlog"] > previous_backlog + 0.5 * rate else 0
        previous_backlog = s["backlog"]
        if growing >= GROWING_CHUNKS:
            new_rate = round(rate * LOWER_BY, 1)
            print(f"      backlog grew in {growing} chunks in a row: rate {rate:g} -> {new_rate:g} msgs/s", flush=True)
            soak.setdefault("rate_changes", []).append({"after_chunk": i, "from": rate, "to": new_rate})
            rate, growing = new_rate, 0
            if rate < MIN_RATE:
                stop_reason = f"rate fell below {MIN_RATE:g} msgs/s"
                break
    soak["stop_reason"] = stop_reason
    soak["sending_s"] = round(time.monotonic() - started, 1)
    soak["accepted"] = accepted
    soak["request_errors"] = errors
    if stop_reason:
        print(f"      stopped early: {stop_reason}", flush=True)
    print(f"      sent {sent_total}, accepted {accepted}; draining ...", flush=True)
    soak["drain"] = drain(hg, accepted, base, args)
    end = sample(hg, started, accepted, base, cpu0)
    soak["end"] = end
    print(line("end", 0, end), flush=True)
    print(f"      drain: {soak['drain']}", flush=True)


def summary(report: dict) -> dict:
    soak = report.get("soak") or {}
    first, end = soak.get("start") or {}, soak.get("end") or {}
    chunks = soak.get("chunks", [])
    accepted = soak.get("accepted", 0)
    samples = [*chunks, end] if end else chunks
    peak = max((s["hwm_sum_mib"] for s in samples if s.get("hwm_sum_mib") is not None), default=None)
    db_after = report.get("server_db_after") or {}
    stats = report.get("receiver") or {}
    out = {
        "messages_accepted": accepted,
        "messages_requested": soak.get("messages_requested"),
        "stop_reason": soak.get("stop_reason"),
        "peak_rss_sum_mib": peak,
        "peak_rss_target_mib": TARGET_MIB,
        "peak_rss_pass": None if peak is None else peak < TARGET_MIB,
        "rss_sum_start_mib": first.get("rss_sum_mib"),
        "rss_sum_end_mib": end.get("rss_sum_mib"),
        "api_rss_start_end_mib": [first.get("api_rss_mib"), end.get("api_rss_mib")],
        "worker_rss_start_end_mib": [first.get("worker_rss_mib"), end.get("worker_rss_mib")],
        "rss_slope_mib_per_100k_msgs": {
            k: slope_mib_per_100k(chunks, k) for k in ("api_rss_mib", "worker_rss_mib", "receiver_rss_mib")
        },
        "db_mib_end": end.get("db_mib"),
        "db_mib_after_stop": soak.get("db_mib_after_stop"),
        "db_mib_per_million": (
            round((end["db_mib"] - (first.get("db_mib") or 0)) * 1_000_000 / accepted, 1)
            if accepted and end.get("db_mib") is not None
            else None
        ),
        "lost_messages": max(0, accepted - end.get("finalized", 0)) if end else None,
        "lost_webhooks": (
            max(0, accepted - end.get("finalized", 0)) + max(0, accepted - end.get("sent_webhooks", 0)) if end else None
        ),
        "webhook_duplicates": stats.get("duplicates"),
        "webhook_retried": stats.get("retried"),
        "request_errors": soak.get("request_errors"),
        "server_cpu_ms_per_msg": end.get("server_cpu_ms_per_msg"),
        "server_db_messages_by_status": {k: v["count"] for k, v in (db_after.get("messages_by_status") or {}).items()},
        # outbound messages without completed_at (inbound ones, e.g. sends to the sandbox's own number that the
        # generator's random destinations hit, never have one)
        "server_db_not_completed": sum(
            v["not_completed"] or 0
            for status, v in (db_after.get("messages_by_status") or {}).items()
            if status not in INBOUND_STATUSES
        ),
        "rate_changes": soak.get("rate_changes", []),
    }
    return out


def render(s: dict) -> str:
    ok = {True: "PASS", False: "FAIL", None: "n/a"}[s["peak_rss_pass"]]
    return "\n".join(
        [
            f"messages accepted                 {s['messages_accepted']:,} of {s['messages_requested']:,}"
            + (f" (stopped: {s['stop_reason']})" if s["stop_reason"] else ""),
            f"[{ok}] peak RSS, API + worker (VmHWM)  {s['peak_rss_sum_mib']} MiB (target < {TARGET_MIB:g} MiB)",
            f"RSS API + worker, start -> end    {s['rss_sum_start_mib']} -> {s['rss_sum_end_mib']} MiB "
            f"(API {s['api_rss_start_end_mib']}, worker {s['worker_rss_start_end_mib']})",
            f"RSS slope, 2nd half (MiB/100k)    {s['rss_slope_mib_per_100k_msgs']}",
            f"database size                     {s['db_mib_end']} MiB at the end "
            f"({s['db_mib_after_stop']} after stop); "
            f"{s['db_mib_per_million']} MiB per million messages",
            f"lost messages / webhooks          {s['lost_messages']} / {s['lost_webhooks']} "
            f"(duplicates {s['webhook_duplicates']}, retried {s['webhook_retried']}, "
            f"request errors {s['request_errors']})",
            f"server CPU ms/msg                 {s['server_cpu_ms_per_msg']}",
            f"server DB messages by status      {s['server_db_messages_by_status']} "
            f"(outbound not completed {s['server_db_not_completed']})",
            f"rate changes                      {s['rate_changes'] or 'none'}",
        ]
    )


def soak_main(args: argparse.Namespace, work: Path, report: dict) -> int:
    """`--messages N`: the soak. Exit code 1 when the run itself broke (not when a target was missed)."""
    hg = sb.Heliograph(args, work)
    failed = False
    try:
        print(
            f"[soak] starting heliograph serve ({report['meta']['database']}) and the webhook receiver ...", flush=True
        )
        hg.start()
        report["meta"]["smoke"] = hg.smoke()
        print(
            f"[soak] {args.messages:,} messages open-loop at {args.soak_rate:g} msgs/s, {args.soak_chunk:g} s chunks",
            flush=True,
        )
        run(args, work, hg, report)
        report["receiver"] = hg.stats()
        report["meta"]["server_memory_kib"] = sb.memory_kib(hg.server.pid)
    except BaseException as exc:
        failed = True
        print(f"\nsoak failed: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        if hg.server is not None:
            print(f"server log tail ({hg.server.log_path}):\n{hg.server.log_tail()}", file=sys.stderr)
        report["error"] = f"{exc.__class__.__name__}: {exc}"
    finally:
        for sig in (sb.signal.SIGINT, sb.signal.SIGTERM, sb.signal.SIGHUP):
            sb.signal.signal(sig, sb.signal.SIG_IGN)
        hg.stop()
        if hg.server is not None:
            if "soak" in report:
                size = db_bytes(hg)
                report["soak"]["db_mib_after_stop"] = None if size is None else round(size / 2**20, 1)
            report["server_db_after"] = (
                sb.pg_db_state(args.database) if args.database else sb.db_state(hg.data_dir / "heliograph.db")
            )
            report["meta"]["server_log_bytes"] = hg.server.log_path.stat().st_size
        sb.stop_all()
    report["meta"]["server_error_log_lines"] = sb._count_error_lines(work / "server.log")
    report["summary"] = summary(report)
    sb.RESULTS.mkdir(exist_ok=True)
    out = sb.RESULTS / f"{sb.STAMP}-soak.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    print()
    print(render(report["summary"]))
    print(f"\nJSON: {out.relative_to(sb.BENCH.parent)}")
    if args.keep_work or failed:
        print(f"work dir kept: {work}")
    else:
        sb.shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit("run it through send_bench.py --messages N")

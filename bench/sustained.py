"""The sustained end-to-end rate: the highest fixed (open-loop) rate that holds, found by one search that
runs the same way against Heliograph and against the end-to-end ceiling (bench/e2e_ceiling_app.py).

A rate *holds* when every accepted message's message.sent and message.finalized arrive (nothing lost),
the generator kept up (accepted ≥ 97 % of offered), the backlog does not grow (the last webhook arrives
< 1 s after the load ends) and end-to-end p99 (scheduled POST → message.finalized received) < 1 s.
The rate climbs by `step` while it holds, then bisects between the last good and the first bad until they
are within `--resolution` (5 % by default) of each other.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import send_bench as sb


def holds(f: dict, rate: float) -> tuple[bool, str]:
    p99 = (f["end_to_end_ms"] or {}).get("p99")
    reasons = []
    if f["lost_messages"] or f["lost_webhooks"]:
        reasons.append(f"lost {f['lost_messages']} messages / {f['lost_webhooks']} webhooks")
    if f["accepted_per_s"] < 0.97 * rate:
        reasons.append(f"accepted {f['accepted_per_s']}/s of {rate:g}/s offered")
    if f["drain_after_load_s"] >= 1.0:
        reasons.append(f"backlog: last webhook {f['drain_after_load_s']} s after the load")
    if p99 is None or p99 >= 1000:
        reasons.append(f"e2e p99 {p99} ms")
    return not reasons, "; ".join(reasons) or "holds"


def search(target: Any, args: argparse.Namespace, name: str, **loadgen: Any) -> dict:
    """`target` is a started sb.Heliograph or E2ECeiling. Returns the sustained rate and every step."""
    steps: list[dict] = []

    def run(rate: float) -> bool:
        f = sb.traffic_phase(f"{name}-{rate:g}", target, args, "open", rate=rate, **loadgen)
        ok, why = holds(f, rate)
        steps.append({"rate": rate, "holds": ok, "why": why, "figures": f})
        print(f"      {name:10} {rate:7.0f}/s  {'holds' if ok else 'fails'}: {why}", flush=True)
        return ok

    good, bad, rate = 0.0, None, args.start_rate
    while rate <= args.max_rate:
        if run(rate):
            good, rate = rate, round(rate * args.step)
        else:
            bad = rate
            break
    while bad is not None and good and bad - good > args.resolution * good:
        middle = round((good + bad) / 2)
        if run(middle):
            good = middle
        else:
            bad = middle
    best = next((s for s in steps if s["rate"] == good and s["holds"]), None)
    return {
        "sustained_per_s": good,
        "first_failing_per_s": bad,
        "steps": steps,
        "at_sustained": best and best["figures"],
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--start-rate", type=float, default=200.0, help="sustained search: first rate")
    parser.add_argument("--max-rate", type=float, default=8000.0, help="sustained search: highest rate tried")
    parser.add_argument("--step", type=float, default=1.4, help="sustained search: rate multiplier while it holds")
    parser.add_argument(
        "--resolution",
        type=float,
        default=0.05,
        help="sustained search: bisect until the first failing rate is within this fraction of the last holding one",
    )


class E2ECeiling:
    """The end-to-end ceiling app and its own webhook receiver, with the interface sb.traffic_phase uses."""

    def __init__(self, args: argparse.Namespace, work: Path, processes: int = 2) -> None:
        self.args, self.work, self.processes = args, work, processes
        self.port, self.receiver_port = sb.free_port(), sb.free_port()
        self.url = f"http://{sb.HOST}:{self.port}"
        self.receiver_url = f"http://{sb.HOST}:{self.receiver_port}"
        self.sender = "+13125550100"
        self.server: sb.Proc | None = None
        self.receiver: sb.Proc | None = None

    def start(self) -> None:
        argv = [sb.PY, str(sb.BENCH / "webhook_receiver.py"), "--port", str(self.receiver_port)]
        self.receiver = sb.Proc("ceiling-receiver", argv, self.work)
        sb.wait_for(lambda: sb.healthy(self.receiver_url + "/stats", self.receiver), 30, what="the receiver")
        argv = [sb.PY, str(sb.BENCH / "e2e_ceiling_app.py"), "--port", str(self.port)]
        argv += ["--webhook-url", self.receiver_url + "/hook", "--dlr-delay-ms", str(self.args.dlr_delay_ms)]
        argv += ["--processes", str(self.processes)]
        self.server = sb.Proc("e2e-ceiling", argv, self.work)
        sb.wait_for(lambda: sb.healthy(self.url + "/healthz", self.server), 30, what="the e2e ceiling app")

    def stats(self) -> dict:
        return json.loads(sb.http("GET", self.receiver_url + "/stats", timeout=10)[1])

    def dump(self) -> dict:
        return json.loads(sb.http("GET", self.receiver_url + "/dump", timeout=60)[1])

    def cpu(self) -> dict[str, float | None]:
        assert self.server and self.receiver
        return {"server": sb.cpu_seconds(self.server.pid), "receiver": sb.cpu_seconds(self.receiver.pid)}

    def stop(self) -> None:
        for proc in (self.server, self.receiver):
            if proc is not None:
                proc.stop()
                if proc in sb.PROCS:
                    sb.PROCS.remove(proc)


def sustained_phase(args: argparse.Namespace, work: Path, hg: sb.Heliograph) -> dict:
    """Both searches, the ceiling first (on a quiet machine: Heliograph's server idles meanwhile)."""
    ceiling = E2ECeiling(args, work)
    ceiling.start()
    try:
        print("      end-to-end ceiling:", flush=True)
        top = search(ceiling, args, "ceiling")
    finally:
        ceiling.stop()
    print("      heliograph:", flush=True)
    ours = search(hg, args, "heliograph")
    ratio = round(ours["sustained_per_s"] / top["sustained_per_s"], 3) if top["sustained_per_s"] else None
    return {"e2e_ceiling": top, "heliograph": ours, "ratio": ratio}


def table(report: dict) -> str:
    rows = [("", "e2e ceiling", "heliograph")]
    c, h = report["e2e_ceiling"], report["heliograph"]

    def at(r: dict, key: str) -> str:
        f = r["at_sustained"]
        if not f:
            return "-"
        if key.startswith("e2e"):
            return str(f["end_to_end_ms"].get(key[4:]))
        if key == "cpu_cores_during_load":
            cores = f.get(key) or {}
            return " ".join(f"{k} {v}" for k, v in cores.items() if k != "wall_s")
        if key == "rows_per_write_transaction":
            d = f.get(key) or {}
            return "/".join(str(d.get(w, "-")) for w in sb.WRITERS) if d else "-"
        if key.startswith("cpu/"):
            return str((f.get("cpu_ms_per_msg") or {}).get(key[4:]))
        return str(f.get(key))

    rows.append(("sustained rate (msgs/s)", f"{c['sustained_per_s']:g}", f"{h['sustained_per_s']:g}"))
    failing = [str(r.get("first_failing_per_s") or "-") for r in (c, h)]
    rows.append(("first failing rate (msgs/s)", *failing))
    for label, key in (
        ("e2e p50 at that rate (ms)", "e2e p50"),
        ("e2e p99 at that rate (ms)", "e2e p99"),
        ("server CPU ms/msg (all processes)", "server_cpu_ms_per_msg"),
        ("  API process (ceiling: its parent)", "cpu/api_process"),
        ("  worker process (ceiling: its workers)", "cpu/server_children"),
        ("receiver CPU ms/msg", "cpu/receiver"),
        ("generator CPU ms/msg", "cpu/generator"),
        ("cores used during load", "cpu_cores_during_load"),
        ("rows per write txn (commit/disp/rcpt/wh)", "rows_per_write_transaction"),
    ):
        rows.append((label, at(c, key), at(h, key)))
    rows.append(("heliograph ÷ ceiling", "", str(report["ratio"])))
    widths = [max(len(str(r[i])) for r in rows) + 2 for i in range(3)]
    return "\n".join("".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True)) for r in rows)


if __name__ == "__main__":
    sys.exit("run it through send_bench.py --sustained or carrier_bench.py")

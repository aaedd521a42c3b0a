"""Carrier benchmark: the sustained end-to-end rate through an SMPP connector to the test SMSC, and
through the simulator connector, in the same run, against the same server.

    python bench/carrier_bench.py [--duration 30] [--quick] [--binds 2] [--window 64]

One `heliograph serve` (sandbox), one webhook receiver (bench/webhook_receiver.py) and the independent
test SMSC (tests/smsc/smsc.mjs on the npm `smpp` package; `npm install` in tests/smsc first), all on
127.0.0.1. Routes: +44 → the SMSC (receipts on, 200 ms after submit_sm, like the simulator's default
receipt delay); anything else → the simulator. For each target the same open-loop search runs: fixed
rates, each for --duration seconds; a rate *holds* when every accepted message's message.sent and
message.finalized arrive, nothing is lost, the backlog does not grow (the last webhook comes < 1 s after
the load ends) and end-to-end p99 (scheduled POST → message.finalized received) < 1 s. The rate climbs
by --step while it holds, then bisects between the last good and the first bad rate to --resolution.

Prints one table; the full figures go to bench/results/carrier-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import send_bench as sb
import sustained

SMSC_DIR = sb.BENCH.parent / "tests" / "smsc"
TARGETS = {"simulator": ("+1312555", 4), "smpp": ("+4477009", 5)}


def start_smsc(work: Path) -> tuple[sb.Proc, int, int]:
    if not (SMSC_DIR / "node_modules" / "smpp").is_dir():
        raise SystemExit("the test SMSC needs `npm install` in tests/smsc")
    port, control = sb.free_port(), sb.free_port()
    argv = ["node", str(SMSC_DIR / "smsc.mjs"), "--port", str(port), "--control-port", str(control)]
    argv += ["--account", "heliograph:benchpw"]
    proc = sb.Proc("smsc", argv, work)

    def listening() -> bool:
        try:
            return bool(json.loads(sb.http("GET", f"http://{sb.HOST}:{control}/health")[1]).get("listening"))
        except OSError:
            return False

    sb.wait_for(listening, 30, what="the test SMSC")
    return proc, port, control


def admin(hg: sb.Heliograph, *args: str) -> str:
    done = subprocess.run(
        [sb.PY, "-m", "heliograph", *args, "--data-dir", str(hg.data_dir)],
        env=hg.env, capture_output=True, text=True, timeout=60, cwd=sb.BENCH.parent,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"heliograph {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def link_state(hg: sb.Heliograph, name: str) -> str:
    return {c["name"]: c for c in json.loads(admin(hg, "connectors", "list", "--json"))}[name]["state"]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Sustained rate: SMPP connector vs simulator connector, one run.")
    p.add_argument("--duration", type=float, default=30.0, help="seconds per rate (default 30)")
    p.add_argument("--quick", action="store_true", help="10 s per rate")
    sustained.add_arguments(p)
    p.add_argument("--targets", default="simulator,smpp", help="which searches to run (comma-separated)")
    p.add_argument("--binds", type=int, default=2, help="SMPP binds")
    p.add_argument("--window", type=int, default=64, help="outstanding submit_sm per bind")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--keep-work", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.duration = 10.0
    # what send_bench's phases expect
    args.dlr_delay_ms, args.sender_mps, args.server_env = 200, 1_000_000, []
    args.stall_timeout, args.drain_timeout, args.profile = 15.0, 60.0, False
    args.database, args.processes = None, 1
    return args


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, sb._on_signal)
    work = Path(tempfile.mkdtemp(prefix="heliograph-carrier-bench-"))
    report: dict[str, Any] = {
        "meta": {
            "timestamp": dt.datetime.now().isoformat(timespec="seconds"),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "duration_s": args.duration,
            "binds": args.binds,
            "window": args.window,
            "receipt_delay_ms": 200,
        }
    }
    try:
        smsc, smpp_port, _control = start_smsc(work)
        hg = sb.Heliograph(args, work)
        hg.start()
        report["smoke"] = hg.smoke()
        admin(
            hg, "connectors", "add", "smpp", "smsc", "--host", sb.HOST, "--port", str(smpp_port),
            "--system-id", "heliograph", "--password", "benchpw",
            "--binds", str(args.binds), "--window", str(args.window),
        )  # fmt: skip
        admin(hg, "routes", "add", "uk", "--connector", "smsc", "--prefix", "+44", "--priority", "10")
        sb.wait_for(lambda: link_state(hg, "smsc") == "up", 30, what="the SMPP link")
        for target in args.targets.split(","):
            prefix, digits = TARGETS[target]
            report[target] = sustained.search(hg, args, target, to_prefix=prefix, to_digits=digits)
        sim = report.get("simulator", {}).get("sustained_per_s", 0)
        smpp = report.get("smpp", {}).get("sustained_per_s", 0)
        report["ratio_smpp_to_simulator"] = round(smpp / sim, 3) if sim else None
        report["smsc_cpu_s"] = sb.cpu_seconds(smsc.pid)
    finally:
        sb.stop_all()
    sb.RESULTS.mkdir(exist_ok=True)
    out = sb.RESULTS / f"carrier-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=1, default=str))
    print(table(report))
    print(f"\nfull figures: {out}")
    if not args.keep_work:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 0


def table(report: dict) -> str:
    empty = {"sustained_per_s": 0, "at_sustained": None}
    report = {"simulator": empty, "smpp": empty, **report}
    rows = [("", "simulator", "smpp")]
    for label, key in (
        ("sustained rate (msgs/s)", None),
        ("e2e p50 at that rate (ms)", "p50"),
        ("e2e p99 at that rate (ms)", "p99"),
    ):
        cells = []
        for target in ("simulator", "smpp"):
            r = report[target]
            if key is None:
                cells.append(f"{r['sustained_per_s']:g}")
            else:
                f = r["at_sustained"]
                cells.append(f"{f['end_to_end_ms'].get(key)}" if f else "-")
        rows.append((label, *cells))
    cpu = []
    for target in ("simulator", "smpp"):
        f = report[target]["at_sustained"]
        cpu.append(f"{f['server_cpu_ms_per_msg']}" if f else "-")
    rows.append(("server CPU ms/msg at that rate", *cpu))
    rows.append(("smpp ÷ simulator", "", f"{report['ratio_smpp_to_simulator']}"))
    widths = [max(len(r[i]) for r in rows) + 2 for i in range(3)]
    return "\n".join("".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


if __name__ == "__main__":
    sys.exit(main())

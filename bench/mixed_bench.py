"""Heliograph mixed-workload benchmark: the send benchmark's phases with a mix of message kinds.

    python bench/mixed_bench.py [--mix sms=50,ucs2=15,mms=10,pool=15,scheduled=10]
                                               [--duration 20] [--connections 64] [--quick] [--wait-scheduled]

Same phases, processes, bounds and figures as bench/send_bench.py (whose pieces it reuses), but every
request is one of these kinds, drawn by weight (bench/loadgen.py --mix):

  sms        POST /v2/messages from the sandbox long code, one GSM-7 part (the foundation workload's body)
  ucs2       POST /v2/messages, 181 Cyrillic characters: UCS-2, 3 parts
  mms        POST /v2/messages with media_urls = a 6 KB PNG served by the benchmark's own receiver on
             127.0.0.1 (the server fetches it before submitting: size, type, sha256)
  pool       POST /v2/messages/number_pool with messaging_profile_id: the default profile's number pool
             (enabled with PATCH number_pool_settings {long_code_weight: 1, toll_free_weight: 1}) over its
             two sandbox numbers plus POOL_NUMBERS, given to it with `heliograph numbers add --profile`
             before the server starts
  scheduled  POST /v2/messages/schedule with send_at = now + 360 s. The server refuses send_at less than
             5 minutes ahead (services/sending.py SCHEDULE_MIN_SECONDS = 300, no setting changes it), so
             within the load phases a scheduled message is only *accepted*: it is left out of the
             end-to-end, webhook and loss figures, and the server's DB must still hold it as `scheduled`
             after the run. --wait-scheduled keeps the server up until they are all due and reports how
             late their message.finalized arrived after send_at (adds ~6 minutes).

The ceiling phase sends the same mix to the bare Starlette app (same bodies, same generator work), and
the accepted rate is reported as a ratio of it (target >= 30 %). Per-sender throughput limits are raised
(HELIOGRAPH_MPS_* = --sender-mps, default 1e6) as in send_bench, and the output says so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadgen
import send_bench as sb

from heliograph.services.sending import SCHEDULE_MIN_SECONDS

DEFAULT_MIX = "sms=50,ucs2=15,mms=10,pool=15,scheduled=10"
POOL_NUMBERS = ("+13125550301", "+13125550302", "+18885550301", "+18885550302")  # + the 2 sandbox numbers
SCHEDULE_AHEAD_S = SCHEDULE_MIN_SECONDS + 60  # the server's minimum, plus slack for the request itself
MEDIA_PATH = "/media/bench.png"
TARGET_RATIO_PCT = 30.0
MPS_DEFAULTS = "10 / 20 / 1000 / 10"  # settings.py: long code / toll-free / short code / alphanumeric


class MixedHeliograph(sb.Heliograph):
    """The server with a number pool on its default profile, and the receiver also serving the MMS media."""

    def cli(self, *argv: str) -> str:
        done = subprocess.run(
            [sb.PY, "-m", "heliograph", *argv, "--data-dir", str(self.data_dir)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=sb.BENCH.parent,
        )
        if done.returncode != 0:
            raise RuntimeError(f"heliograph {' '.join(argv)} failed ({done.returncode}): {done.stderr[-2000:]}")
        return done.stdout

    def start(self) -> None:
        self.receiver = sb.Proc(
            "receiver", [sb.PY, str(sb.BENCH / "webhook_receiver.py"), "--port", str(self.receiver_port)], self.work
        )
        sb.wait_for(lambda: sb.healthy(self.receiver_url + "/stats", self.receiver), 30, what="the webhook receiver")
        self.data_dir.mkdir(parents=True)
        # before the server starts: bootstrap the sandbox account (re-adding one of its own numbers is a
        # no-op that runs the bootstrap), read the default profile, give it the pool numbers
        self.cli("numbers", "add", "+13125550100")
        profile_id = json.loads(self.cli("info", "--json"))["messaging_profile_id"]
        for number in POOL_NUMBERS:
            self.cli("numbers", "add", number, "--profile", profile_id)
        argv = [sb.PY, "-m", "heliograph", "serve", "--port", str(self.port), "--data-dir", str(self.data_dir)]
        self.server = sb.Proc("server", argv, self.work, env=self.env)
        sb.wait_for(lambda: sb.healthy(self.url + "/healthz", self.server), 60, what="heliograph serve")
        self.info = json.loads(self.cli("info", "--json"))
        status, body = self.api(
            "PATCH",
            f"/v2/messaging_profiles/{self.info['messaging_profile_id']}",
            {
                "webhook_url": self.receiver_url + "/hook",
                "number_pool_settings": {"long_code_weight": 1, "toll_free_weight": 1},
            },
        )
        if status != 200:
            raise RuntimeError(f"PATCH messaging profile answered {status}: {body[:500]!r}")
        self.info["number_pool_settings"] = json.loads(body)["data"].get("number_pool_settings")

    @property
    def media_url(self) -> str:
        return self.receiver_url + MEDIA_PATH

    def mix_flags(self, args: argparse.Namespace) -> dict[str, Any]:
        return {
            "mix": args.mix,
            "media_url": self.media_url,
            "profile_id": self.info["messaging_profile_id"],
            "schedule_ahead": SCHEDULE_AHEAD_S,
        }

    def smoke_all(self) -> dict:
        """One request of each kind before any load; every non-scheduled one must reach `delivered`."""
        profile_id = self.info["messaging_profile_id"]
        send_at = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=SCHEDULE_AHEAD_S)).isoformat(timespec="seconds")
        requests = {
            "sms": ("/v2/messages", {"from": self.sender, "to": "+13125550123", "text": "smoke sms"}),
            "ucs2": ("/v2/messages", {"from": self.sender, "to": "+13125550123", "text": loadgen.UCS2_TEXT}),
            "mms": (
                "/v2/messages",
                {"from": self.sender, "to": "+13125550123", "text": "smoke mms", "media_urls": [self.media_url]},
            ),
            "pool": (
                "/v2/messages/number_pool",
                {"messaging_profile_id": profile_id, "to": "+13125550123", "text": "smoke pool"},
            ),
            "scheduled": (
                "/v2/messages/schedule",
                {"from": self.sender, "to": "+13125550123", "text": "smoke scheduled", "send_at": send_at},
            ),
        }
        out: dict[str, Any] = {}
        ids: dict[str, str] = {}
        started = time.monotonic()
        for kind, (path, body) in requests.items():
            status, raw = self.api("POST", path, body)
            if status != 200:
                raise RuntimeError(f"smoke {kind}: {path} answered {status}: {raw[:500]!r}")
            data = json.loads(raw)["data"]
            ids[kind] = data["id"]
            out[kind] = {
                "type": data.get("type"),
                "encoding": data.get("encoding"),
                "parts": data.get("parts"),
                "from": (data.get("from") or {}).get("phone_number"),
                "status": (data.get("to") or [{}])[0].get("status"),
            }
        waiting = {k: i for k, i in ids.items() if k != "scheduled"}

        def finalized() -> bool:
            return all(i in self.dump()["final_by_id"] for i in waiting.values())

        sb.wait_for(finalized, 60, 0.1, "the smoke messages' message.finalized")
        final = self.dump()["final_by_id"]
        for kind, message_id in waiting.items():
            out[kind]["final_status"] = final[message_id]
            if final[message_id] != "delivered":
                raise RuntimeError(f"smoke {kind} ended {final[message_id]}, not delivered: {out[kind]}")
        if out["ucs2"]["encoding"] != "UCS-2" or out["ucs2"]["parts"] != 3:
            raise RuntimeError(f"smoke ucs2 is not 3 UCS-2 parts: {out['ucs2']}")
        if out["mms"]["type"] != "MMS" or self.stats().get("media_fetches", 0) < 1:
            raise RuntimeError(f"smoke mms: not an MMS, or its media was never fetched: {out['mms']}")
        out["end_to_end_ms"] = round((time.monotonic() - started) * 1000, 1)
        out["scheduled_id"] = ids["scheduled"]
        return out


# ---------------------------------------------------------------------------------------------- phases


def kind_figures(result: dict, dump: dict, accepted: list[tuple], kinds_of: list[str]) -> dict[str, dict]:
    """Per kind: counts, POST latency, end to end, losses, final statuses, what the answers said."""
    first_final = dump["first"]["message.finalized"]
    first_sent = dump["first"]["message.sent"]
    final_by_id = dump.get("final_by_id", {})
    elapsed = max(result["elapsed"] or 0, 1e-9)
    by_kind: dict[str, list[tuple]] = {}
    for sample, kind in zip(accepted, kinds_of, strict=True):
        by_kind.setdefault(kind, []).append(sample)
    out: dict[str, dict] = {}
    for kind, ks in result["kinds"].items():
        samples = by_kind.get(kind, [])
        non200 = {k: v for k, v in ks["status_counts"].items() if k != "200"}
        fig: dict[str, Any] = {
            "sent": ks["sent"],
            "accepted": ks["accepted"],
            "accepted_per_s": round(ks["accepted"] / elapsed, 1),
            "non_200": non200,
            "exceptions": ks["exceptions"],
            "post_latency_ms": sb.dist(ks["latencies_ms"]),
            "answers": ks["answers"],
        }
        if kind == "pool":
            fig["distinct_pool_senders"] = len(ks["distinct_senders"])
            fig["pool_senders"] = ks["distinct_senders"]
        if kind == "scheduled":
            fig["note"] = f"accepted only: send_at = now + {SCHEDULE_AHEAD_S} s, after the phase"
        else:
            e2e = [(first_final[i] - t) * 1000 for i, t, _ in samples if i in first_final]
            fig["end_to_end_ms"] = sb.dist(e2e)
            fig["lost_messages"] = sum(1 for i, _, _ in samples if i not in first_final)
            fig["lost_webhooks"] = fig["lost_messages"] + sum(1 for i, _, _ in samples if i not in first_sent)
            fig["final_statuses"] = dict(Counter(final_by_id.get(i, "none") for i, _, _ in samples))
        out[kind] = fig
    return out


def mixed_phase(name: str, hg: MixedHeliograph, args: argparse.Namespace, mode: str, **extra: Any) -> dict:
    """send_bench.traffic_phase with the mix: scheduled messages are not waited for (not due yet)."""
    baseline = hg.stats()
    pids = {"server": hg.server.pid, "receiver": hg.receiver.pid}
    window = sb.CpuWindow(pids)
    flags = {"keep_ids": True, "from": hg.sender, **hg.mix_flags(args), **extra}
    result = sb.run_loadgen(name, hg.work, hg.url, mode, args, **flags)
    cores = window.close({"loadgen": result.get("cpu_seconds", 0.0)})
    cpu_load = hg.cpu()
    mem_after_load = sb.memory_kib(hg.server.pid)
    samples = [tuple(s) for s in result["samples"]]
    kinds_of = result["sample_kinds"]
    due_now = [(s, k) for s, k in zip(samples, kinds_of, strict=True) if k != "scheduled"]
    accepted = [s for s, _ in due_now]
    media_before = baseline.get("media_fetches", 0)
    drained = sb.drain(hg, {s[0] for s in accepted}, baseline, args)
    cpu1 = hg.cpu()
    dump = drained.pop("dump")
    figures = sb.summarise_load(result)
    figures.update(sb.webhook_figures(result, dump, accepted))
    figures["kinds"] = kind_figures(result, dump, samples, kinds_of)
    figures["scheduled_accepted"] = result["kinds"].get("scheduled", {}).get("accepted", 0)
    figures["scheduled_send_at"] = result.get("send_at", {})
    figures["media_fetches"] = dump.get("media_fetches", 0) - media_before
    figures["drain_waited_s"] = drained["waited_s"]
    figures["drain_ended_by"] = drained["ended_by"]
    figures["server_rss_after_load_kib"] = mem_after_load.get("VmRSS")
    figures["cpu_cores_during_load"] = cores
    figures["server_cpu_s_drain"] = sb._delta(cpu_load["server"], cpu1["server"])
    # server CPU (API process + its worker process) from the phase start to the end of its drain, per accepted
    # request (scheduled ones included: their acceptance is in it, their dispatch is not)
    figures["server_cpu_ms_per_msg"] = sb._per_msg(sb._delta(window.cpu0["server"], cpu1["server"]), result["accepted"])
    figures["loadavg_after"] = os.getloadavg()
    if mode == "open":
        figures["offered_per_s"] = extra.get("rate")
    return figures


def wait_scheduled(hg: MixedHeliograph, args: argparse.Namespace, phases: list[dict]) -> dict:
    """Keep the server up until every accepted scheduled message is due, then drain them; lateness is
    message.finalized arrival - send_at (both time.monotonic())."""
    send_at: dict[str, float] = {}
    for phase in phases:
        send_at.update(phase.pop("scheduled_send_at", {}))
    if not send_at:
        return {"scheduled": 0}
    baseline = hg.stats()
    last_due = max(send_at.values())
    wait = last_due - time.monotonic()
    print(f"      waiting {max(wait, 0):.0f} s until the last scheduled message is due ...", flush=True)
    if wait > 0:
        time.sleep(min(wait, 900))  # bounded: send_at is at most SCHEDULE_AHEAD_S after the last request
    window = sb.CpuWindow({"server": hg.server.pid, "receiver": hg.receiver.pid})
    # the baseline was taken before any of them was due: drain counts from it
    drained = sb.drain(hg, set(send_at), baseline, args)
    cores = window.close({})
    dump = drained.pop("dump")
    first_final, first_sent = dump["first"]["message.finalized"], dump["first"]["message.sent"]
    late = [(first_final[i] - t) * 1000 for i, t in send_at.items() if i in first_final]
    late_sent = [(first_sent[i] - t) * 1000 for i, t in send_at.items() if i in first_sent]
    return {
        "message_sent_after_send_at_ms": sb.dist(late_sent),
        "scheduled": len(send_at),
        "finalized": len(late),
        "lost_messages": sum(1 for i in send_at if i not in first_final),
        "lost_webhooks": sum(1 for i in send_at if i not in first_final)
        + sum(1 for i in send_at if i not in first_sent),
        "finalized_after_send_at_ms": sb.dist(late),
        "final_statuses": dict(Counter(dump.get("final_by_id", {}).get(i, "none") for i in send_at)),
        "drain_ended_by": drained["ended_by"],
        "cpu_cores_while_due": cores,
    }


# ---------------------------------------------------------------------------------------------- report

KIND_ORDER = ("sms", "ucs2", "mms", "pool", "scheduled")


def kinds_table(phase: dict, title: str) -> list[str]:
    kinds = [k for k in KIND_ORDER if k in phase["kinds"]]
    ks = phase["kinds"]

    def errors(f: dict) -> str:
        bad = sum(f["non_200"].values()) + sum(f["exceptions"].values())
        return (
            str(bad)
            if not bad
            else f"{bad} ({', '.join(f'{k}:{v}' for k, v in {**f['non_200'], **f['exceptions']}.items())})"
        )

    def answers(f: dict) -> str:
        # "SMS GSM-7 1 queued" -> the shape; the status column is the same everywhere but for scheduled
        return "; ".join(f"{k.rsplit(' ', 1)[0]}" for k in sorted(f["answers"])) or "-"

    def finals(f: dict) -> str:
        if "final_statuses" not in f:
            return "not due"
        return ", ".join(f"{k} {v}" for k, v in sorted(f["final_statuses"].items()))

    def opt(f: dict, key: str, fn: Any = sb.fmt) -> str:
        return fn(f[key]) if key in f else "-"

    rows = [
        ("requests sent", [sb.fmt(ks[k]["sent"]) for k in kinds]),
        ("accepted (HTTP 200)", [sb.fmt(ks[k]["accepted"]) for k in kinds]),
        ("accepted msgs/s", [sb.fmt(ks[k]["accepted_per_s"]) for k in kinds]),
        ("non-200 / client errors", [errors(ks[k]) for k in kinds]),
        ("POST latency p50 / p99 (ms)", [sb.lat(ks[k]["post_latency_ms"]) for k in kinds]),
        ("end-to-end p50 / p99 (ms)", [opt(ks[k], "end_to_end_ms", sb.lat) for k in kinds]),
        (
            "lost messages / webhooks",
            [
                f"{ks[k]['lost_messages']} / {ks[k]['lost_webhooks']}" if "lost_messages" in ks[k] else "-"
                for k in kinds
            ],
        ),
        ("final statuses", [finals(ks[k]) for k in kinds]),
        ("answer: type encoding parts", [answers(ks[k]) for k in kinds]),
    ]
    if "pool" in ks:
        rows.append(
            ("distinct pool senders", ["-" if k != "pool" else str(ks[k]["distinct_pool_senders"]) for k in kinds])
        )
    w0 = max(len(r[0]) for r in rows) + 2
    widths = [max(len(k), *(len(r[1][i]) for r in rows)) + 2 for i, k in enumerate(kinds)]
    head = f"{title}".ljust(w0) + "".join(k.rjust(w) for k, w in zip(kinds, widths, strict=True))
    out = [head, "-" * len(head)]
    out += [
        label.ljust(w0) + "".join(v.rjust(w) for v, w in zip(values, widths, strict=True)) for label, values in rows
    ]
    return out


def mixed_summary(report: dict, errors_logged: int) -> dict:
    s = sb.summary(report, errors_logged)
    targets = []
    for name, ok, detail in s["targets"]:
        if name.startswith("open-loop end-to-end") and not (report.get("open_loop") or {}).get("end_to_end_ms", {}).get(
            "n"
        ):
            continue  # a mix of scheduled messages only: nothing is due within the run
        if name.startswith("accepted rate"):
            ratio = s["ratio_vs_ceiling_pct"]
            name, ok = f"accepted rate >= {TARGET_RATIO_PCT:g}% of ceiling (mixed)", ratio >= TARGET_RATIO_PCT
        targets.append((name, ok, detail))
    scheduled = sum((report.get(p) or {}).get("scheduled_accepted", 0) for p in ("closed_loop", "open_loop"))
    scheduled += 1  # the smoke test's
    db = (report.get("server_db_after") or {}).get("messages_by_status") or {}
    waited = report.get("scheduled_wait")
    if waited and waited.get("scheduled"):
        lost = waited["lost_messages"] + waited["lost_webhooks"]
        targets.append(
            (
                "scheduled messages all fired (--wait-scheduled)",
                lost == 0,
                f"{waited['finalized']} of {waited['scheduled']} finalized",
            )
        )
    else:
        in_db = (db.get("scheduled") or {}).get("count", 0)
        targets.append(
            (
                "scheduled messages still held (not due in the run)",
                in_db == scheduled,
                f"{in_db} in the DB as scheduled, {scheduled} accepted",
            )
        )
    s["targets"] = targets
    s["scheduled_accepted"] = scheduled
    return s


def table(report: dict) -> str:
    base = sb.table(report).replace("Heliograph send benchmark", "Heliograph mixed benchmark", 1)
    lines = base.split("\n")
    meta = report["meta"]
    lines.insert(
        1,
        f"mix {meta['mix']}  load average at start / end {meta['loadavg_at_start'][0]:.1f} / "
        f"{meta.get('loadavg_at_end', [0])[0]:.1f}  "
        f"sender MPS raised to {meta['sender_mps']} msg/s per sender (HELIOGRAPH_MPS_*; real defaults {MPS_DEFAULTS})",
    )
    out = lines + [""]
    for key, title in (("closed_loop", "per kind, closed loop"), ("open_loop", "per kind, open loop")):
        if report.get(key):
            out += kinds_table(report[key], title) + [""]
    waited = report.get("scheduled_wait")
    if waited and waited.get("scheduled"):
        d, ds = waited["finalized_after_send_at_ms"], waited["message_sent_after_send_at_ms"]
        out.append(
            f"scheduled, waited for: {waited['finalized']} of {waited['scheduled']} finalized, lost webhooks"
            f" {waited['lost_webhooks']}; after send_at: message.sent p50 / p99 / max"
            f" {sb.fmt(ds['p50'])} / {sb.fmt(ds['p99'])} / {sb.fmt(ds['max'])} ms, message.finalized"
            f" {sb.fmt(d['p50'])} / {sb.fmt(d['p99'])} / {sb.fmt(d['max'])} ms; final {waited['final_statuses']}"
        )
    else:
        out.append(
            f"scheduled: accepted only (send_at >= now + {SCHEDULE_MIN_SECONDS} s is the server's minimum;"
            f" sent at now + {SCHEDULE_AHEAD_S} s, after the run); --wait-scheduled waits for them"
        )
    pool = report["meta"].get("pool") or {}
    out.append(f"number pool: {pool.get('numbers')} numbers on the profile, settings {pool.get('settings')}")
    return "\n".join(out).rstrip()


# ---------------------------------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Heliograph mixed-workload benchmark (see bench/README.md).")
    parser.add_argument("--mix", default=DEFAULT_MIX, help=f"kind=weight,... (default {DEFAULT_MIX})")
    parser.add_argument(
        "--wait-scheduled", action="store_true", help="wait for the scheduled messages to fire (~6 min)"
    )
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--quick", action="store_true", help="5 s phases, for smoke testing")
    parser.add_argument("--open-fraction", type=float, default=0.5)
    parser.add_argument("--open-rate", type=float, default=None)
    parser.add_argument("--stall-timeout", type=float, default=30.0)
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    parser.add_argument(
        "--dlr-delay-ms", type=int, default=int(os.environ.get("HELIOGRAPH_SIMULATOR_DLR_DELAY_MS", "200"))
    )
    parser.add_argument("--sender-mps", type=float, default=1_000_000)
    parser.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--skip-ceiling", action="store_true")
    parser.add_argument("--keep-work", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.duration = 5.0
        args.drain_timeout = min(args.drain_timeout, 60.0)
    if not 0 < args.duration <= 120:
        parser.error("--duration must be in (0, 120] (scheduled messages must stay not-due during the phases)")
    if not 1 <= args.connections <= 1024:
        parser.error("--connections must be in [1, 1024]")
    if not 0 < args.drain_timeout <= 600:
        parser.error("--drain-timeout must be in (0, 600]")
    try:
        loadgen.parse_mix(args.mix)
    except ValueError as exc:
        parser.error(str(exc))
    args.profile = False  # send_bench's py-spy option: not offered here
    return args


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--table":
        print(table(json.loads(Path(sys.argv[2]).read_text())))
        return 0
    args = parse_args()
    signal.signal(signal.SIGTERM, sb._on_signal)
    signal.signal(signal.SIGHUP, sb._on_signal)
    work = Path(tempfile.mkdtemp(prefix="heliograph-mixed-bench-"))
    report: dict[str, Any] = {
        "meta": {
            "benchmark": "mixed",
            "timestamp": dt.datetime.now().isoformat(timespec="seconds"),
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
            "loadavg_at_start": os.getloadavg(),
            "duration_s": args.duration,
            "connections": args.connections,
            "dlr_delay_ms": args.dlr_delay_ms,
            "sender_mps": f"{args.sender_mps:g}" if args.sender_mps > 0 else "server default",
            "mix": args.mix,
            "schedule_ahead_s": SCHEDULE_AHEAD_S,
            "git": sb.git_state(),
            "server_env": args.server_env,
            "destinations": sb.DESTINATION_NOTE,
            "work_dir": str(work),
        },
        "ceiling": None,
        "closed_loop": None,
        "open_loop": None,
    }
    hg: MixedHeliograph | None = None
    failed = False
    t_start = time.monotonic()
    try:
        hg = MixedHeliograph(args, work)
        if not args.skip_ceiling:
            print(f"[1/4] ceiling: bare Starlette, closed loop, same mix, {args.duration:g} s ...", flush=True)
            dummy = {"mix": args.mix, "media_url": "http://127.0.0.1:9/unused.png", "profile_id": "unused"}
            report["ceiling"] = sb.ceiling_phase(args, work, **dummy)
            print(f"      {report['ceiling']['accepted_per_s']:,.0f} req/s", flush=True)
        print("[2/4] numbers for the pool, heliograph serve, the webhook + media receiver ...", flush=True)
        hg.start()
        report["meta"]["pool"] = {
            "numbers": len(hg.info["phone_numbers"]),
            "phone_numbers": hg.info["phone_numbers"],
            "settings": hg.info.get("number_pool_settings"),
        }
        report["meta"]["smoke"] = hg.smoke_all()
        print(f"      one of each kind end to end in {report['meta']['smoke']['end_to_end_ms']} ms", flush=True)
        print(f"[3/4] closed loop, {args.connections} connections, {args.duration:g} s, mix {args.mix} ...", flush=True)
        report["closed_loop"] = mixed_phase("closed", hg, args, "closed")
        cl = report["closed_loop"]
        print(
            f"      {cl['accepted_per_s']:,.0f} msgs/s accepted; drained {cl['drain_after_load_s']} s after load",
            flush=True,
        )
        rate = args.open_rate or round(max(1.0, cl["accepted_per_s"] * args.open_fraction), 1)
        print(f"[4/4] open loop at {rate:g} msgs/s for {args.duration:g} s, then drain ...", flush=True)
        report["open_loop"] = mixed_phase("open", hg, args, "open", rate=rate)
        elapsed = time.monotonic() - t_start
        if elapsed > SCHEDULE_AHEAD_S - 30:
            print(
                f"warning: the phases took {elapsed:.0f} s: scheduled messages may have fired during them", flush=True
            )
        if args.wait_scheduled:
            print("[+] scheduled messages: wait until due, then drain ...", flush=True)
            report["scheduled_wait"] = wait_scheduled(hg, args, [report["closed_loop"], report["open_loop"]])
        else:
            for key in ("closed_loop", "open_loop"):
                report[key].pop("scheduled_send_at", None)
        report["meta"]["server_memory_kib"] = sb.memory_kib(hg.server.pid)
        report["receiver"] = hg.stats()
        report["meta"]["server_log_bytes"] = hg.server.log_path.stat().st_size
    except BaseException as exc:
        failed = True
        print(f"\nbenchmark failed: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        if hg is not None and hg.server is not None:
            print(f"server log tail ({hg.server.log_path}):\n{hg.server.log_tail()}", file=sys.stderr)
        report["error"] = f"{exc.__class__.__name__}: {exc}"
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        if hg is not None:
            hg.stop()
            report["server_db_after"] = sb.db_state(hg.data_dir / "heliograph.db")
        sb.stop_all()
    report["meta"]["loadavg_at_end"] = os.getloadavg()
    report["summary"] = (
        mixed_summary(report, sb._count_error_lines(work / "server.log")) if report["closed_loop"] else {}
    )
    sb.RESULTS.mkdir(exist_ok=True)
    out = sb.RESULTS / f"mixed-{sb.STAMP}.json"
    out.write_text(json.dumps(report, indent=2))
    if report["closed_loop"] is not None and report["summary"]:
        print()
        print(table(report))
    print(f"\nJSON: {out.relative_to(sb.BENCH.parent)}")
    if args.keep_work or failed:
        print(f"work dir kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

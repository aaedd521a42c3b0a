"""Heliograph send benchmark: ceiling, closed-loop peak, open-loop latency, in one run.

    python bench/send_bench.py [--duration 20] [--connections 64] [--quick] [--profile]
        [--database postgresql://postgres@127.0.0.1:5432/bench] [--processes N] [--sustained]

With --database the server runs in gateway mode on that PostgreSQL database (its schema is WIPED first):
the account comes from `heliograph accounts create`, the route from `heliograph routes add everything
--connector simulator`, and the CPU of the database's backends is measured beside the server's.
--processes N runs `serve --processes N` (N API processes on one port; in a gateway each runs workers).

Phases (each drives load from a separate load-generator process, bench/loadgen.py, over loopback):

1. ceiling  bench/ceiling_app.py (bare Starlette on uvicorn, 1 process, uvloop + httptools, fixed
            ~600 B JSON answer, no database), closed loop, same generator, same duration.
2. setup    a real `heliograph serve` on a fresh temp data dir; the default profile's webhook_url points
            at bench/webhook_receiver.py (aiohttp, its own process); one message is sent end to end
            to prove the path works before any load.
3. closed   N keep-alive connections POST /v2/messages as fast as answers come back.
4. drain    wait (bounded) until every accepted message's message.sent and message.finalized arrived.
5. open     at a fraction (default 1/2) of the closed-loop accepted rate, fixed-rate sends scheduled by
            timestamp; drain again; end-to-end latency is measured from the *scheduled* send time.
6. report   one table on stdout, the full figures as JSON in bench/results/<timestamp>.json.

Every child process is stopped on exit (normal, error, Ctrl-C, SIGTERM) and is also told to die with
this process (PR_SET_PDEATHSIG). Every wait is bounded. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
if __name__ == "__main__":  # bench/sustained.py imports this module: let it find this very one
    sys.modules.setdefault("send_bench", sys.modules["__main__"])
import pyspy_summary
import soak
import sustained

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
PY = sys.executable
HOST = "127.0.0.1"
API_KEY = "KEYBENCH" + "0" * 26
DESTINATION_NOTE = "+1312555XXXX, random per request"


# ---------------------------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Proc:
    """A child process with its output in a log file; stop() is idempotent and bounded."""

    def __init__(self, name: str, argv: list[str], log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=BENCH.parent,
            preexec_fn=_die_with_parent,
        )
        PROCS.append(self)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def wait(self, timeout: float) -> int:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise RuntimeError(f"{self.name} did not finish within {timeout:.0f} s; log: {self.log_path}") from None

    def stop(self, grace: float = 15.0) -> int | None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        if not self._log.closed:
            self._log.close()
        return self.popen.returncode

    def log_tail(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""


PROCS: list[Proc] = []


def stop_all() -> None:
    while PROCS:
        proc = PROCS.pop()
        try:
            proc.stop()
        except Exception as exc:  # keep stopping the others
            print(f"warning: stopping {proc.name} failed: {exc}", file=sys.stderr)


def _on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


# ---------------------------------------------------------------------------------------------- helpers


def http(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 10
) -> tuple[int, bytes]:
    assert url.startswith(f"http://{HOST}:"), url
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_for(check: Any, timeout: float, interval: float = 0.1, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def healthy(url: str, proc: Proc) -> bool:
    if not proc.alive():
        raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.log_tail()}")
    try:
        return http("GET", url, timeout=1)[0] == 200
    except OSError:
        return False


def pct(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def dist(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50": _r(pct(values, 50)),
        "p90": _r(pct(values, 90)),
        "p99": _r(pct(values, 99)),
        "max": _r(max(values) if values else None),
    }


def _r(x: float | None, nd: int = 1) -> float | None:
    return None if x is None else round(x, nd)


_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def children_of(pid: int) -> list[int]:
    """Live descendants of `pid` (from /proc/*/stat: ppid is field 4)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int(_stat_fields(int(entry.name))[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo and len(out) < 10_000:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a live process AND its descendants (`heliograph serve` runs its workers in
    a child process): the process's own time, its reaped children's (cutime/cstime), and each live
    descendant's own time. From /proc/<pid>/stat."""
    try:
        fields = _stat_fields(pid)
        total = sum(int(fields[i]) for i in (11, 12, 13, 14))
    except (OSError, IndexError, ValueError):
        return None
    for child in children_of(pid):
        try:
            total += sum(int(x) for x in _stat_fields(child)[11:13])
        except (OSError, IndexError, ValueError):
            continue  # exited in between: its time moves to its parent's cutime once reaped
    return total / _TICKS


def own_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of the process itself (not its children)."""
    try:
        fields = _stat_fields(pid)
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (OSError, IndexError, ValueError):
        return None


def system_busy_seconds() -> float | None:
    """CPU time spent busy on all CPUs since boot (user+nice+system+irq+softirq+steal), from /proc/stat."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    return (sum(values) - values[3] - values[4]) / _TICKS  # minus idle and iowait


class CpuWindow:
    """CPU used by our processes, and by everything else on the machine, over one wall-clock window."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.t0 = time.monotonic()
        self.system0 = system_busy_seconds()
        self.cpu0 = {name: _cpu_of(pid) for name, pid in pids.items()}

    def close(self, extra_cpu_s: dict[str, float]) -> dict[str, float | None]:
        """Cores used (CPU seconds per wall second). `extra_cpu_s`: processes that ended inside the window."""
        wall = max(time.monotonic() - self.t0, 1e-9)
        system1 = system_busy_seconds()
        used: dict[str, float | None] = {}
        for name, pid in self.pids.items():
            now, before = _cpu_of(pid), self.cpu0[name]
            used[name] = None if now is None or before is None else now - before
        used.update(extra_cpu_s)
        out = {name: (None if v is None else round(v / wall, 2)) for name, v in used.items()}
        if self.system0 is not None and system1 is not None:
            ours = sum(v for v in used.values() if v is not None)
            out["other"] = round(max(0.0, system1 - self.system0 - ours) / wall, 2)
        out["wall_s"] = round(wall, 2)
        return out


def _cpu_of(source: Any) -> float | None:
    """CPU seconds of a pid (with its descendants) or of a callable source (PostgreSQL's backends)."""
    return source() if callable(source) else cpu_seconds(source)


class PgBackends:
    """CPU seconds used by the PostgreSQL backends serving one database, sampled every 0.2 s (a backend
    that exits keeps the CPU it had at its last sample: pooled connections live long, so little is missed).
    `aux()` is the server's shared background processes (WAL writer, checkpointer, background writer):
    they serve every database on the server, so they are reported apart."""

    def __init__(self, url: str) -> None:
        import threading

        self.url = url
        self.seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-cpu", daemon=True)
        self._thread.start()

    def _pids(self) -> list[int]:
        database = self.url.rsplit("/", 1)[1].split("?")[0]
        done = subprocess.run(
            [*_psql(self.url), "-Atc", f"/* bench */ SELECT pid FROM pg_stat_activity WHERE datname = '{database}'"],
            capture_output=True, text=True, timeout=10,
        )  # fmt: skip
        return [int(x) for x in done.stdout.split()]

    def _sample(self) -> None:
        for pid in self._pids():
            try:
                self.seen[pid] = sum(int(x) for x in _stat_fields(pid)[11:13]) / _TICKS
            except (OSError, IndexError, ValueError):
                continue

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            with contextlib.suppress(Exception):
                self._sample()

    def __call__(self) -> float:
        with contextlib.suppress(Exception):
            self._sample()
        return sum(self.seen.values())

    @staticmethod
    def aux() -> float:
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes()
                if cmdline.startswith(b"postgres:") and any(
                    k in cmdline for k in (b"walwriter", b"checkpointer", b"background writer")
                ):
                    total += sum(int(x) for x in _stat_fields(int(entry.name))[11:13])
            except (OSError, IndexError, ValueError):
                continue
        return total / _TICKS

    def stop(self) -> None:
        self._stop.set()


def _psql(url: str) -> list[str]:
    return ["psql", url.replace("postgresql+asyncpg://", "postgresql://"), "-v", "ON_ERROR_STOP=1", "-q"]


def memory_kib(pid: int) -> dict[str, int]:
    """VmHWM (peak RSS) and VmRSS of a live process, KiB; `children_VmHWM`: the sum over its live
    descendants (the sandbox server's worker process)."""

    def read(p: int) -> dict[str, int]:
        out: dict[str, int] = {}
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in ("VmHWM", "VmRSS"):
                    out[key] = int(value.split()[0])
        except (OSError, ValueError):
            pass
        return out

    out = read(pid)
    children = [read(c) for c in children_of(pid)]
    if children:
        out["children"] = len(children)
        out["children_VmHWM"] = sum(c.get("VmHWM", 0) for c in children)
        out["children_VmRSS"] = sum(c.get("VmRSS", 0) for c in children)
    return out


# ---------------------------------------------------------------------------------------------- phases


def run_loadgen(
    name: str, work: Path, url: str, mode: str, args: argparse.Namespace, key: str = API_KEY, **extra: Any
) -> dict:
    out = work / f"{name}.json"
    argv = [PY, str(BENCH / "loadgen.py"), mode, "--url", url, "--key", key, "--out", str(out)]
    argv += ["--duration", str(args.duration), "--connections", str(args.connections)]
    for key, value in extra.items():
        flag = "--" + key.replace("_", "-")
        argv += [flag] if value is True else [flag, str(value)]
    proc = Proc(f"loadgen-{name}", argv, work)
    code = proc.wait(args.duration + 90)
    PROCS.remove(proc)
    proc.stop()
    if code != 0:
        raise RuntimeError(f"load generator {name} exited with {code}:\n{proc.log_tail()}")
    return json.loads(out.read_text())


def summarise_load(result: dict) -> dict:
    elapsed = result["elapsed"] or 1e-9
    non200 = {k: v for k, v in result["status_counts"].items() if k != "200"}
    return {
        "sent": result["sent"],
        "accepted": result["accepted"],
        "elapsed_s": round(elapsed, 3),
        "accepted_per_s": round(result["accepted"] / elapsed, 1),
        "non_200": non200,
        "exceptions": result["exceptions"],
        "error_examples": result["error_examples"],
        "post_latency_ms": dist(result["latencies_ms"]),
        "skipped": result["skipped"],
        "late_starts": result["late_starts"],
        "max_start_lag_ms": result["max_start_lag_ms"],
        "loadgen_cpu_s": round(result.get("cpu_seconds") or 0, 2),
        "paced_by_sender_mps": result.get("paced", 0),
        "max_wait_seconds": result.get("max_wait_seconds", 0),
    }


def ceiling_phase(args: argparse.Namespace, work: Path, **extra: Any) -> dict:
    """`extra`: more load-generator flags (the mixed workload sends the same mix to the ceiling)."""
    port = free_port()
    app = Proc("ceiling", [PY, str(BENCH / "ceiling_app.py"), "--port", str(port)], work)
    try:
        url = f"http://{HOST}:{port}"
        wait_for(lambda: healthy(url + "/healthz", app), 30, what="the ceiling app")
        status, body = http("POST", url + "/v2/messages", {"to": "+13125550123"})
        window = CpuWindow({"server": app.pid})
        result = run_loadgen("ceiling", work, url, "closed", args, **extra)
        cores = window.close({"loadgen": result.get("cpu_seconds", 0.0)})
        server_cpu = _delta(window.cpu0["server"], cpu_seconds(app.pid))
    finally:
        app.stop()
        PROCS.remove(app)
    summary = summarise_load(result)
    summary["response_bytes"] = len(body)
    summary["cpu_cores_during_load"] = cores
    summary["server_cpu_ms_per_msg"] = _per_msg(server_cpu, result["accepted"])
    return summary


class Heliograph:
    """The server under test, its webhook receiver, and the account details."""

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.data_dir = work / "data"
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.receiver_port = free_port()
        self.receiver_url = f"http://{HOST}:{self.receiver_port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("HELIOGRAPH_", "TELNYX_"))}
        self.env.update(
            {
                "HELIOGRAPH_API_KEY": API_KEY,
                "HELIOGRAPH_LOG_FORMAT": "json",
                "HELIOGRAPH_SIMULATOR_DLR_DELAY_MS": str(args.dlr_delay_ms),
            }
        )
        if args.sender_mps > 0:  # measure the platform, not the per-number carrier throughput policy
            for kind in ("LONG_CODE", "TOLL_FREE", "SHORT_CODE", "ALPHANUMERIC"):
                self.env[f"HELIOGRAPH_MPS_{kind}"] = f"{args.sender_mps:g}"
        for item in args.server_env:
            key, _, value = item.partition("=")
            self.env[key] = value
        self.database = args.database
        self.api_key = API_KEY
        self.postgres: PgBackends | None = None
        if self.database:  # gateway mode: accounts come from the admin CLI, webhooks go to loopback
            self.env.pop("HELIOGRAPH_API_KEY")
            self.env.update(
                {
                    "HELIOGRAPH_MODE": "gateway",
                    "HELIOGRAPH_DATABASE_URL": self.database,
                    "HELIOGRAPH_WEBHOOK_ALLOWED_HOSTS": HOST,
                }
            )
        self.server: Proc | None = None
        self.receiver: Proc | None = None
        self.info: dict[str, Any] = {}

    def _cli(self, *argv: str) -> str:
        done = subprocess.run(
            [PY, "-m", "heliograph", *argv, "--data-dir", str(self.data_dir)],
            env=self.env, capture_output=True, text=True, timeout=120, cwd=BENCH.parent,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"heliograph {' '.join(argv)} failed: {done.stderr}")
        return done.stdout

    def _gateway_account(self) -> None:
        """A fresh schema, an account and a route through the admin CLI (the CLI migrates first)."""
        subprocess.run(
            [*_psql(self.database), "-c", "DROP SCHEMA IF EXISTS public CASCADE", "-c", "CREATE SCHEMA public"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        account = json.loads(self._cli("accounts", "create", "Bench"))
        self._cli("routes", "add", "everything", "--connector", "simulator")
        self.api_key = account["api_key"]
        self.info = {"messaging_profile_id": account["messaging_profile_id"], "phone_numbers": ["+13125550100"]}

    def start(self) -> None:
        self.receiver = Proc(
            "receiver", [PY, str(BENCH / "webhook_receiver.py"), "--port", str(self.receiver_port)], self.work
        )
        wait_for(lambda: healthy(self.receiver_url + "/stats", self.receiver), 30, what="the webhook receiver")
        self.data_dir.mkdir(parents=True)
        if self.database:
            self._gateway_account()
        argv = [PY, "-m", "heliograph", "serve", "--port", str(self.port), "--data-dir", str(self.data_dir)]
        if self.args.processes > 1:
            argv += ["--processes", str(self.args.processes)]
        self.server = Proc("server", argv, self.work, env=self.env)
        wait_for(lambda: healthy(self.url + "/healthz", self.server), 60, what="heliograph serve")
        if self.database:
            self.postgres = PgBackends(self.database)
            order = {"phone_numbers": [{"phone_number": self.sender}], "messaging_profile_id": self.profile_id}
            status, body = self.api("POST", "/v2/number_orders", order)
            if status != 200:
                raise RuntimeError(f"ordering the sending number answered {status}: {body[:500]!r}")
        else:
            self._sandbox_account()
        status, body = self.api(
            "PATCH",
            f"/v2/messaging_profiles/{self.info['messaging_profile_id']}",
            {"webhook_url": self.receiver_url + "/hook"},
        )
        if status != 200:
            raise RuntimeError(f"setting the profile webhook_url answered {status}: {body[:500]!r}")

    @property
    def profile_id(self) -> str:
        return self.info["messaging_profile_id"]

    def _sandbox_account(self) -> None:
        self.info = json.loads(self._cli("info", "--json"))

    @property
    def sender(self) -> str:
        return self.info["phone_numbers"][0]

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        return http(method, self.url + path, body, {"Authorization": f"Bearer {self.api_key}"})

    def stats(self) -> dict:
        return json.loads(http("GET", self.receiver_url + "/stats", timeout=10)[1])

    def dump(self) -> dict:
        return json.loads(http("GET", self.receiver_url + "/dump", timeout=60)[1])

    def smoke(self) -> dict:
        """One message end to end before any load: proves the webhook path and warms the server up."""
        before = self.stats()["unique"]["message.finalized"]
        started = time.monotonic()
        status, body = self.api("POST", "/v2/messages", {"from": self.sender, "to": "+13125550123", "text": "smoke"})
        if status != 200:
            raise RuntimeError(f"smoke send answered {status}: {body[:500]!r}")
        wait_for(
            lambda: self.stats()["unique"]["message.finalized"] > before,
            30,
            0.02,
            "the smoke message's message.finalized",
        )
        return {
            "message_id": json.loads(body)["data"]["id"],
            "end_to_end_ms": round((time.monotonic() - started) * 1000, 1),
            "response_bytes": len(body),
        }

    def cpu(self) -> dict[str, float | None]:
        assert self.server and self.receiver
        out = {"server": cpu_seconds(self.server.pid), "receiver": cpu_seconds(self.receiver.pid)}
        if self.postgres is not None:
            out["postgres"] = self.postgres()
            out["pg_aux"] = PgBackends.aux()
        return out

    def stop(self) -> None:
        if self.postgres is not None:
            self.postgres.stop()
        for proc in (self.server, self.receiver):
            if proc is not None:
                proc.stop()
                if proc in PROCS:
                    PROCS.remove(proc)


WRITERS = ("group_commit", "dispatch", "receipts", "webhook_outcomes")


def write_batches(target: Any) -> dict[str, tuple[float, float]] | None:
    """(rows, transactions) so far per writer, from Heliograph's heliograph_write_batch_rows histogram;
    None for a target without it (the ceiling)."""
    if not isinstance(target, Heliograph):
        return None
    try:
        status, body = target.api("GET", "/metrics")
    except OSError:
        return None
    if status != 200:
        return None
    out: dict[str, list[float]] = {w: [0.0, 0.0] for w in WRITERS}
    for line in body.decode().splitlines():
        m = re.match(r'heliograph_write_batch_rows_(sum|count)\{writer="(\w+)"\} ([0-9.e+]+)', line)
        if m and m.group(2) in out:
            out[m.group(2)][0 if m.group(1) == "sum" else 1] += float(m.group(3))
    return {w: (v[0], v[1]) for w, v in out.items()}


def rows_per_transaction(before: dict | None, after: dict | None) -> dict[str, float | None] | None:
    if before is None or after is None:
        return None
    out: dict[str, float | None] = {}
    for w in WRITERS:
        rows, txns = after[w][0] - before[w][0], after[w][1] - before[w][1]
        out[w] = round(rows / txns, 1) if txns else None
    return out


def drain(hg: Heliograph, accepted_ids: set[str], baseline: dict, args: argparse.Namespace) -> dict:
    """Wait until every accepted id has message.sent and message.finalized. Gives up at the drain timeout,
    or earlier when no webhook at all arrived for the stall timeout (what is missing then is not coming)."""
    expected_final = baseline["unique"]["message.finalized"] + len(accepted_ids)
    expected_sent = baseline["unique"]["message.sent"] + len(accepted_ids)
    stall = max(args.stall_timeout, 5 * args.dlr_delay_ms / 1000)
    started = time.monotonic()
    deadline = started + args.drain_timeout
    last_total, last_change = -1, started
    while True:
        stats = hg.stats()
        now = time.monotonic()
        if stats["total"] != last_total:
            last_total, last_change = stats["total"], now
        counts_ok = (
            stats["unique"]["message.finalized"] >= expected_final and stats["unique"]["message.sent"] >= expected_sent
        )
        ended_by = "timeout" if now >= deadline else "stalled" if now - last_change >= stall else None
        if counts_ok or ended_by:
            dump = hg.dump()
            first = dump["first"]
            missing = sum(
                1 for i in accepted_ids if i not in first["message.finalized"] or i not in first["message.sent"]
            )
            if not missing or ended_by:
                break
            time.sleep(0.5)  # counts reached, but some ids are missing (stragglers of an earlier phase)
            continue
        time.sleep(0.1)
    return {
        "waited_s": round(time.monotonic() - started, 2),
        "ended_by": "complete" if not missing else ended_by,
        "dump": dump,
    }


def webhook_figures(load: dict, dump: dict, accepted: list[tuple[str, float, float]]) -> dict:
    first_sent = dump["first"]["message.sent"]
    first_final = dump["first"]["message.finalized"]
    e2e, to_sent, final_times = [], [], []
    lost_final = lost_sent = 0
    for message_id, sent_at, _latency in accepted:
        t_final = first_final.get(message_id)
        t_sent = first_sent.get(message_id)
        if t_final is None:
            lost_final += 1
        else:
            e2e.append((t_final - sent_at) * 1000)
            final_times.append(t_final)
        if t_sent is None:
            lost_sent += 1
        else:
            to_sent.append((t_sent - sent_at) * 1000)
            final_times.append(t_sent)
    start, end = load["started"], load["ended"]
    arrivals = dump["arrivals"]
    during = sum(1 for t in arrivals if start <= t <= end)
    last = max(final_times) if final_times else end
    through_drain = sum(1 for t in arrivals if start <= t <= last)
    window = max(last - start, 1e-9)
    return {
        "end_to_end_ms": dist(e2e),
        "send_to_message_sent_ms": dist(to_sent),
        "webhooks_per_s_during_load": round(during / max(end - start, 1e-9), 1),
        "webhooks_per_s_load_and_drain": round(through_drain / window, 1),
        "webhooks_received_in_window": through_drain,
        "drain_after_load_s": round(max(0.0, last - end), 2),
        "lost_messages": lost_final,
        "lost_webhooks": lost_final + lost_sent,
        "missing_message_sent": lost_sent,
    }


def traffic_phase(name: str, hg: Heliograph, args: argparse.Namespace, mode: str, **extra: Any) -> dict:
    baseline = hg.stats()
    profiler = None
    if args.profile:
        profiler = start_profiler(hg, args, name)
    pids: dict[str, Any] = {"server": hg.server.pid, "receiver": hg.receiver.pid}
    postgres = getattr(hg, "postgres", None)
    if postgres is not None:
        pids["postgres"] = postgres
    if profiler is not None:
        pids["py-spy"] = profiler["proc"].pid
    batches0 = write_batches(hg)
    window = CpuWindow(pids)
    own0 = own_cpu_seconds(hg.server.pid)
    key = getattr(hg, "api_key", API_KEY)
    result = run_loadgen(name, hg.work, hg.url, mode, args, key, keep_ids=True, **{"from": hg.sender}, **extra)
    cores = window.close({"loadgen": result.get("cpu_seconds", 0.0)})
    cpu_load = hg.cpu()
    mem_after_load = memory_kib(hg.server.pid)
    accepted = [tuple(s) for s in result["samples"]]
    drained = drain(hg, {s[0] for s in accepted}, baseline, args)
    cpu1 = hg.cpu()
    own1 = own_cpu_seconds(hg.server.pid)
    figures = summarise_load(result)
    figures.update(webhook_figures(result, drained.pop("dump"), accepted))
    figures["rows_per_write_transaction"] = rows_per_transaction(batches0, write_batches(hg))
    figures["drain_waited_s"] = drained["waited_s"]
    figures["drain_ended_by"] = drained["ended_by"]
    figures["server_rss_after_load_kib"] = mem_after_load.get("VmRSS")
    figures["cpu_cores_during_load"] = cores
    figures["server_cpu_s_drain"] = _delta(cpu_load["server"], cpu1["server"])
    # CPU time is what the noise of other workloads on the machine distorts least
    figures["server_cpu_ms_per_msg"] = _per_msg(_delta(window.cpu0["server"], cpu1["server"]), result["accepted"])
    # per process, load and drain: the API process itself, its children (the sandbox's worker process; the
    # ceiling's uvicorn workers), the receiver and the generator
    server_s = _delta(window.cpu0["server"], cpu1["server"])
    own_s = _delta(own0, own1)
    figures["cpu_ms_per_msg"] = {
        "api_process": _per_msg(own_s, result["accepted"]),
        "server_children": _per_msg(_delta(own_s, server_s), result["accepted"]),
        "receiver": _per_msg(_delta(window.cpu0["receiver"], cpu1["receiver"]), result["accepted"]),
        "generator": _per_msg(result.get("cpu_seconds"), result["accepted"]),
    }
    if postgres is not None:  # the database's backends, load and drain: every round trip the message cost
        figures["postgres_cpu_ms_per_msg"] = _per_msg(
            _delta(window.cpu0["postgres"], cpu1["postgres"]), result["accepted"]
        )
        figures["pg_aux_cpu_s"] = _delta(cpu_load.get("pg_aux"), cpu1.get("pg_aux"))
    if profiler is not None:
        figures["profile"] = finish_profiler(profiler)
    if mode == "open":
        figures["offered_per_s"] = extra.get("rate")
    return figures


def _per_msg(cpu_s: float | None, count: int) -> float | None:
    return None if cpu_s is None or not count else round(1000 * cpu_s / count, 3)


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(b - a, 2)


# ---------------------------------------------------------------------------------------------- profiling


def start_profiler(hg: Heliograph, args: argparse.Namespace, name: str) -> dict | None:
    py_spy = shutil.which("py-spy") or str(Path(PY).parent / "py-spy")
    if not Path(py_spy).exists():
        print(
            "warning: --profile needs py-spy (pip install py-spy); continuing without",
            file=sys.stderr,
        )
        return None
    out = hg.work / f"{name}.pyspy.txt"
    argv = [py_spy, "record", "-p", str(hg.server.pid), "-d", str(int(args.duration) + 1)]
    argv += ["-r", str(args.profile_rate), "-f", "raw", "-o", str(out), "--threads", "--idle", "--subprocesses"]
    # --native pauses the server for each sample (slower, but splits C time: GC, SQLite, busy sleeps)
    argv += ["--native"] if args.profile_native else ["--nonblocking"]
    return {"proc": Proc(f"py-spy-{name}", argv, hg.work), "out": out, "name": name}


def finish_profiler(profiler: dict) -> dict:
    proc: Proc = profiler["proc"]
    try:
        proc.wait(60)
    finally:
        proc.stop()
        if proc in PROCS:
            PROCS.remove(proc)
    out: Path = profiler["out"]
    if not out.exists():
        return {"error": "py-spy wrote nothing", "log": proc.log_tail(1000)}
    RESULTS.mkdir(exist_ok=True)
    kept = RESULTS / f"{STAMP}-{profiler['name']}.pyspy.txt"
    shutil.copy(out, kept)
    return {"collapsed_stacks": str(kept.relative_to(BENCH.parent)), **pyspy_summary.summarise(out)}


# ---------------------------------------------------------------------------------------------- report


def fmt(x: Any, unit: str = "") -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        x = f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.1f}" if abs(x) >= 1 or x == 0 else f"{x:.3f}"
    elif isinstance(x, int):
        x = f"{x:,}"
    return f"{x}{unit}"


def lat(d: dict | None) -> str:
    if not d or not d.get("n"):
        return "-"
    return f"{fmt(d['p50'])} / {fmt(d['p99'])}"


CORE_KEYS = ("server", "receiver", "loadgen", "other")


def table(report: dict) -> str:
    c, cl, op = report["ceiling"], report["closed_loop"], report["open_loop"]

    def errors(phase: dict | None) -> str:
        if not phase:
            return "-"
        bad = sum(phase["non_200"].values()) + sum(phase["exceptions"].values())
        if not bad:
            return "0"
        parts = [f"{k}:{v}" for k, v in {**phase["non_200"], **phase["exceptions"]}.items()]
        return f"{bad} ({', '.join(parts)})"

    def col(phase: dict | None, key: str, f: Any = fmt) -> str:
        return f(phase.get(key)) if phase else "-"

    def cores(phase: dict | None) -> str:
        if not phase or "cpu_cores_during_load" not in phase:
            return "-"
        d = phase["cpu_cores_during_load"]
        keys = ("server", "postgres", "receiver", "loadgen", "other") if "postgres" in d else CORE_KEYS
        return "/".join("-" if d.get(k) is None else f"{d[k]:.1f}" for k in keys)

    def row(label: str, key: str, f: Any = fmt, ceiling: bool = True) -> tuple[str, str, str, str]:
        return (label, col(c, key, f) if ceiling else "-", col(cl, key, f), col(op, key, f))

    def e2e_max(phase: dict | None) -> str:
        return fmt(phase["end_to_end_ms"]["max"]) if phase else "-"

    rows = [
        ("offered rate (msgs/s)", "closed", "closed", col(op, "offered_per_s")),
        row("requests sent", "sent"),
        row("accepted (HTTP 200)", "accepted"),
        row("accepted msgs/s", "accepted_per_s"),
        ("non-200 / client errors", errors(c), errors(cl), errors(op)),
        row("POST latency p50 / p99 (ms)", "post_latency_ms", lat),
        row("POST -> message.sent p50 / p99 (ms)", "send_to_message_sent_ms", lat, ceiling=False),
        row("end-to-end p50 / p99 (ms)", "end_to_end_ms", lat, ceiling=False),
        ("end-to-end max (ms)", "-", e2e_max(cl), e2e_max(op)),
        row("webhooks/s during load", "webhooks_per_s_during_load", ceiling=False),
        row("webhooks/s load + drain", "webhooks_per_s_load_and_drain", ceiling=False),
        row("drain after load ends (s)", "drain_after_load_s", ceiling=False),
        row("lost messages (no finalized)", "lost_messages", ceiling=False),
        row("lost webhooks (sent + finalized)", "lost_webhooks", ceiling=False),
        (
            "CPU cores srv/pg/recv/gen/other"
            if cl and "postgres" in cl["cpu_cores_during_load"]
            else "CPU cores srv/recv/gen/other",
            cores(c),
            cores(cl),
            cores(op),
        ),
        row("server CPU ms per accepted msg", "server_cpu_ms_per_msg"),
        row(
            "  API / worker process CPU ms per msg",
            "cpu_ms_per_msg",
            lambda d: f"{fmt(d.get('api_process'))} / {fmt(d.get('server_children'))}" if d else "-",
            ceiling=False,
        ),
        row("PostgreSQL CPU ms per accepted msg", "postgres_cpu_ms_per_msg", ceiling=False),
        row(
            "rows per write txn (commit/disp/rcpt/wh)",
            "rows_per_write_transaction",
            lambda d: "/".join(fmt(d.get(w)) for w in WRITERS) if d else "-",
            ceiling=False,
        ),
        ("open-loop late starts > 5 ms", "-", "-", col(op, "late_starts")),
        row("accepted but paced (wait_seconds>0)", "paced_by_sender_mps", ceiling=False),
    ]
    w0 = max(len(r[0]) for r in rows) + 2
    widths = [max(len(r[i]) for r in rows + [("", "ceiling", "closed loop", "open loop")]) + 2 for i in (1, 2, 3)]
    out = []
    meta = report["meta"]
    out.append(
        f"Heliograph send benchmark  {meta['timestamp']}  {meta['cpus']} CPUs  "
        f"phases {meta['duration_s']:g} s  {meta['connections']} connections  "
        f"DLR delay {meta['dlr_delay_ms']} ms  sender MPS {meta['sender_mps']}  "
        f"git {meta['git']['commit']}{'+dirty' if meta['git']['dirty_outside_bench'] else ''}"
    )
    header = ("figure", "ceiling", "closed loop", "open loop")
    line = header[0].ljust(w0) + "".join(h.rjust(w) for h, w in zip(header[1:], widths, strict=True))
    out += [line, "-" * len(line)]
    for r in rows:
        out.append(r[0].ljust(w0) + "".join(v.rjust(w) for v, w in zip(r[1:], widths, strict=True)))
    out.append("-" * len(line))
    s = report["summary"]
    out.append(f"ratio accepted / ceiling (closed loop)   {fmt(s['ratio_vs_ceiling_pct'])} %")
    out.append(
        f"ratio of server CPU per request          {fmt(s['cpu_per_msg_vs_ceiling'])} x the ceiling's"
        " (closed loop incl. its drain; robust to other load)"
    )
    children = s.get("server_children_peak_rss_mib")
    out.append(
        f"peak RSS of the server (VmHWM)          {fmt(s['server_peak_rss_mib'])} MiB"
        + (f" + {fmt(children)} MiB in its worker process" if children else "")
    )
    out.append(
        f"webhook duplicates / retried / bad      "
        f"{s['webhook_duplicates']} / {s['webhook_retried']} / {s['webhook_bad']}"
    )
    out.append(f"final statuses seen                     {s['final_statuses']}")
    out.append(f"server log lines at error level         {s['server_error_log_lines']}")
    db = report.get("server_db_after") or {}
    if db.get("messages_by_status"):
        statuses = ", ".join(f"{k} {v['count']}" for k, v in db["messages_by_status"].items())
        out.append(f"server DB after the run: messages       {statuses}")
    out.append("targets")
    for name, ok, detail in s["targets"]:
        out.append(f"  [{'PASS' if ok else 'FAIL'}] {name}: {detail}")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------- main


STAMP = dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Heliograph send benchmark (see bench/README.md).")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per load phase (default 20)")
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections (default 64)")
    parser.add_argument("--quick", action="store_true", help="5 s phases, for smoke testing")
    parser.add_argument(
        "--open-fraction",
        type=float,
        default=0.5,
        help="open-loop rate as a fraction of the closed-loop peak",
    )
    parser.add_argument(
        "--open-rate", type=float, default=None, help="open-loop rate in msgs/s (overrides --open-fraction)"
    )
    parser.add_argument(
        "--stall-timeout",
        type=float,
        default=30.0,
        help="stop draining when no webhook arrived for this long (s; default 30)",
    )
    parser.add_argument(
        "--drain-timeout", type=float, default=120.0, help="longest wait for webhooks after a phase (s)"
    )
    parser.add_argument(
        "--dlr-delay-ms",
        type=int,
        default=int(os.environ.get("HELIOGRAPH_SIMULATOR_DLR_DELAY_MS", "200")),
        help="simulated delivery-receipt delay (default 200, or $HELIOGRAPH_SIMULATOR_DLR_DELAY_MS)",
    )
    parser.add_argument(
        "--sender-mps",
        type=float,
        default=1_000_000,
        help="per-sender throughput given to the server (default 1e6: no pacing; 0 = the server's defaults)",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra env for the server (repeatable)",
    )
    parser.add_argument(
        "--database",
        default=None,
        metavar="postgresql://...",
        help="gateway mode on this PostgreSQL database; its public schema is DROPPED first",
    )
    parser.add_argument("--processes", type=int, default=1, help="serve --processes N (default 1)")
    parser.add_argument(
        "--skip-closed",
        action="store_true",
        help="with --open-rate: only the open-loop phase (quick CPU-per-message comparisons at one rate)",
    )
    parser.add_argument("--skip-ceiling", action="store_true", help="do not measure the ceiling (no ratio)")
    parser.add_argument(
        "--profile", action="store_true", help="py-spy record the server during the closed- and open-loop phases"
    )
    parser.add_argument("--profile-rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument(
        "--profile-native",
        action="store_true",
        help="with --profile: native frames too (pauses the server per sample)",
    )
    parser.add_argument("--keep-work", action="store_true", help="keep the temp dir (data, logs, raw results)")
    parser.add_argument(
        "--sustained",
        action="store_true",
        help="instead of the phases above: the sustained-rate search against the end-to-end ceiling",
    )
    sustained.add_arguments(parser)
    soak.add_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.duration = 5.0
        args.drain_timeout = min(args.drain_timeout, 60.0)
    if not 0 < args.duration <= 600:
        parser.error("--duration must be in (0, 600]")
    if not 1 <= args.connections <= 1024:
        parser.error("--connections must be in [1, 1024]")
    if not 0 < args.drain_timeout <= 600:
        parser.error("--drain-timeout must be in (0, 600]")
    return args


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--table":  # re-print the table of a results file
        print(table(json.loads(Path(sys.argv[2]).read_text())))
        return 0
    args = parse_args()
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    work = Path(tempfile.mkdtemp(prefix="heliograph-bench-"))
    report: dict[str, Any] = {
        "meta": {
            "timestamp": dt.datetime.now().isoformat(timespec="seconds"),
            "host": platform.node(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "loadavg_at_start": os.getloadavg(),
            "duration_s": args.duration,
            "connections": args.connections,
            "dlr_delay_ms": args.dlr_delay_ms,
            "sender_mps": f"{args.sender_mps:g}" if args.sender_mps > 0 else "server default",
            "git": git_state(),
            "server_env": args.server_env,
            "database": "postgresql" if args.database else "sqlite",
            "processes": args.processes,
            "destinations": DESTINATION_NOTE,
            "work_dir": str(work),
        },
        "ceiling": None,
        "closed_loop": None,
        "open_loop": None,
    }
    hg: Heliograph | None = None
    failed = False
    if args.sustained:
        return sustained_main(args, work, report)
    if args.messages:
        return soak.soak_main(args, work, report)
    try:
        if not args.skip_ceiling:
            print(f"[1/4] ceiling: bare Starlette, closed loop, {args.duration:g} s ...", flush=True)
            report["ceiling"] = ceiling_phase(args, work)
            print(f"      {report['ceiling']['accepted_per_s']:,.0f} req/s", flush=True)
        print("[2/4] starting heliograph serve and the webhook receiver ...", flush=True)
        hg = Heliograph(args, work)
        hg.start()
        report["meta"]["smoke"] = hg.smoke()
        print(f"      smoke message end to end in {report['meta']['smoke']['end_to_end_ms']} ms", flush=True)
        print(
            f"[3/4] closed loop, {args.connections} connections, {args.duration:g} s, then drain ...",
            flush=True,
        )
        if args.skip_closed and args.open_rate:
            print("      skipped (--skip-closed)", flush=True)
            rate = args.open_rate
        else:
            report["closed_loop"] = traffic_phase("closed", hg, args, "closed")
            cl = report["closed_loop"]
            print(
                f"      {cl['accepted_per_s']:,.0f} msgs/s accepted; drained {cl['drain_after_load_s']} s after load",
                flush=True,
            )
            rate = args.open_rate or round(max(1.0, cl["accepted_per_s"] * args.open_fraction), 1)
        print(f"[4/4] open loop at {rate:g} msgs/s for {args.duration:g} s, then drain ...", flush=True)
        report["open_loop"] = traffic_phase("open", hg, args, "open", rate=rate)
        report["meta"]["server_memory_kib"] = memory_kib(hg.server.pid)
        report["receiver"] = hg.stats()
        report["meta"]["server_log_bytes"] = hg.server.log_path.stat().st_size
    except BaseException as exc:
        failed = True
        print(f"\nbenchmark failed: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        if hg is not None and hg.server is not None:
            print(f"server log tail ({hg.server.log_path}):\n{hg.server.log_tail()}", file=sys.stderr)
        report["error"] = f"{exc.__class__.__name__}: {exc}"  # interrupted runs still write their JSON
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # let the clean-up finish (it is bounded)
            signal.signal(sig, signal.SIG_IGN)
        if hg is not None:
            hg.stop()
            report["server_db_after"] = (
                pg_db_state(args.database) if args.database else db_state(hg.data_dir / "heliograph.db")
            )
        stop_all()
    errors_logged = _count_error_lines(work / "server.log")
    report["summary"] = summary(report, errors_logged)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{STAMP}.json"
    out.write_text(json.dumps(report, indent=2))
    if report["closed_loop"] is not None or report["open_loop"] is not None:
        print()
        print(table(report))
        for phase in ("closed_loop", "open_loop"):
            profile = (report[phase] or {}).get("profile")
            if profile and "samples_by_thread_kind" in profile:
                print()
                print(f"server profile, {phase.replace('_', ' ')} ({profile['collapsed_stacks']}):")
                print(pyspy_summary.render(profile))
    print(f"\nJSON: {out.relative_to(BENCH.parent)}")
    if args.keep_work or failed:
        print(f"work dir kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


def sustained_main(args: argparse.Namespace, work: Path, report: dict) -> int:
    """`--sustained`: the end-to-end ceiling's and Heliograph's sustained rates, searched the same way."""
    hg = Heliograph(args, work)
    failed = False
    try:
        hg.start()
        report["meta"]["smoke"] = hg.smoke()
        print(f"[sustained] open-loop search, {args.duration:g} s per rate", flush=True)
        report["sustained"] = sustained.sustained_phase(args, work, hg)
        report["meta"]["server_memory_kib"] = memory_kib(hg.server.pid)
    except BaseException as exc:
        failed = True
        print(f"\nbenchmark failed: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        report["error"] = f"{exc.__class__.__name__}: {exc}"
    finally:
        hg.stop()
        stop_all()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"sustained-{STAMP}.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    if "sustained" in report:
        print()
        print(sustained.table(report["sustained"]))
    print(f"\nJSON: {out.relative_to(BENCH.parent)}")
    if not (args.keep_work or failed):
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


def db_state(path: Path) -> dict[str, Any]:
    """The server's own database after the run (read-only): messages and webhook events by status."""
    import sqlite3

    if not path.exists():
        return {}
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            messages = conn.execute(
                "SELECT status, count(*), sum(completed_at IS NULL) FROM messages GROUP BY status"
            ).fetchall()
            events = conn.execute(
                "SELECT event_type, status, count(*) FROM webhook_events GROUP BY event_type, status"
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return {"error": str(exc)}
    return {
        "messages_by_status": {s: {"count": n, "not_completed": nc} for s, n, nc in messages},
        "webhook_events": {f"{t} {s}": n for t, s, n in events},
    }


def pg_db_state(url: str) -> dict[str, Any]:
    """db_state for a gateway's PostgreSQL database."""

    def rows(sql: str) -> list[list[str]]:
        done = subprocess.run([*_psql(url), "-AtF", "|", "-c", sql], capture_output=True, text=True, timeout=60)
        return [line.split("|") for line in done.stdout.splitlines() if line]

    try:
        messages = rows(
            "SELECT status, count(*), count(*) FILTER (WHERE completed_at IS NULL) FROM messages GROUP BY 1"
        )
        events = rows("SELECT event_type, status, count(*) FROM webhook_events GROUP BY 1, 2")
    except (OSError, subprocess.SubprocessError) as exc:
        return {"error": str(exc)}
    return {
        "messages_by_status": {s: {"count": int(n), "not_completed": int(nc)} for s, n, nc in messages},
        "webhook_events": {f"{t} {s}": int(n) for t, s, n in events},
    }


def git_state() -> dict[str, Any]:
    def git(*argv: str) -> str:
        try:
            done = subprocess.run(["git", *argv], cwd=BENCH.parent, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return done.stdout.rstrip()

    dirty = [line[3:] for line in git("status", "--porcelain").splitlines() if not line[3:].startswith("bench/")]
    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty_outside_bench": dirty}


def _count_error_lines(path: Path) -> int:
    try:
        return sum(
            1
            for line in path.read_text(errors="replace").splitlines()
            if '"level": "error"' in line or "Traceback" in line
        )
    except OSError:
        return 0


def summary(report: dict, errors_logged: int) -> dict:
    c, cl, op = report["ceiling"], report["closed_loop"], report["open_loop"]
    mem = report["meta"].get("server_memory_kib", {})
    ratio = round(100 * cl["accepted_per_s"] / c["accepted_per_s"], 1) if c and cl and c["accepted_per_s"] else None
    lost = sum((p or {}).get(k, 0) or 0 for p in (cl, op) for k in ("lost_messages", "lost_webhooks"))
    non200 = sum(sum(p["non_200"].values()) + sum(p["exceptions"].values()) for p in (cl, op) if p)
    targets = []
    if ratio is not None:
        targets.append(("accepted rate >= 40% of ceiling", ratio >= 40, f"{ratio} %"))
    if op:
        p99 = op["end_to_end_ms"]["p99"]
        targets.append(
            (
                "open-loop end-to-end p99 < 1 s",
                p99 is not None and p99 < 1000,
                f"{fmt(p99)} ms at {fmt(op['offered_per_s'])} msgs/s",
            )
        )
    if cl or op:
        targets.append(
            (
                "nothing lost (messages, webhooks) and no errors",
                lost == 0 and non200 == 0,
                f"{lost} lost, {non200} errors",
            )
        )
    stats = report.get("receiver") or {}  # receiver-wide counters (all phases)
    cpu_ratio = None
    if c and cl and c.get("server_cpu_ms_per_msg") and cl.get("server_cpu_ms_per_msg"):
        cpu_ratio = round(cl["server_cpu_ms_per_msg"] / c["server_cpu_ms_per_msg"], 1)
    return {
        "ratio_vs_ceiling_pct": ratio,
        "cpu_per_msg_vs_ceiling": cpu_ratio,
        "server_peak_rss_mib": round(mem["VmHWM"] / 1024, 1) if mem.get("VmHWM") else None,
        "server_children_peak_rss_mib": round(mem["children_VmHWM"] / 1024, 1) if mem.get("children_VmHWM") else None,
        "webhook_duplicates": stats.get("duplicates", "-"),
        "webhook_retried": stats.get("retried", "-"),
        "webhook_bad": stats.get("bad", "-"),
        "final_statuses": stats.get("final_status", "-"),
        "server_error_log_lines": errors_logged,
        "targets": targets,
    }


if __name__ == "__main__":
    sys.exit(main())

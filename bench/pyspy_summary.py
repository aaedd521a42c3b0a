"""Read py-spy's collapsed stacks ("raw" format, recorded with --threads --idle --subprocesses) of
`heliograph serve` and say where the time goes, for the API process and for its worker process apart:
per thread kind, the event-loop thread split by activity, the aiosqlite worker threads split into
waiting-for-work / write-lock busy-sleep / running SQL.

    python bench/pyspy_summary.py bench/results/<stamp>-closed.pyspy.txt

Works with or without --native; with it, GC time, the SQLite busy handler's sleeps and epoll idle
are told apart precisely (without it they fold into "event loop (C)" / "running SQL").
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

# Activities of the event-loop thread, most specific first: the first marker found anywhere in the
# stack names the sample's bucket.
MAIN_BUCKETS: list[tuple[str, str]] = [
    ("sender_with_profile", "POST: sender + profile lookup (store.accounts.sender_with_profile)"),
    ("opted_out", "POST: opt-out lookup"),
    ("authenticate", "POST: authentication"),
    ("SenderPacer", "POST: sender pacing"),
    ("GroupCommitter.commit", "POST: hand to group committer"),
    ("json_object", "POST: request JSON parsing"),
    ("services/sending.py", "POST: other send logic (services.sending)"),
    ("api/routes/messages.py", "POST: route code"),
    ("RequestResponseCycle", "POST: ASGI / FastAPI / Starlette stack"),
    ("HttpToolsProtocol", "POST: HTTP parsing (httptools)"),
    ("GroupCommitter._run", "group committer: batch INSERT"),
    ("_commit_changes", "dispatcher: record sent + message.sent event (write transaction)"),
    ("dispatch_once", "dispatcher: claim + submit + record sent"),
    ("submit_round", "dispatcher: claim + submit + record sent"),
    ("submit_with_media", "dispatcher: claim + submit + record sent"),
    ("Dispatcher.run", "dispatcher: loop / next-due query"),
    ("record_reports", "receipts: record delivered + finalized event"),
    ("SimulatorCarrier", "simulator carrier"),
    ("signing.py", "webhooks: Ed25519 signature"),
    ("WebhookSender._attempt", "webhooks: POST (aiohttp) and the rest of an attempt"),
    ("WebhookSender._claim_loop", "webhooks: claim due events"),
    ("WebhookSender._wait_for_work", "webhooks: next-due query"),
    ("WebhookSender._flush", "webhooks: record attempts"),
    ("WebhookSender._record_loop", "webhooks: record attempts"),
    ("aiohttp", "webhooks: aiohttp client internals"),
    ("_housekeeping", "housekeeping"),
    ("aiosqlite", "aiosqlite hand-off (outside any activity above)"),
    ("sqlalchemy", "SQLAlchemy (outside any activity above)"),
]

_LINE = re.compile(r":\d+\)$")


def _frames(stack: str) -> tuple[str, str, list[str]]:
    """(process role, thread, Python/native frames). With --subprocesses a child's stacks start with its
    parent's `process …` part, then its own: the last one names the process."""
    parts = stack.split(";")
    processes = [p for p in parts[:4] if p.startswith("process ")]
    role = "worker" if processes and " worker " in processes[-1] else "api"
    thread = next((p for p in parts[:4] if p.startswith("thread ")), "")
    return role, thread, [p for p in parts if p and not p.startswith(("process ", "thread "))]


def _kind(thread: str, frames: list[str]) -> str:
    if "MainThread" in thread:
        return "event loop (MainThread)"
    if any("_connection_worker_thread" in f for f in frames):
        return "aiosqlite workers"
    return "other threads"


def _is_python(frame: str) -> bool:
    return ".py:" in frame or ".py)" in frame


def short(frame: str) -> str:
    """'func (/long/path/site-packages/pkg/mod.py:12)' -> 'func (pkg/mod.py)'."""
    func, _, where = frame.partition(" (")
    where = _LINE.sub(")", "(" + where).strip("()")
    for marker in ("site-packages/", "/src/", "/lib/python3.11/", "/lib/python3"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{func} ({where})"


def _main_bucket(frames: list[str], native: bool) -> str:
    leaf = frames[-1] if frames else ""
    if native and any("gc_collect" in f for f in frames):
        return "GC (gc_collect_main)"
    if "epoll_wait" in leaf or "epoll_pwait" in leaf:
        return "idle (epoll wait)"
    for marker, name in MAIN_BUCKETS:
        if any(marker in f for f in frames):
            return name
    python = [f for f in frames if _is_python(f)]
    if python and python[-1].startswith("Runner.run"):
        return "event loop C code (uvloop: I/O, callbacks; idle too unless --native)"
    return "other"


def _worker_bucket(frames: list[str], native: bool) -> str:
    python = [f for f in frames if _is_python(f)]
    leaf_py = python[-1] if python else ""
    if native:
        if any("sqlite3InvokeBusyHandler" in f or "usleep" in f for f in frames):
            return "SQLite busy handler sleeping (write lock held by another connection)"
        if any("pthread_cond_timedwait" in f for f in frames):
            return "waiting for the GIL"
        if any("SimpleQueue_get" in f for f in frames):
            return "waiting for work (idle)"
        if any("sqlite3" in f for f in frames):
            return "running SQL (SQLite C code)"
        return "other (Python glue)"
    if leaf_py.endswith(":59)") or "tx.get" in leaf_py:
        return "waiting for work (idle)"
    return "running SQL / busy-waiting on the write lock / GIL (use --native to split)"


def summarise(path: Path, top: int = 20) -> dict[str, Any]:
    """The API process's summary at the top level; the worker process's (when it was recorded) under
    "worker_process"."""
    lines = path.read_text(errors="replace").splitlines()
    native = any("libsqlite3" in line or "libc.so" in line for line in lines[:2000])
    out = _summarise(lines, native, "api", top)
    worker = _summarise(lines, native, "worker", top)
    if worker["samples_by_thread_kind"]:
        out["worker_process"] = worker
    return out


def _summarise(lines: list[str], native: bool, role: str, top: int) -> dict[str, Any]:
    kinds: Counter[str] = Counter()
    main: Counter[str] = Counter()
    main_leaf: Counter[str] = Counter()
    workers: Counter[str] = Counter()
    worker_threads: set[str] = set()
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        process, thread, frames = _frames(stack)
        if process != role:
            continue
        kind = _kind(thread, frames)
        kinds[kind] += n
        if kind == "event loop (MainThread)":
            bucket = _main_bucket(frames, native)
            main[bucket] += n
            if not bucket.startswith(("idle", "event loop C")):
                python = [f for f in frames if _is_python(f)]
                if python:
                    main_leaf[short(python[-1])] += n
        elif kind == "aiosqlite workers":
            workers[_worker_bucket(frames, native)] += n
            worker_threads.add(thread.split(":", 1)[0])  # "thread (OS tid)"; py-spy's names go stale
    main_total = max(sum(main.values()), 1)
    worker_total = max(sum(workers.values()), 1)
    busy = main_total - sum(v for k, v in main.items() if k.startswith("idle"))

    def pct(counter: Counter[str], total: int, limit: int = top) -> list[list[Any]]:
        return [[k, round(100 * v / total, 1)] for k, v in counter.most_common(limit)]

    return {
        "native": native,
        "samples_by_thread_kind": dict(kinds),
        "main_thread_pct": pct(main, main_total, 40),
        "main_thread_busy_pct": round(100 * busy / main_total, 1) if native else None,
        "main_thread_top_python_frames_pct": pct(main_leaf, main_total),
        "aiosqlite_worker_pct": pct(workers, worker_total),
        "aiosqlite_threads_seen": len(worker_threads),
        "aiosqlite_worker_thread_equivalents": {
            k: round(v / max(kinds["event loop (MainThread)"], 1), 2) for k, v in workers.most_common()
        },
    }


def render(summary: dict[str, Any]) -> str:
    out = [_render(summary, "API process")]
    if "worker_process" in summary:
        out.append(_render(summary["worker_process"], "worker process"))
    return "\n".join(out)


def _render(summary: dict[str, Any], name: str) -> str:
    out = [f"py-spy summary of the {name} ({'native' if summary['native'] else 'Python frames only'})"]
    out.append(f"samples by thread kind: {summary['samples_by_thread_kind']}")
    if summary.get("main_thread_busy_pct") is not None:
        out.append(f"event-loop thread busy (not in epoll): {summary['main_thread_busy_pct']} %")
    out.append("event-loop thread, by activity (% of its samples):")
    out += [f"  {v:5.1f}  {k}" for k, v in summary["main_thread_pct"]]
    out.append("event-loop thread, top Python frames when busy (% of its samples):")
    out += [f"  {v:5.1f}  {k}" for k, v in summary["main_thread_top_python_frames_pct"]]
    out.append(
        f"aiosqlite worker threads seen (distinct OS threads, one per SQLite connection): "
        f"{summary['aiosqlite_threads_seen']} (more than the pools hold at once = connections churned)"
    )
    out.append("aiosqlite workers, by state (average number of threads in each state):")
    out += [f"  {v:5.2f}  {k}" for k, v in summary["aiosqlite_worker_thread_equivalents"].items()]
    return "\n".join(out)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(render(summarise(Path(sys.argv[1]))))

"""Console benchmark: the conversation list with many messages stored, and live-stream tabs against the API.

    python bench/console_bench.py                       # 100,000 messages, 50 tabs (~1–2 min)
    python bench/console_bench.py --messages 20000      # smoke test

1. A sandbox data dir gets `--messages` messages inserted straight into `messages` (spread over `--handsets`
   virtual handsets and the sandbox's two numbers, 10 % inbound, the last 30 days).
2. In process (no HTTP): `services.conversations.latest` plus the page template, timed `--requests` times:
   the server's own time to build the list page.
3. Over HTTP: `GET /console/` on one keep-alive connection, `--requests` times (wall time, loopback).
4. Tabs: `POST /v2/messages` at a fixed pace with 0 open `/console/events` streams, then with `--tabs`
   streams open (each must receive events); the send latency and the server CPU are compared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
API_KEY = "KEYCONSOLEBENCH000000000000000000000000"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (the worker process), from /proc."""
    total = 0.0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    return total


class Serve:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir, self.port = data_dir, port
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Serve:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HELIOGRAPH_")}
        env.update(HELIOGRAPH_API_KEY=API_KEY, HELIOGRAPH_LOG_LEVEL="warning", HELIOGRAPH_SIMULATOR_DLR_DELAY_MS="50")
        self.log = open(self.data_dir / "server.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "heliograph", "serve", "--port", str(self.port), "--data-dir", str(self.data_dir)],
            env=env,
            stdout=self.log,
            stderr=self.log,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise SystemExit("server did not start; see " + str(self.data_dir / "server.log"))

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(30)
        self.log.close()


def load(data_dir: Path, count: int, handsets: int, seed: int) -> str:
    """Insert `count` messages for the sandbox organization; returns its id."""
    from sqlalchemy import create_engine, select

    from heliograph.store.tables import messages, organizations, phone_numbers

    engine = create_engine(f"sqlite:///{data_dir / 'heliograph.db'}")
    rng = random.Random(seed)
    now = int(time.time() * 1_000_000)
    with engine.begin() as conn:
        org_id = conn.execute(select(organizations.c.id).where(organizations.c.is_sandbox.is_(True))).scalar_one()
        numbers = conn.execute(
            select(phone_numbers.c.phone_number, phone_numbers.c.messaging_profile_id).where(
                phone_numbers.c.organization_id == org_id
            )
        ).all()
    phones = [f"+1312{rng.randrange(10**7):07d}" for _ in range(handsets)]
    start = now - 30 * 86400 * 1_000_000
    step = (now - start) // count
    batch = []
    for i in range(count):
        number, profile_id = numbers[i % len(numbers)]
        handset = phones[rng.randrange(handsets)]
        inbound = rng.random() < 0.1
        at = start + i * step
        batch.append(
            {
                "id": f"{i:08d}-0000-4000-8000-{rng.randrange(16**12):012x}",
                "organization_id": org_id,
                "messaging_profile_id": profile_id,
                "direction": "inbound" if inbound else "outbound",
                "type": "SMS",
                "status": "delivered",
                "from_number": handset if inbound else number,
                "from_carrier": "",
                "from_line_type": "",
                "to_number": number if inbound else handset,
                "to_carrier": "",
                "to_line_type": "",
                "text": f"Message {i} about order {rng.randrange(10**6)}",
                "transmitted_text": None,
                "subject": None,
                "media": [],
                "webhook_url": None,
                "webhook_failover_url": None,
                "use_profile_webhooks": True,
                "encoding": "GSM-7",
                "parts": 1,
                "num_chars": 30,
                "tags": [],
                "cost_rate": "0.0040",
                "cost_carrier_fee": "0.0010",
                "errors": [],
                "smart_encoding_applied": False,
                "wait_seconds": 0.0,
                "received_at": at,
                "sent_at": at + 1000,
                "completed_at": at + 200_000,
                "valid_until": None,
                "send_at": None,
                "due_at": None,
                "lease_until": None,
                "submit_attempts": 1,
                "carrier_message_id": None,
                "group_message_id": None,
                "extra": None,
            }
        )
        if len(batch) == 20_000:
            with engine.begin() as conn:
                conn.execute(messages.insert(), batch)
            batch = []
    if batch:
        with engine.begin() as conn:
            conn.execute(messages.insert(), batch)
    engine.dispose()
    return org_id


async def in_process(data_dir: Path, org_id: str, requests: int) -> list[float]:
    """Server time of the list page: the service call and the template, without HTTP."""
    from heliograph.bootstrap import build
    from heliograph.console.routes import templates
    from heliograph.services import conversations
    from heliograph.settings import Settings

    hg = build(Settings(data_dir=data_dir))
    template = templates.get_template("conversations.html")
    times = []
    try:
        for _ in range(requests + 3):
            t0 = time.perf_counter()
            items = await conversations.latest(hg.ctx, org_id)
            template.render(items=items, thread=None, org={"id": org_id}, csrf_token="x", active="conversations")
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        await hg.ctx.db.dispose()
    return times[3:]


async def tabs_phase(url: str, tabs: int, sends: int, rate: float) -> dict:
    """Paced sends with `tabs` open event streams; send latency and how many streams saw events."""
    streams_seen = [0] * tabs
    stop = asyncio.Event()

    async def tab(i: int, client: httpx.AsyncClient) -> None:
        async with client.stream("GET", url + "/console/events") as response:
            async for line in response.aiter_lines():
                if line.startswith("event: status-"):
                    streams_seen[i] += 1
                if stop.is_set():
                    return

    limits = httpx.Limits(max_connections=tabs + 10)
    async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=None), limits=limits) as client:
        readers = [asyncio.create_task(tab(i, client)) for i in range(tabs)]
        await asyncio.sleep(1.0 if tabs else 0)
        latencies = []
        headers = {"Authorization": f"Bearer {API_KEY}"}
        t_start = time.perf_counter()
        for n in range(sends):
            due = t_start + n / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            t0 = time.perf_counter()
            r = await client.post(
                url + "/v2/messages",
                json={"from": "+13125550100", "to": f"+1312555{n % 10000:04d}", "text": "tab bench"},
                headers=headers,
            )
            assert r.status_code == 200, r.text
            latencies.append((time.perf_counter() - t0) * 1000)
        await asyncio.sleep(2.0)  # the last receipts reach the streams
        stop.set()
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    return {
        "p50_ms": statistics.median(latencies),
        "p99_ms": percentile(latencies, 0.99),
        "tabs_with_events": sum(1 for s in streams_seen if s > 0),
        "events_per_tab": statistics.median(streams_seen) if tabs else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--handsets", type=int, default=5_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--tabs", type=int, default=50)
    parser.add_argument("--sends", type=int, default=300)
    parser.add_argument("--rate", type=float, default=50.0, help="sends per second in the tab phases")
    parser.add_argument("--port", type=int, default=18777)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="console-bench-"))
    with Serve(data_dir, args.port):  # migrate and bootstrap the sandbox account
        pass
    t0 = time.perf_counter()
    org_id = load(data_dir, args.messages, args.handsets, args.seed)
    load_s = time.perf_counter() - t0
    server_ms = asyncio.run(in_process(data_dir, org_id, args.requests))
    with Serve(data_dir, args.port) as serve:
        with httpx.Client(base_url=serve.url, timeout=30) as http:
            http.get("/console/")
            wall = []
            for _ in range(args.requests):
                t1 = time.perf_counter()
                response = http.get("/console/")
                wall.append((time.perf_counter() - t1) * 1000)
                assert response.status_code == 200 and response.text.count('class="who"') == min(100, args.handsets)
        assert serve.process is not None
        phases = {}
        for tabs in (0, args.tabs):
            cpu0 = cpu_seconds(serve.process.pid)
            phases[tabs] = asyncio.run(tabs_phase(serve.url, tabs, args.sends, args.rate))
            phases[tabs]["server_cpu_s"] = cpu_seconds(serve.process.pid) - cpu0
    result = {
        "messages": args.messages,
        "handsets": args.handsets,
        "load_seconds": round(load_s, 1),
        "list_server_ms": {"p50": statistics.median(server_ms), "p95": percentile(server_ms, 0.95)},
        "list_http_ms": {"p50": statistics.median(wall), "p95": percentile(wall, 0.95)},
        "tabs": {str(k): v for k, v in phases.items()},
    }
    print(f"conversation list, {args.messages:,} messages over {args.handsets:,} handsets (100 newest shown)")
    print(
        f"  server time (service + template)  p50 {result['list_server_ms']['p50']:.1f} ms"
        f"  p95 {result['list_server_ms']['p95']:.1f} ms   target < 300 ms"
    )
    print(
        f"  GET /console/ over loopback       p50 {result['list_http_ms']['p50']:.1f} ms"
        f"  p95 {result['list_http_ms']['p95']:.1f} ms"
    )
    print(f"live streams: {args.sends} sends at {args.rate:g}/s")
    for tabs, figures in phases.items():
        print(
            f"  {tabs:>3} tabs open: send p50 {figures['p50_ms']:.1f} ms  p99 {figures['p99_ms']:.1f} ms"
            f"  server CPU {figures['server_cpu_s']:.1f} s  tabs with events {figures['tabs_with_events']}/{tabs}"
            f"  status events per tab {figures['events_per_tab']}"
        )
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"console-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""Benchmark load generator: POST /v2/messages over keep-alive connections, in its own process.

closed  N workers (one aiohttp session, connector limit N) each send the next request as soon as
        the previous answer arrived, until the duration is up.
open    requests start at fixed times (t0 + i / rate), whatever the answers do; each is its own task.
        Send times are the *scheduled* times, so a slow server cannot hide its queueing delay behind
        a late start (no coordinated omission). In-flight requests are capped; anything beyond the
        cap is counted as `skipped`, never silently dropped.

Times are time.monotonic() (one clock for every process on Linux). Writes one JSON file:
per accepted request [message id, send time, POST latency in ms], status counts, exceptions.

    python bench/loadgen.py closed --url http://127.0.0.1:8000 --key K --from +13125550100 --out r.json
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import time
from collections import Counter

import aiohttp
import orjson

TEXT = "Heliograph benchmark message: the quick brown fox jumps over the lazy dog, 0123456789."


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.url = args.url.rstrip("/") + "/v2/messages"
        self.headers = {"Authorization": f"Bearer {args.key}", "Content-Type": "application/json"}
        self.rng = random.Random(args.seed)
        self.samples: list[tuple[str, float, float]] = []  # accepted: id, send time, latency ms
        self.latencies: list[float] = []  # every answered request, any status, ms
        self.status: Counter[int] = Counter()
        self.exceptions: Counter[str] = Counter()
        self.error_examples: list[str] = []
        self.sent = 0
        self.skipped = 0
        self.late = 0  # open loop: started > 5 ms after schedule
        self.max_lag_ms = 0.0
        self.first_send: float | None = None
        self.last_done: float | None = None

    def body(self) -> bytes:
        to = f"+1312555{self.rng.randrange(10000):04d}"
        return orjson.dumps({"from": self.args.sender, "to": to, "text": TEXT})

    async def one(self, session: aiohttp.ClientSession, scheduled: float) -> None:
        body = self.body()
        self.sent += 1
        started = time.monotonic()
        if self.first_send is None:
            self.first_send = scheduled
        try:
            async with session.post(self.url, data=body, headers=self.headers) as response:
                raw = await response.read()
                status = response.status
        except Exception as exc:  # noqa: BLE001 - every failure is counted, by kind
            self.exceptions[type(exc).__name__] += 1
            if len(self.error_examples) < 5:
                self.error_examples.append(f"{type(exc).__name__}: {exc}")
            self.last_done = time.monotonic()
            return
        done = time.monotonic()
        self.last_done = done
        latency_ms = (done - started) * 1000
        self.latencies.append(latency_ms)
        self.status[status] += 1
        if status == 200:
            try:
                message_id = orjson.loads(raw)["data"]["id"]
            except (orjson.JSONDecodeError, KeyError, TypeError):
                self.exceptions["BadBody"] += 1
                return
            if self.args.keep_ids:
                self.samples.append((message_id, scheduled, latency_ms))
        elif len(self.error_examples) < 5:
            self.error_examples.append(f"HTTP {status}: {raw[:300].decode(errors='replace')}")

    async def closed(self, session: aiohttp.ClientSession) -> None:
        deadline = time.monotonic() + self.args.duration
        cap = self.args.max_requests

        async def worker() -> None:
            while self.sent < cap:
                now = time.monotonic()
                if now >= deadline:
                    return
                await self.one(session, now)

        await asyncio.gather(*(worker() for _ in range(self.args.connections)))

    async def open(self, session: aiohttp.ClientSession) -> None:
        rate = self.args.rate
        total = min(int(rate * self.args.duration), self.args.max_requests)
        inflight: set[asyncio.Task] = set()
        t0 = time.monotonic() + 0.05
        i = 0
        while i < total:
            now = time.monotonic()
            while i < total:
                due = t0 + i / rate
                if due > now:
                    break
                lag = (now - due) * 1000
                self.max_lag_ms = max(self.max_lag_ms, lag)
                if lag > 5:
                    self.late += 1
                if len(inflight) >= self.args.max_inflight:
                    self.skipped += 1
                else:
                    task = asyncio.create_task(self.one(session, due))
                    inflight.add(task)
                    task.add_done_callback(inflight.discard)
                i += 1
            if i < total:
                await asyncio.sleep(max(0.0, min(t0 + i / rate - time.monotonic(), 0.01)))
        if inflight:
            await asyncio.wait(inflight, timeout=self.args.timeout + 5)

    async def main(self) -> dict:
        connector = aiohttp.TCPConnector(limit=self.args.connections, limit_per_host=0)
        timeout = aiohttp.ClientTimeout(total=self.args.timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            started = time.monotonic()
            if self.args.mode == "closed":
                await self.closed(session)
            else:
                await self.open(session)
            ended = time.monotonic()
        first = self.first_send or started
        last = self.last_done or ended
        return {
            "mode": self.args.mode,
            "connections": self.args.connections,
            "rate": self.args.rate if self.args.mode == "open" else None,
            "duration_requested": self.args.duration,
            "started": first,
            "ended": last,
            "elapsed": last - first,
            "sent": self.sent,
            "skipped": self.skipped,
            "late_starts": self.late,
            "max_start_lag_ms": round(self.max_lag_ms, 2),
            "accepted": self.status.get(200, 0),
            "status_counts": {str(k): v for k, v in sorted(self.status.items())},
            "exceptions": dict(self.exceptions),
            "error_examples": self.error_examples,
            "cpu_seconds": _cpu_seconds(),
            "latencies_ms": self.latencies,
            "samples": self.samples,
        }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("closed", "open"))
    parser.add_argument("--url", required=True, help="server base URL (loopback only)")
    parser.add_argument("--key", default="unused", help="API key")
    parser.add_argument("--from", dest="sender", default="+13125550100", help="sending number")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rate", type=float, default=100.0, help="open loop: requests per second")
    parser.add_argument("--max-inflight", type=int, default=4096, help="open loop: in-flight cap")
    parser.add_argument("--max-requests", type=int, default=2_000_000, help="hard cap on requests sent")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout, seconds")
    parser.add_argument("--keep-ids", action="store_true", help="record accepted message ids and send times")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    host = args.url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
    if host not in ("127.0.0.1", "localhost", "[::1]"):
        parser.error("traffic goes to loopback only")
    try:
        import uvloop

        result = uvloop.run(Run(args).main())
    except ImportError:
        result = asyncio.run(Run(args).main())
    with open(args.out, "wb") as f:
        f.write(orjson.dumps(result))


if __name__ == "__main__":
    main()

"""Benchmark load generator: POST /v2/messages over keep-alive connections, in its own process.

closed  N workers (one aiohttp session, connector limit N) each send the next request as soon as
        the previous answer arrived, until the duration is up.
open    requests start at fixed times (t0 + i / rate), whatever the answers do; each is its own task.
        Send times are the *scheduled* times, so a slow server cannot hide its queueing delay behind
        a late start (no coordinated omission). In-flight requests are capped; anything beyond the
        cap is counted as `skipped`, never silently dropped.

Times are time.monotonic() (one clock for every process on Linux). Writes one JSON file:
per accepted request [message id, send time, POST latency in ms], status counts, exceptions.

With --mix (bench/mixed_bench.py) each request is one of several kinds, drawn by weight:
  sms        POST /v2/messages, one GSM-7 part (the default workload's body)
  ucs2       POST /v2/messages, 181 Cyrillic characters: UCS-2, 3 parts
  mms        POST /v2/messages with media_urls=[--media-url] (a PNG the benchmark serves on 127.0.0.1)
  pool       POST /v2/messages/number_pool with messaging_profile_id=--profile-id (no from)
  scheduled  POST /v2/messages/schedule with send_at = now + --schedule-ahead seconds
and the result also has, per kind: requests, status counts, latencies, exceptions, and what the answers
said (type / encoding / parts / status, and the distinct `from` numbers the pool chose).

    python bench/loadgen.py closed --url http://127.0.0.1:8000 --key K --from +13125550100 --out r.json
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import resource
import time
from collections import Counter

import aiohttp
import orjson

# ~150 GSM-7 characters: one SMS part; the request body is ~200 bytes, as in DESIGN.md's reference figures
TEXT = (
    "Heliograph benchmark message: the quick brown fox jumps over the lazy dog, 0123456789. "
    "Pack my box with five dozen liquor jugs; sphinx of black quartz."
)

# 181 characters outside GSM-7: UCS-2, 67 characters a part when concatenated → 3 parts (317 bytes UTF-8)
UCS2_TEXT = (
    "Привет! Это тестовое сообщение Heliograph: проверка UCS-2 из трёх частей. "
    "Съешь же ещё этих мягких французских булок да выпей чаю. "
    "Широкая электрификация южных губерний даст толчок."
)
KINDS = ("sms", "ucs2", "mms", "pool", "scheduled")
MAX_POOL_SENDERS = 1000  # bound on the distinct pool senders remembered


def parse_mix(spec: str) -> list[tuple[str, float]]:
    """ "sms=50,ucs2=15,mms=10,pool=15,scheduled=10" → [(kind, weight)], weights > 0."""
    out = []
    for item in spec.split(","):
        kind, _, weight = item.partition("=")
        kind = kind.strip()
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r} in --mix (known: {', '.join(KINDS)})")
        if float(weight) > 0:
            out.append((kind, float(weight)))
    if not out:
        raise ValueError("--mix has no kind with a positive weight")
    return out


class KindStats:
    def __init__(self) -> None:
        self.sent = 0
        self.status: Counter[int] = Counter()
        self.exceptions: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.answers: Counter[str] = Counter()  # "type encoding parts status" of accepted answers
        self.senders: set[str] = set()

    def as_dict(self) -> dict:
        return {
            "sent": self.sent,
            "accepted": self.status.get(200, 0),
            "status_counts": {str(k): v for k, v in sorted(self.status.items())},
            "exceptions": dict(self.exceptions),
            "latencies_ms": self.latencies,
            "answers": dict(self.answers),
            "distinct_senders": sorted(self.senders),
        }


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
        self.paced = 0  # accepted with wait_seconds > 0 (the server queued it behind the sender's MPS)
        self.max_wait_seconds = 0.0
        self.max_lag_ms = 0.0
        self.first_send: float | None = None
        self.last_done: float | None = None
        self.mix = parse_mix(args.mix) if args.mix else None
        self.kinds: dict[str, KindStats] = {kind: KindStats() for kind, _ in self.mix or ()}
        self.sample_kinds: list[str] = []  # with --mix: the kind of each entry of `samples`
        self.send_at: dict[str, float] = {}  # scheduled kind: message id → send_at as time.monotonic()

    def destination(self) -> str:
        digits = self.args.to_digits
        return f"{self.args.to_prefix}{self.rng.randrange(10**digits):0{digits}d}"

    def body(self) -> bytes:
        to = self.destination()
        return orjson.dumps({"from": self.args.sender, "to": to, "text": TEXT})

    def mixed_request(self) -> tuple[str, str, bytes, float | None]:
        """(kind, url, body, send_at as time.monotonic() or None) of the next mixed-workload request."""
        assert self.mix is not None
        kind = self.rng.choices([k for k, _ in self.mix], weights=[w for _, w in self.mix])[0]
        to = self.destination()
        base = self.url
        send_at_mono = None
        if kind == "sms":
            url, body = base, {"from": self.args.sender, "to": to, "text": TEXT}
        elif kind == "ucs2":
            url, body = base, {"from": self.args.sender, "to": to, "text": UCS2_TEXT}
        elif kind == "mms":
            url = base
            body = {
                "from": self.args.sender,
                "to": to,
                "text": "Heliograph benchmark MMS",
                "media_urls": [self.args.media_url],
            }
        elif kind == "pool":
            url, body = base + "/number_pool", {"messaging_profile_id": self.args.profile_id, "to": to, "text": TEXT}
        else:  # scheduled
            ahead = self.args.schedule_ahead
            send_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=ahead)
            send_at_mono = time.monotonic() + ahead
            url = base + "/schedule"
            body = {
                "from": self.args.sender,
                "to": to,
                "text": TEXT,
                "send_at": send_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            }
        return kind, url, orjson.dumps(body), send_at_mono

    async def one(self, session: aiohttp.ClientSession, scheduled: float) -> None:
        kind, url, send_at = None, self.url, None
        if self.mix is not None:
            kind, url, body, send_at = self.mixed_request()
            ks = self.kinds[kind]
            ks.sent += 1
        else:
            body = self.body()
        self.sent += 1
        started = time.monotonic()
        if self.first_send is None:
            self.first_send = scheduled
        try:
            async with session.post(url, data=body, headers=self.headers) as response:
                raw = await response.read()
                status = response.status
        except Exception as exc:  # every failure is counted, by kind
            self.exceptions[type(exc).__name__] += 1
            if kind:
                self.kinds[kind].exceptions[type(exc).__name__] += 1
            if len(self.error_examples) < 5:
                self.error_examples.append(f"{kind or ''} {type(exc).__name__}: {exc}".strip())
            self.last_done = time.monotonic()
            return
        done = time.monotonic()
        self.last_done = done
        latency_ms = (done - started) * 1000
        self.latencies.append(latency_ms)
        self.status[status] += 1
        if kind:
            self.kinds[kind].status[status] += 1
            self.kinds[kind].latencies.append(latency_ms)
        if status == 200:
            try:
                data = orjson.loads(raw)["data"]
                message_id = data["id"]
            except (orjson.JSONDecodeError, KeyError, TypeError):
                self.exceptions["BadBody"] += 1
                return
            wait = data.get("wait_seconds") or 0
            if wait > 0:
                self.paced += 1
                self.max_wait_seconds = max(self.max_wait_seconds, wait)
            if kind:
                ks = self.kinds[kind]
                to = (data.get("to") or [{}])[0]
                ks.answers[f"{data.get('type')} {data.get('encoding')} {data.get('parts')} {to.get('status')}"] += 1
                sender = (data.get("from") or {}).get("phone_number")
                if kind == "pool" and sender and len(ks.senders) < MAX_POOL_SENDERS:
                    ks.senders.add(sender)
                if send_at is not None:
                    self.send_at[message_id] = send_at
            if self.args.keep_ids:
                self.samples.append((message_id, scheduled, latency_ms))
                if kind:
                    self.sample_kinds.append(kind)
        elif len(self.error_examples) < 5:
            self.error_examples.append(f"{kind or ''} HTTP {status}: {raw[:300].decode(errors='replace')}".strip())

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
            "paced": self.paced,
            "max_wait_seconds": self.max_wait_seconds,
            "status_counts": {str(k): v for k, v in sorted(self.status.items())},
            "exceptions": dict(self.exceptions),
            "error_examples": self.error_examples,
            "cpu_seconds": _cpu_seconds(),
            "latencies_ms": self.latencies,
            "samples": self.samples,
            **(
                {
                    "mix": self.mix,
                    "kinds": {k: v.as_dict() for k, v in self.kinds.items()},
                    "sample_kinds": self.sample_kinds,
                    "send_at": self.send_at,
                }
                if self.mix
                else {}
            ),
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
    parser.add_argument("--mix", default=None, help="mixed workload, e.g. sms=50,ucs2=15,mms=10,pool=15,scheduled=10")
    parser.add_argument("--media-url", default=None, help="--mix mms: the media URL (loopback)")
    parser.add_argument("--profile-id", default=None, help="--mix pool: the messaging profile with a number pool")
    parser.add_argument("--schedule-ahead", type=float, default=330.0, help="--mix scheduled: send_at = now + this (s)")
    parser.add_argument("--to-prefix", default="+1312555", help="destinations: this prefix and random digits")
    parser.add_argument("--to-digits", type=int, default=4, help="random digits after --to-prefix")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    host = args.url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
    if host not in ("127.0.0.1", "localhost", "[::1]"):
        parser.error("traffic goes to loopback only")
    if args.mix:
        try:
            kinds = {k for k, _ in parse_mix(args.mix)}
        except ValueError as exc:
            parser.error(str(exc))
        if "mms" in kinds and not (args.media_url or "").startswith(("http://127.0.0.1:", "http://localhost:")):
            parser.error("--mix mms needs a loopback --media-url")
        if "pool" in kinds and not args.profile_id:
            parser.error("--mix pool needs --profile-id")
    try:
        import uvloop

        result = uvloop.run(Run(args).main())
    except ImportError:
        result = asyncio.run(Run(args).main())
    with open(args.out, "wb") as f:
        f.write(orjson.dumps(result))


if __name__ == "__main__":
    main()

"""Benchmark webhook receiver: an aiohttp server, in its own process, that records every webhook.

For each message id it keeps the arrival time (time.monotonic(), which on Linux is one clock for all
processes of the machine, so it compares with the load generator's send times) of the first
`message.sent` and the first `message.finalized`, the final status, and counts of everything.

    python bench/webhook_receiver.py --port 9001

    POST /hook    record one webhook, answer 200
    GET  /stats   small JSON: counts (cheap; polled while draining)
    GET  /dump    everything: per-id arrival times and final statuses, every arrival time, counts
    GET  /media/bench.png   a small PNG (MMS media for the mixed workload; fetches are counted)
    POST /quit    stop the server
"""

from __future__ import annotations

import argparse
import asyncio
import struct
import time
import zlib
from collections import Counter

import orjson
from aiohttp import web

MAX_ARRIVALS = 2_000_000  # bound on the arrival-time log (a 20 s run stays far below)


def small_png(width: int = 48, height: int = 48) -> bytes:
    """A valid RGB PNG (a gradient), built with the stdlib: a few KB of MMS media."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in ((x * 5) % 256, (y * 5) % 256, (x * y) % 256))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b"")


PNG = small_png()


class Recorder:
    def __init__(self) -> None:
        self.first: dict[str, dict[str, float]] = {"message.sent": {}, "message.finalized": {}}
        self.final_status: Counter[str] = Counter()
        self.by_type: Counter[str] = Counter()
        self.duplicates: Counter[str] = Counter()
        self.retried = 0  # deliveries with meta.attempt > 1
        self.bad = 0  # bodies we could not read
        self.total = 0
        self.arrivals: list[float] = []
        self.final_by_id: dict[str, str] = {}  # message id → status of its first message.finalized
        self.media_fetches = 0

    def record(self, body: bytes, now: float) -> None:
        self.total += 1
        if len(self.arrivals) < MAX_ARRIVALS:
            self.arrivals.append(now)
        try:
            doc = orjson.loads(body)
            data = doc["data"]
            event_type = data["event_type"]
            payload = data["payload"]
            message_id = payload["id"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self.bad += 1
            return
        self.by_type[event_type] += 1
        if (doc.get("meta") or {}).get("attempt", 1) > 1:
            self.retried += 1
        seen = self.first.get(event_type)
        if seen is None:
            return
        if message_id in seen:
            self.duplicates[event_type] += 1
            return
        seen[message_id] = now
        if event_type == "message.finalized":
            to = payload.get("to") or [{}]
            self.final_status[str(to[0].get("status"))] += 1
            self.final_by_id[message_id] = str(to[0].get("status"))

    def stats(self) -> dict:
        return {
            "total": self.total,
            "bad": self.bad,
            "retried": self.retried,
            "by_type": dict(self.by_type),
            "unique": {k: len(v) for k, v in self.first.items()},
            "duplicates": dict(self.duplicates),
            "final_status": dict(self.final_status),
            "media_fetches": self.media_fetches,
            "last_arrival": self.arrivals[-1] if self.arrivals else None,
        }

    def dump(self) -> dict:
        return {**self.stats(), "first": self.first, "final_by_id": self.final_by_id, "arrivals": self.arrivals}


def build_app(recorder: Recorder, stop: asyncio.Event) -> web.Application:
    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        recorder.record(body, time.monotonic())
        return web.Response(body=b"ok")

    async def stats(request: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps(recorder.stats()), content_type="application/json")

    async def dump(request: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps(recorder.dump()), content_type="application/json")

    async def media(request: web.Request) -> web.Response:
        recorder.media_fetches += 1
        return web.Response(body=PNG, content_type="image/png")

    async def quit_(request: web.Request) -> web.Response:
        stop.set()
        return web.Response(body=b"bye")

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/hook", hook)
    app.router.add_get("/stats", stats)
    app.router.add_get("/dump", dump)
    app.router.add_get("/media/bench.png", media)
    app.router.add_post("/quit", quit_)
    return app


async def serve(host: str, port: int) -> None:
    stop = asyncio.Event()
    runner = web.AppRunner(build_app(Recorder(), stop), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    print(f"listening on http://{host}:{port}", flush=True)
    loop = asyncio.get_running_loop()
    import signal

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.run(serve(args.host, args.port))
    except ImportError:
        asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()

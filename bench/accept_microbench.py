"""CPU per accepted send, in process: POST /v2/messages through the ASGI app, no HTTP server, no workers.

    python bench/accept_microbench.py [-n 5000] [--concurrency 50] [--repeat 3] [--path /v2/messages]

Builds Heliograph on a fresh SQLite data directory, starts its group committer (workers off), and
calls the ASGI app directly (no socket, no HTTP parser, no client library), `--concurrency` requests
at a time so the group committer batches as it does under load. It reports the process's CPU time
(user + system) per request for each repeat, and the minimum: the machine is shared, compare minima
of runs made side by side. A warm-up of 500 requests precedes each measured repeat.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import orjson

from heliograph.api.app import create_app
from heliograph.bootstrap import build
from heliograph.services import accounts
from heliograph.settings import Settings
from heliograph.store.migrate import upgrade

API_KEY = "KEYMICROBENCH" + "0" * 21


async def _post(app, path: str, body: bytes) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"authorization", f"Bearer {API_KEY}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    sent = False
    status = 0

    async def receive() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _drive(app, path: str, bodies: list[bytes], concurrency: int) -> None:
    for start in range(0, len(bodies), concurrency):
        statuses = await asyncio.gather(*(_post(app, path, b) for b in bodies[start : start + concurrency]))
        bad = [s for s in statuses if s != 200]
        if bad:
            raise SystemExit(f"unexpected statuses: {bad[:5]}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--path", default="/v2/messages")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="accept-microbench-") as tmp:
        settings = Settings(data_dir=Path(tmp), api_key=API_KEY)
        hg = build(settings)
        await upgrade(hg.ctx.db)
        account = await accounts.bootstrap_sandbox(hg.ctx, API_KEY)
        sender = account.phone_numbers[0]
        app = create_app(hg, run_workers=False)
        await hg.start(workers=False)

        def bodies(n: int, offset: int) -> list[bytes]:
            return [
                orjson.dumps({"from": sender, "to": f"+1312555{(offset + i) % 10000:04d}", "text": f"hello {i}"})
                for i in range(n)
            ]

        results = []
        try:
            for r in range(args.repeat):
                await _drive(app, args.path, bodies(500, 0), args.concurrency)
                batch = bodies(args.n, r * args.n)
                cpu, wall = time.process_time(), time.perf_counter()
                await _drive(app, args.path, batch, args.concurrency)
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                results.append(cpu / args.n * 1e6)
                print(f"repeat {r + 1}: {results[-1]:7.1f} CPU µs/request ({args.n / wall:,.0f} req/s wall)")
        finally:
            await hg.stop()
        print(f"min: {min(results):.1f} CPU µs/request over {args.n} requests × {args.repeat}")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

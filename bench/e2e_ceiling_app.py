"""The end-to-end ceiling: the least any program must do for a send, on Heliograph's server stack.

Accept POST /v2/messages and parse its JSON, keep the message in memory, answer 200 with a
message-shaped body, then POST `message.sent` and, after the same receipt delay as the simulator,
`message.finalized` to the webhook receiver — each Ed25519-signed as Telnyx signs, with aiohttp and the
same concurrency as Heliograph's webhook sender. No database, no validation, no durability.

Starlette on uvicorn (uvloop + httptools), `--processes` processes sharing the port (default 2: one per
core, as the sandbox runs an API and a worker process). send_bench.py --sustained compares Heliograph's
sustained rate with this one's, measured the same way in the same run.

    python bench/e2e_ceiling_app.py --port 8001 --webhook-url http://127.0.0.1:9001/hook
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import os
import time
import uuid
from collections.abc import AsyncIterator

import aiohttp
import orjson
import uvicorn
from nacl.signing import SigningKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

WEBHOOK_URL = os.environ.get("CEILING_WEBHOOK_URL", "")
DELAY_S = float(os.environ.get("CEILING_DLR_DELAY_MS", "200")) / 1000
CONCURRENCY = int(os.environ.get("CEILING_WEBHOOK_CONCURRENCY", "256"))
KEY = SigningKey.generate()

state: dict = {}


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def message(body: dict) -> dict:
    """A message object of the size and shape Heliograph answers with."""
    now = _now_iso()
    return {
        "record_type": "message",
        "direction": "outbound",
        "id": str(uuid.uuid4()),
        "type": "SMS",
        "messaging_profile_id": "00000000-0000-4000-8000-000000000001",
        "organization_id": "00000000-0000-4000-8000-000000000002",
        "from": {"phone_number": body.get("from"), "carrier": "Heliograph", "line_type": "VoIP"},
        "to": [{"phone_number": body.get("to"), "carrier": "", "line_type": "Wireless", "status": "queued"}],
        "cc": [],
        "text": body.get("text"),
        "subject": None,
        "media": [],
        "webhook_url": None,
        "webhook_failover_url": None,
        "encoding": "GSM-7",
        "parts": 1,
        "tags": [],
        "cost": {"amount": "0.0050", "currency": "USD"},
        "cost_breakdown": {"rate": {"amount": "0.0040", "currency": "USD"}, "carrier_fee": {"amount": "0.0010"}},
        "tcr_campaign_id": None,
        "tcr_campaign_billable": False,
        "tcr_campaign_registered": None,
        "received_at": now,
        "sent_at": None,
        "completed_at": None,
        "valid_until": now,
        "errors": [],
        "smart_encoding_applied": False,
        "wait_seconds": 0.0,
    }


async def send(request: Request) -> Response:
    body = orjson.loads(await request.body())
    msg = message(body)
    state["queue"].put_nowait(("message.sent", msg))
    return Response(orjson.dumps({"data": msg}), media_type="application/json")


async def healthz(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


async def post(event_type: str, msg: dict) -> None:
    if event_type == "message.sent":
        msg["to"][0]["status"], msg["sent_at"] = "sent", _now_iso()
    else:
        msg["to"][0]["status"], msg["completed_at"] = "delivered", _now_iso()
    event = {
        "data": {
            "event_type": event_type,
            "id": str(uuid.uuid4()),
            "occurred_at": _now_iso(),
            "payload": msg,
            "record_type": "event",
        },
        "meta": {"attempt": 1, "delivered_to": WEBHOOK_URL},
    }
    raw = orjson.dumps(event)
    timestamp = str(int(time.time()))
    signature = base64.b64encode(KEY.sign(timestamp.encode() + b"|" + raw).signature).decode()
    headers = {
        "Content-Type": "application/json",
        "telnyx-timestamp": timestamp,
        "telnyx-signature-ed25519": signature,
    }
    async with state["lanes"]:
        for _ in range(3):
            try:
                async with state["session"].post(WEBHOOK_URL, data=raw, headers=headers) as response:
                    await response.read()
                    if response.status < 300:
                        break
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    if event_type == "message.sent":
        asyncio.get_running_loop().call_later(DELAY_S, state["queue"].put_nowait, ("message.finalized", msg))


async def fan_out() -> None:
    tasks: set[asyncio.Task] = set()
    while True:
        event_type, msg = await state["queue"].get()
        task = asyncio.create_task(post(event_type, msg))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


@contextlib.asynccontextmanager
async def lifespan(_app: Starlette) -> AsyncIterator[None]:
    await startup()
    try:
        yield
    finally:
        await shutdown()


async def startup() -> None:
    state["queue"] = asyncio.Queue()
    state["lanes"] = asyncio.Semaphore(CONCURRENCY)
    state["session"] = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=CONCURRENCY), timeout=aiohttp.ClientTimeout(total=2)
    )
    state["task"] = asyncio.create_task(fan_out())


async def shutdown() -> None:
    state["task"].cancel()
    await state["session"].close()


app = Starlette(
    routes=[Route("/v2/messages", send, methods=["POST"]), Route("/healthz", healthz, methods=["GET"])],
    lifespan=lifespan,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--webhook-url", required=True)
    parser.add_argument("--dlr-delay-ms", type=int, default=200)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    os.environ["CEILING_WEBHOOK_URL"] = args.webhook_url
    os.environ["CEILING_DLR_DELAY_MS"] = str(args.dlr_delay_ms)
    uvicorn.run(
        "e2e_ceiling_app:app",
        app_dir=os.path.dirname(os.path.abspath(__file__)),
        host="127.0.0.1",
        port=args.port,
        workers=args.processes,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()

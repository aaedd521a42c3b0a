"""The ceiling: a bare Starlette app on uvicorn that answers POST /v2/messages with a fixed JSON body.

It reads the request body and touches no database, does no validation and no JSON parsing, so it
measures what one uvicorn process (uvloop + httptools, like `heliograph serve`) can answer on this
machine with the same load generator. send_bench.py reports Heliograph's accepted rate as a ratio of it.

    python bench/ceiling_app.py --port 8001
"""

from __future__ import annotations

import argparse
import json

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def _fixed_body(size: int = 600) -> bytes:
    """A message-shaped JSON object of about `size` bytes, with a data.id like the real answer."""
    data = {
        "record_type": "message",
        "direction": "outbound",
        "id": "00000000-0000-4000-8000-000000000000",
        "type": "SMS",
        "from": {"phone_number": "+13125550100", "carrier": "Heliograph", "line_type": "VoIP"},
        "to": [{"phone_number": "+13125550123", "carrier": "", "line_type": "Wireless", "status": "queued"}],
        "text": "",
        "encoding": "GSM-7",
        "parts": 1,
        "cost": {"amount": "0.0050", "currency": "USD"},
        "received_at": "2026-01-01T00:00:00.000Z",
        "errors": [],
    }
    body = json.dumps({"data": data}, separators=(",", ":"))
    data["text"] = "x" * max(0, size - len(body))
    return json.dumps({"data": data}, separators=(",", ":")).encode()


BODY = _fixed_body()


async def send(request: Request) -> Response:
    await request.body()
    return Response(BODY, media_type="application/json")


async def healthz(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


app = Starlette(
    routes=[
        Route("/v2/messages", send, methods=["POST"]),
        Route("/v2/messages/{kind}", send, methods=["POST"]),  # the mixed workload: number_pool, schedule
        Route("/healthz", healthz, methods=["GET"]),
    ]
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        workers=1,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        log_level="warning",
        access_log=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()

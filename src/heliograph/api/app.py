"""create_app: middleware, error handlers and the one list of routers, in the spec's order."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from heliograph import __version__
from heliograph.api import errors, openapi
from heliograph.api.fastpath import SEND_ENDPOINTS, SendFastPath
from heliograph.api.guard import EdgeGuard
from heliograph.api.http_metrics import HttpMetrics, templates
from heliograph.api.middleware import api_gates
from heliograph.api.ratelimit import TokenBuckets
from heliograph.api.routes import (
    alphanumeric_sender_ids,
    autoresp_configs,
    carriers,
    devtools,
    hosted_numbers,
    links,
    messages,
    messaging_profiles,
    metrics,
    number_orders,
    ops,
    optouts,
    phone_numbers,
    sandbox,
    short_codes,
    webhook_deliveries,
)
from heliograph.bootstrap import Heliograph
from heliograph.console import routes as console
from heliograph.services import telemetry
from heliograph.services.idempotency import InFlight
from heliograph.services.rate_limits import RateLimiter

ROUTERS = (
    ("/v2", messages.router, "messages"),
    ("/v2", messaging_profiles.router, "messaging profiles"),
    ("/v2", metrics.router, "metrics"),
    ("/v2", phone_numbers.router, "phone numbers"),
    ("/v2", hosted_numbers.router, "messaging hosted numbers"),
    ("/v2", short_codes.router, "short codes"),
    ("/v2", alphanumeric_sender_ids.router, "alphanumeric sender IDs"),
    ("/v2", autoresp_configs.router, "auto-response configs"),
    ("/v2", optouts.router, "opt-outs and URL domains"),
    ("/v2", number_orders.router, "number orders"),
    ("/v2", webhook_deliveries.router, "webhook deliveries"),
    ("/sandbox/v1", sandbox.router, "sandbox"),
    ("/heliograph/v1", devtools.router, "developer tools"),
    ("/carriers/v1", carriers.router, "carrier links"),
    ("", ops.router, "operations"),
    ("", console.router, "console"),  # GET / and /console/…
    ("", links.router, "short links"),  # last: it matches any /<prefix>/<token>
)


def create_app(heliograph: Heliograph, *, run_workers: bool = True, send_fast_path: bool = True) -> EdgeGuard:
    """The ASGI app: the send endpoints' fast path in front of the FastAPI app (`.app`).

    `send_fast_path=False` leaves sends to FastAPI's router too (tests/api/test_send_parity.py)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await heliograph.start(workers=run_workers)
        try:
            yield
        finally:
            await heliograph.stop()

    app = FastAPI(
        title="Heliograph",
        version=__version__,
        description="Telnyx Messaging API v2, self-hosted.",
        lifespan=lifespan,
        docs_url=None,  # api/openapi.py serves /docs from the package (works offline)
        redoc_url=None,
    )
    openapi.install(app)
    app.state.heliograph = heliograph
    app.state.idempotency_in_flight = InFlight()
    errors.install(app)
    for prefix, router, tag in ROUTERS:
        app.include_router(router, prefix=prefix, tags=[tag])
    console.mount_static(app)
    settings = heliograph.settings
    buckets = TokenBuckets(RateLimiter(heliograph.ctx, settings.rate_limit_per_second, settings.rate_limit_burst))
    gates = api_gates(heliograph, buckets)
    for gate, options in reversed(gates):  # the last one added runs first
        app.add_middleware(gate, **options)
    front = SendFastPath(app, gates) if send_fast_path else app
    if not telemetry.enabled():
        return EdgeGuard(front)
    return EdgeGuard(HttpMetrics(front, frozenset(SEND_ENDPOINTS), templates(ROUTERS)))

"""Pure-ASGI gates in front of the routes: body size and type, then authentication and rate limit.

They are plain ASGI (not BaseHTTPMiddleware) because they sit on every request of the hot path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from heliograph.api.errors import error_response
from heliograph.api.ratelimit import TokenBuckets
from heliograph.domain.errors import HeliographError, RateLimited, RequestTooLarge, UnsupportedContentType
from heliograph.services import accounts

_BODY_METHODS = {b"POST", b"PUT", b"PATCH"}


# refused before the body was read: the connection closes (gracefully, api/protocol.py) instead of
# reading a body nobody wants
_CLOSE = {"connection": "close"}


class BodyTooLarge(Exception):
    pass


class BodyGate:
    """413 for bodies over the limit (declared or streamed), 415 for API bodies that are not JSON."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"].encode() not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await _reject(scope, receive, send, _too_large(self.max_bytes), _CLOSE)
            return
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        json_only = not scope["path"].startswith("/console/")  # the console's forms are urlencoded
        if (
            json_only
            and ctype
            and ctype != b"application/json"
            and not ctype.endswith(b"+json")
            and length not in (None, b"0")
        ):
            err = UnsupportedContentType(
                f"Content-Type {ctype.decode(errors='replace')} is not supported; send application/json.",
            )
            await _reject(scope, receive, send, err, _CLOSE)
            return
        seen = 0
        limit = self.max_bytes

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counted_receive, send)
        except BodyTooLarge:
            await _reject(scope, receive, send, _too_large(limit), _CLOSE)


def _too_large(limit: int) -> HeliographError:
    return RequestTooLarge(f"The request body is larger than {limit} bytes.")


class AuthGate:
    """Bearer API key → the caller, stored in scope["state"]; API rate limit per key."""

    PREFIXES = ("/v2/", "/sandbox/", "/heliograph/v1/")

    def __init__(self, app: ASGIApp, heliograph: Any, buckets: TokenBuckets) -> None:
        self.app = app
        self.hg = heliograph
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.PREFIXES):
            await self.app(scope, receive, send)
            return
        authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        try:
            caller = await accounts.authenticate(self.hg.ctx, self.hg.keys, authorization)
        except HeliographError as exc:
            await _reject(scope, receive, send, exc)
            return
        scope.setdefault("state", {})["caller"] = caller
        if not self.buckets.enabled:
            await self.app(scope, receive, send)
            return
        allowed, extra = await self.buckets.take(caller.key_hash)
        if not allowed:
            err = RateLimited(int(extra["retry-after"]))
            await _reject(scope, receive, send, err, extra)
            return
        raw = [(k.encode(), v.encode()) for k, v in extra.items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + raw
            await send(message)

        await self.app(scope, receive, send_with_headers)


Gates = tuple[tuple[Callable[..., ASGIApp], dict[str, Any]], ...]  # (gate, its options), outermost first


def api_gates(heliograph: Any, buckets: TokenBuckets) -> Gates:
    """The gates in front of every API route, outermost first, with their options.

    FastAPI's middleware stack (api/app.py) and the send fast path (api/fastpath.py) are both built
    from this one list, so a gate added here guards the sends whichever way they arrive."""
    return (
        (BodyGate, {"max_bytes": heliograph.settings.max_body_bytes}),
        (AuthGate, {"heliograph": heliograph, "buckets": buckets}),
    )


def gated(app: ASGIApp, gates: Gates) -> ASGIApp:
    """`app` behind `gates` (outermost first), as FastAPI's add_middleware would stack them."""
    for gate, options in reversed(gates):
        app = gate(app, **options)
    return app


async def _reject(
    scope: Scope, receive: Receive, send: Send, error: HeliographError, headers: dict | None = None
) -> None:
    response = error_response(error, headers)
    await response(scope, receive, send)

"""The send endpoints' fast path: POST /v2/messages* reaches the route code without FastAPI's router.

Sending is the hot path. FastAPI's middleware stack and router cost about as much per request as
everything Heliograph does to accept a message, so sends skip them: the same gates (body size and
type, API key, rate limit), the same route code, the same error bodies. Every other request, and the
OpenAPI document, still goes through FastAPI.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from heliograph.api.errors import refusal_response, unexpected_response
from heliograph.api.middleware import BodyTooLarge, Gates, gated
from heliograph.api.routes import messages
from heliograph.domain.errors import HeliographError
from heliograph.services import sending

# the paths FastAPI serves them at: the messages router is mounted under /v2 (api/app.py)
SEND_ENDPOINTS: dict[str, sending.Endpoint] = {
    "/v2" + route.endpoint.path: route.endpoint for route in messages.SEND_ROUTES
}


class SendFastPath:
    """In front of the FastAPI app: sends go straight to the route code, the rest to FastAPI.

    `gates` is the list FastAPI's middleware was built from (api/middleware.py: api_gates)."""

    def __init__(self, app: FastAPI, gates: Gates) -> None:
        self.app = app
        self.state = app.state
        self._gated: ASGIApp = gated(self._handle, gates)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in SEND_ENDPOINTS:
            await self._gated(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self.app  # request.app, as FastAPI would set it
        request = Request(scope, receive)
        try:
            response = await messages.send_to(request, SEND_ENDPOINTS[scope["path"]])
        except (BodyTooLarge, ClientDisconnect):
            raise  # BodyGate answers 413; nobody is left to answer a client that went away (api/guard.py)
        except HeliographError as exc:
            response = refusal_response(request, exc)
        except Exception:
            response = unexpected_response(request)
        await response(scope, receive, send)

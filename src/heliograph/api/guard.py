"""The outermost ASGI gate: paths and query values the database cannot hold, and the last word on bugs.

A NUL in a path id or a `filter[…]` value reached the database and came back as a 500 on PostgreSQL.
Checking once here, before routing, covers every route (and every future one): a path with a NUL names
nothing (404), a query value with one is refused (422 with `source.parameter`). Any exception that
escapes the app is answered with a Telnyx 500 10007 carrying an error id, logged once (api/errors.py).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from heliograph.api.errors import error_response, report_unexpected, unexpected_body
from heliograph.api.responses import json_response
from heliograph.api.validation import unstorable
from heliograph.domain.errors import HeliographError, InvalidFilter, NotFound, ValidationFailed


class EdgeGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = refusal_for(scope)
        if refusal is not None:
            await error_response(refusal)(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            return  # the client is gone: nobody to answer
        except Exception as exc:  # the last line of defence: never uvicorn's plain-text 500
            error_id = report_unexpected(exc, scope.get("method", ""), scope.get("path", ""))
            if not started:
                await json_response(unexpected_body(error_id), status=500, headers={"connection": "close"})(
                    scope, receive, send
                )


def refusal_for(scope: Scope) -> HeliographError | None:
    """The error for a path or query string holding what no column can store, or None."""
    if unstorable(scope["path"]):
        return NotFound(f"No resource at {scope['path']!r}.")
    query: bytes = scope.get("query_string", b"")
    if b"%00" not in query:  # undecodable bytes become U+FFFD (as Starlette decodes them): only NUL is left
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if unstorable(name) or unstorable(value):
            refusal = InvalidFilter if name.startswith("filter[") else ValidationFailed
            return refusal(
                "A query parameter holds a character that cannot be stored (NUL or an unpaired surrogate).",
                parameter=name.replace("\x00", "\\u0000"),
            )
    return None

"""Render every error as Telnyx does: {"errors": [{code, title, detail, source, meta}]} with its status."""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.routing import Match

from heliograph.api.responses import json_response
from heliograph.domain.errors import (
    TITLES,
    BadRequest,
    HeliographError,
    MethodNotAllowed,
    NotFound,
    RateLimited,
    UnexpectedError,
    ValidationFailed,
    ValueOutOfRange,
)

logger = logging.getLogger(__name__)

DOCS = "https://developers.telnyx.com/docs/overview/errors/"


def error_entry(
    code: str, detail: str | None = None, *, pointer: str | None = None, parameter: str | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"code": code, "title": TITLES.get(code, "Error")}
    if detail:
        entry["detail"] = detail
    if pointer is not None:
        entry["source"] = {"pointer": pointer}
    elif parameter is not None:
        entry["source"] = {"parameter": parameter}
    entry["meta"] = {"url": DOCS + code}
    return entry


def error_response(error: HeliographError, headers: dict[str, str] | None = None) -> Response:
    entry = error_entry(error.code, error.detail, pointer=error.pointer, parameter=error.parameter)
    entry["title"] = error.title
    headers = dict(headers or {})
    if isinstance(error, RateLimited):
        headers["retry-after"] = str(error.retry_after)
    return json_response({"errors": [entry]}, status=error.status, headers=headers)


def refusal_response(request: Request, exc: HeliographError) -> Response:
    # a refused request is where a sandbox hint (x-heliograph-warning) helps most
    return error_response(exc, getattr(request.state, "warning_headers", None))


_SEEN_LIMIT = 1000
_seen: set[tuple[str, str]] = set()  # the distinct errors whose traceback was logged already


def report_unexpected(exc: BaseException, method: str, path: str) -> str:
    """Log a bug in one line with a fresh error id; its traceback once per distinct error (always at debug).

    An unauthenticated caller can repeat a failing request at will: the log must not grow by a traceback each
    time. The same exception reported twice (FastAPI's handler, then the outer guard) keeps its first id."""
    known = getattr(exc, "heliograph_error_id", None)
    if known is not None:
        return known
    error_id = uuid.uuid4().hex[:16]
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    signature = (type(exc).__qualname__, where)
    first = signature not in _seen and len(_seen) < _SEEN_LIMIT
    _seen.add(signature)
    extra = {"action": "unexpected_error", "error_id": error_id, "method": method, "path": path}
    logger.error(
        "unexpected error %s: %s at %s",
        error_id,
        type(exc).__qualname__,
        where,
        exc_info=exc if first else None,
        extra=extra,
    )
    if not first:
        logger.debug("traceback of error %s", error_id, exc_info=exc, extra=extra)
    with contextlib.suppress(AttributeError):
        exc.heliograph_error_id = error_id  # type: ignore[attr-defined]
    return error_id


def unexpected_body(error_id: str) -> dict[str, Any]:
    entry = error_entry(
        UnexpectedError.code, f"An unexpected error occurred (error id {error_id}). It has been logged."
    )
    entry["meta"]["error_id"] = error_id
    return {"errors": [entry]}


def unexpected_response(request: Request, exc: BaseException | None = None) -> Response:
    """A bug (call from an except block): logged once with an error id, answered 500 10007 carrying that id."""
    exc = exc or sys.exc_info()[1] or RuntimeError("unknown")
    error_id = report_unexpected(exc, request.method, request.url.path)
    headers = {"x-should-retry": "false"} if request.method == "POST" else {}
    return json_response(unexpected_body(error_id), status=500, headers=headers)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route accepts on this path (Starlette's 405 names only the first route that matches)."""
    routes = request.app.router.routes
    return [m for m in _METHODS if any(r.matches({**request.scope, "method": m})[0] == Match.FULL for r in routes)]


def install(app: FastAPI) -> None:
    @app.exception_handler(HeliographError)
    async def _heliograph(request: Request, exc: HeliographError) -> Response:
        return refusal_response(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        err: HeliographError
        if exc.status_code == 405:
            err = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}.")
            return error_response(err, {"allow": ", ".join(allowed_methods(request))})
        elif exc.status_code == 404:
            err = NotFound(f"No route for {request.method} {request.url.path}.")
        else:
            err = BadRequest(str(exc.detail), status=exc.status_code)
        return error_response(err)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(p) for p in first.get("loc", [])]
        err: HeliographError
        if loc and loc[0] == "query":
            err = ValueOutOfRange(first.get("msg"), parameter=".".join(loc[1:]))
        else:
            err = ValidationFailed(first.get("msg"), pointer="/" + "/".join(loc[1:]))
        return error_response(err)

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> Response:
        # the client went away (or was timed out) mid-body: nobody reads this answer, and it is not a bug
        logger.debug("client disconnected mid-request", extra={"action": "client_disconnect", "path": request.url.path})
        return error_response(BadRequest("The client disconnected."))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        return unexpected_response(request, exc)

"""Render every error as Telnyx does: {"errors": [{code, title, detail, source, meta}]} with its status."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from heliograph.api.responses import json_response
from heliograph.domain.errors import TITLES, HeliographError, RateLimited

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


def unexpected_response(request: Request) -> Response:
    """A bug: logged with its traceback (call from an except block), answered 500 10007."""
    logger.exception("unexpected error", extra={"path": request.url.path, "method": request.method})
    err = HeliographError("An unexpected error occurred. It has been logged.", code="10007", status=500)
    return error_response(err, {"x-should-retry": "false"} if request.method == "POST" else None)


def install(app: FastAPI) -> None:
    @app.exception_handler(HeliographError)
    async def _heliograph(request: Request, exc: HeliographError) -> Response:
        return refusal_response(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            err = HeliographError(f"{request.method} is not allowed on {request.url.path}.", code="10030", status=405)
        elif exc.status_code == 404:
            err = HeliographError(f"No route for {request.method} {request.url.path}.", code="10005", status=404)
        else:
            err = HeliographError(str(exc.detail), code="10015", status=exc.status_code)
        return error_response(err)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(p) for p in first.get("loc", [])]
        if loc and loc[0] == "query":
            err = HeliographError(first.get("msg"), code="10033", status=422, parameter=".".join(loc[1:]))
        else:
            err = HeliographError(first.get("msg"), code="10027", status=422, pointer="/" + "/".join(loc[1:]))
        return error_response(err)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        return unexpected_response(request)

"""Issue 11 #3: a bug answers a Telnyx 500 10007 carrying an error id, and logs one line per request with
the traceback once per distinct error (the rest at debug level) — an unauthenticated caller repeating a
failing request must not flood the log with tracebacks."""

from __future__ import annotations

import logging

import httpx
from fastapi import FastAPI

from heliograph.api import errors
from heliograph.api.guard import EdgeGuard


def _app() -> EdgeGuard:
    app = FastAPI()
    errors.install(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    return EdgeGuard(app)


async def test_a_bug_is_a_10007_with_an_error_id_and_one_log_line(caplog) -> None:
    caplog.set_level(logging.INFO, logger="heliograph")
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answers = [await client.get("/boom") for _ in range(3)]
    ids = []
    for answer in answers:
        assert answer.status_code == 500
        (error,) = answer.json()["errors"]
        assert error["code"] == "10007"
        ids.append(error["meta"]["error_id"])
        assert error["meta"]["error_id"] in error["detail"]
    assert len(set(ids)) == 3
    records = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert [r.error_id for r in records] == ids  # one line per request, naming its id
    assert [r.exc_info is not None for r in records] == [True, False, False]  # the traceback once


async def test_nul_paths_are_404_before_any_route_runs() -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.get("/boom/%00")
        assert answer.status_code == 404
        assert answer.json()["errors"][0]["code"] == "10005"
        answer = await client.get("/boom?filter[x]=%00")
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["source"] == {"parameter": "filter[x]"}

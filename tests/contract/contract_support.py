"""Helpers for the contract tests: fresh numbers and names, and checks of Telnyx error bodies.

Every test shares one server, so each one makes its own profiles, numbers and destinations with
these generators instead of relying on what other tests left behind.
"""

from __future__ import annotations

import random
import re
import uuid
from typing import Any

import httpx
import telnyx

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DIGITS = re.compile(r"^\d+$")
MONEY = re.compile(r"^\d+\.\d{4,}$")

ANY = object()  # "do not check this part of the error"

_rng = random.SystemRandom()
_used: set[str] = set()


def _unique(make: Any) -> str:
    while True:
        value = make()
        if value not in _used:
            _used.add(value)
            return value


def _nanp(npa: str) -> str:
    return f"+1{npa}{_rng.randint(2, 9)}{_rng.randint(0, 999_999):06d}"


def new_long_code() -> str:
    """A US long code (Chicago, 312) nobody holds yet."""
    return _unique(lambda: _nanp("312"))


def new_toll_free() -> str:
    """A US toll-free number (888) nobody holds yet."""
    return _unique(lambda: _nanp("888"))


def new_handset() -> str:
    """A destination (San Francisco, 415) no test has written to: a fresh virtual handset."""
    return _unique(lambda: _nanp("415"))


def new_short_code() -> str:
    return _unique(lambda: str(_rng.randint(100_000, 999_999)))


def unique_name(prefix: str = "contract") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def error_entry(response: httpx.Response) -> dict[str, Any]:
    """The first entry of a Telnyx error body, after checking the shape every error body must have."""
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"], body
    for entry in body["errors"]:
        assert isinstance(entry["code"], str) and entry["code"].isdigit(), entry
        assert isinstance(entry["title"], str) and entry["title"], entry
    return body["errors"][0]


def assert_error(
    error: telnyx.APIStatusError | httpx.Response,
    *,
    status: int,
    code: str,
    pointer: Any = ANY,
    parameter: Any = ANY,
) -> dict[str, Any]:
    """Check status, code and source of an SDK exception (or a raw response); return the error entry."""
    response = error.response if isinstance(error, telnyx.APIStatusError) else error
    assert response.status_code == status, (response.status_code, response.text)
    entry = error_entry(response)
    assert entry["code"] == code, entry
    if isinstance(error, telnyx.APIStatusError):
        # what the SDK hands the user is the same parsed body
        assert error.body == response.json()
    if pointer is not ANY:
        assert entry.get("source", {}).get("pointer") == pointer, entry
    if parameter is not ANY:
        assert entry.get("source", {}).get("parameter") == parameter, entry
    return entry

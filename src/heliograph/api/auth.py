"""The caller of a request, as established by AuthGate."""

from __future__ import annotations

from fastapi import Request

from heliograph.domain.errors import AuthenticationFailed
from heliograph.services.accounts import Caller


def caller_of(request: Request) -> Caller:
    caller = request.scope.get("state", {}).get("caller")
    if caller is None:  # a route outside the gated prefixes asked for a caller: a wiring bug
        raise AuthenticationFailed("No API key was given.")
    return caller

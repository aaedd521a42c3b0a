"""Fixtures the end-to-end modules share. `server` is the session's server (tests/conftest.py) unless a
module defines its own; these fixtures follow whichever `server` the module sees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from e2e_support import TEST_DATABASE_URL, Verifier, admin_cli, gateway_env, new_profile, new_sender, reset_schema
from support import Server, WebhookReceiver


@pytest.fixture
def verify(server: Server) -> Verifier:
    """Checks a received webhook's signature with the official SDK and returns its parsed body."""
    return Verifier(server)


@pytest.fixture
def hooked(server: Server, receiver: WebhookReceiver) -> tuple[str, str]:
    """A profile whose webhook_url is the receiver's /profile, and a long code on it: (profile id, number)."""
    profile = new_profile(server, webhook_url=receiver.url("/profile"))
    return profile["id"], new_sender(server, profile["id"])


@pytest.fixture
def gateway_account(tmp_path: Path) -> dict[str, Any]:
    """An emptied PostgreSQL database with one account (`heliograph accounts create`, whose JSON this is)
    and a route sending everything to the simulator."""
    assert TEST_DATABASE_URL, "gateway tests skip themselves without HELIOGRAPH_TEST_DATABASE_URL"
    reset_schema(TEST_DATABASE_URL)
    created = json.loads(admin_cli(tmp_path, gateway_env(), "accounts", "create", "Ops"))
    admin_cli(tmp_path, gateway_env(), "routes", "add", "everything", "--connector", "simulator")
    return created

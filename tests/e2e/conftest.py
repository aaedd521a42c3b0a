"""Fixtures the end-to-end modules share. `server` is the session's server (tests/conftest.py) unless a
module defines its own; these fixtures follow whichever `server` the module sees."""

from __future__ import annotations

import pytest
from e2e_support import Verifier, new_profile, new_sender
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

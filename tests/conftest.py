from __future__ import annotations

from collections.abc import Iterator

import pytest
from support import Server, WebhookReceiver


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real server shared by the contract tests (each test makes its own profiles and numbers)."""
    srv = Server(tmp_path_factory.mktemp("heliograph"), env={"HELIOGRAPH_SIMULATOR_DLR_DELAY_MS": "50"}).start()
    yield srv
    srv.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


@pytest.fixture
def client(server: Server):
    return server.client(strict=True)

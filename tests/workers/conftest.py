from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from workers_support import Receiver, World, receiving, running


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A webhook receiver that answers 200 to everything."""
    async with receiving() as made:
        yield made


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with running(tmp_path) as made:
        yield made

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from api_support import Api, running_api


@pytest.fixture
def api_settings() -> dict[str, Any]:
    """Extra Settings for `api`; a test module overrides this fixture (rate limits, gateway mode …)."""
    return {}


@pytest.fixture
async def api(tmp_path: Path, api_settings: dict[str, Any]) -> AsyncIterator[Api]:
    async with running_api(tmp_path, **api_settings) as made:
        yield made

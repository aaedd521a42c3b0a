"""Console tests: a real `heliograph serve`, the official telnyx SDK as the application, and Debian's
chromium driven by Playwright (its own browser download is unreachable here, so the executable path is given).

Screenshots land in tests/console/artifacts/ (ignored by git)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import Server

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = os.environ.get("HELIOGRAPH_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A sandbox on loopback (the console opens without login). Receipts take 1.5 s, so a page can be
    seen showing a message before it is delivered."""
    env = {"HELIOGRAPH_SIMULATOR_DLR_DELAY_MS": "1500"}
    srv = Server(tmp_path_factory.mktemp("console"), env=env).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    """Module-scoped on purpose: Playwright's sync API runs an event loop in this thread while it is open,
    which would stop pytest-asyncio from running the async tests of later modules."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    """A fresh browser context per test; its last screen is saved as an artifact."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(20_000)
    tab = context.new_page()
    yield tab
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    finally:
        context.close()


@pytest.fixture
def shoot():
    """shoot(page, name): save a screenshot of the viewport as an artifact."""

    def save(page, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    return save

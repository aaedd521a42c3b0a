"""Who may scrape /metrics: open on a sandbox bound to loopback, otherwise only with the metrics token,
which is neither an API key nor echoed back (docs/operations.md). Moved in-process from
tests/e2e/test_observability.py: the answer depends on the settings, not on the served process."""

from __future__ import annotations

from typing import Any

import pytest
from api_support import API_KEY, Api, error_of
from prometheus_client.parser import text_string_to_metric_families

TOKEN = "scrape-secret-1"


@pytest.fixture
def api_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    return getattr(request, "param", {})


@pytest.mark.parametrize("api_settings", [{"host": "0.0.0.0", "metrics_token": TOKEN}], indirect=True)
async def test_metrics_need_the_token_when_not_bound_to_loopback(api: Api) -> None:
    async with api.client() as anonymous:
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": f"Bearer {API_KEY}"}):
            refused = await anonymous.get("/metrics", headers=headers)
            error_of(refused, 401, "10009")
            assert TOKEN not in refused.text
        scraped = await anonymous.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
        assert scraped.status_code == 200, scraped.text
        assert scraped.headers["content-type"].startswith("text/plain")
        assert any(f.name.startswith("heliograph_") for f in text_string_to_metric_families(scraped.text))
        # the API key gate does not apply to /metrics, nor the metrics token to the API
        assert (await anonymous.get("/healthz")).status_code == 200
        assert (
            await anonymous.get("/v2/messaging_profiles", headers={"authorization": f"Bearer {TOKEN}"})
        ).status_code == 401


@pytest.mark.parametrize("api_settings", [{"host": "0.0.0.0"}], indirect=True)
async def test_metrics_refused_off_loopback_when_no_token_is_set(api: Api) -> None:
    async with api.client() as anonymous:
        refused = await anonymous.get("/metrics")
    assert "HELIOGRAPH_METRICS_TOKEN" in error_of(refused, 401, "10009")["detail"]


async def test_metrics_are_open_on_a_loopback_sandbox(api: Api) -> None:
    async with api.client() as anonymous:
        scraped = await anonymous.get("/metrics")
    assert scraped.status_code == 200, scraped.text

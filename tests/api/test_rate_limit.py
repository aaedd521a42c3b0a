"""API rate limiting per key: x-ratelimit-* headers, then 429 code 10011 with retry-after (SDK: RateLimitError).

Moved in-process from tests/e2e/test_rate_limit.py: the limit is the app's gate, not the process's."""

from __future__ import annotations

from typing import Any

import pytest
import telnyx
from api_support import API_KEY, BASE_URL, Api, client_for, error_of


@pytest.fixture
def api_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    return getattr(request, "param", {})


@pytest.mark.parametrize("api_settings", [{"rate_limit_per_second": 0.02, "rate_limit_burst": 3}], indirect=True)
async def test_requests_over_the_limit_get_429_with_retry_after(api: Api) -> None:
    path = f"/v2/messaging_profiles/{api.profile_id}"
    answers = [await api.http.get(path) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].headers["x-ratelimit-limit"] == "3"
    assert [int(a.headers["x-ratelimit-remaining"]) for a in answers] == [2, 1, 0]
    assert int(answers[-1].headers["x-ratelimit-reset"]) >= 1
    refused = await api.http.get(path)
    error_of(refused, 429, "10011")
    assert int(refused.headers["retry-after"]) >= 1
    sdk = telnyx.AsyncTelnyx(
        api_key=API_KEY, base_url=BASE_URL + "/v2", max_retries=0, http_client=client_for(api.app, None)
    )
    with pytest.raises(telnyx.RateLimitError):
        await sdk.messaging_profiles.retrieve(api.profile_id)
    await sdk.close()
    # another key has its own bucket
    async with api.client(await api.other_account()) as other:
        assert (await other.get("/v2/messaging_profiles")).status_code == 200


async def test_no_limit_by_default_in_the_sandbox(api: Api) -> None:
    answers = [await api.http.get("/v2/messaging_profiles") for _ in range(30)]
    assert {a.status_code for a in answers} == {200}
    assert "x-ratelimit-limit" not in answers[0].headers

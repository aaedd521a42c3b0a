"""A profile's daily spend limit refuses sends with 429 40333 on the send fast path, as the official SDK
sees it (a RateLimitError). Moved in-process from tests/e2e/test_hardening_e2e.py: it checks answers, not
the server process."""

from __future__ import annotations

import pytest
import telnyx
from api_support import API_KEY, BASE_URL, Api, client_for


async def test_a_daily_spend_limit_refuses_sends_with_429(api: Api) -> None:
    client = telnyx.AsyncTelnyx(
        api_key=API_KEY,
        base_url=BASE_URL + "/v2",
        max_retries=0,
        http_client=client_for(api.app, None),
        _strict_response_validation=True,
    )
    await client.messaging_profiles.update(api.profile_id, daily_spend_limit="0.0100", daily_spend_limit_enabled=True)
    for _ in range(2):
        await client.messages.send(from_=api.long_code, to="+13125550123", text="hi")  # 0.0050 each
    with pytest.raises(telnyx.RateLimitError) as refused:
        await client.messages.send(from_=api.long_code, to="+13125550123", text="hi")
    assert refused.value.status_code == 429
    assert refused.value.body["errors"][0]["code"] == "40333"  # type: ignore[index]
    await client.close()

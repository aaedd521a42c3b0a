"""API rate limiting per key: x-ratelimit-* headers, then 429 code 10011 with retry-after (SDK: RateLimitError)."""

from __future__ import annotations

import pytest
import telnyx
from support import Server

pytestmark = pytest.mark.e2e


def test_requests_over_the_limit_get_429_with_retry_after(tmp_path):
    server = Server(
        tmp_path, env={"HELIOGRAPH_RATE_LIMIT_PER_SECOND": "0.02", "HELIOGRAPH_RATE_LIMIT_BURST": "3"}
    ).start()
    try:
        http = server.http()
        answers = [http.get(f"/v2/messaging_profiles/{server.profile_id}") for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert answers[0].headers["x-ratelimit-limit"] == "3"
        assert [int(a.headers["x-ratelimit-remaining"]) for a in answers] == [2, 1, 0]
        assert int(answers[-1].headers["x-ratelimit-reset"]) >= 1
        refused = http.get(f"/v2/messaging_profiles/{server.profile_id}")
        assert refused.status_code == 429
        assert refused.json()["errors"][0]["code"] == "10011"
        assert int(refused.headers["retry-after"]) >= 1
        with pytest.raises(telnyx.RateLimitError):
            server.client().messaging_profiles.retrieve(server.profile_id)
        # another key has its own bucket
        other = server.cli_json("accounts", "create", "Other")
        assert server.http(other["api_key"]).get("/v2/messaging_profiles").status_code == 200
    finally:
        server.stop()


def test_no_limit_by_default_in_the_sandbox(tmp_path):
    server = Server(tmp_path).start()
    try:
        http = server.http()
        answers = [http.get("/v2/messaging_profiles") for _ in range(30)]
        assert {a.status_code for a in answers} == {200}
        assert "x-ratelimit-limit" not in answers[0].headers
    finally:
        server.stop()

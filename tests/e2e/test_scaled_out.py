"""Two gateway `serve` processes on one PostgreSQL database share their limits: a sender's throughput
(its send slots) and each API key's rate limit hold across both, as if there were one process."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pytest
from e2e_support import TEST_DATABASE_URL as DATABASE_URL
from e2e_support import gateway_env, order_number
from support import Server, eventually

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not DATABASE_URL, reason="HELIOGRAPH_TEST_DATABASE_URL (PostgreSQL) is not set"),
]


def _time(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _pair(tmp_path: Path, account: dict, **env: str) -> list[Server]:
    servers = []
    try:
        for name in ("a", "b"):
            servers.append(
                Server(tmp_path / name, env=gateway_env(**env), api_key=account["api_key"], sandbox=False).start()
            )
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers


def test_a_5_mps_sender_sends_at_5_mps_through_two_processes(tmp_path: Path, gateway_account: dict) -> None:
    servers = _pair(tmp_path, gateway_account, HELIOGRAPH_MPS_LONG_CODE="5")
    try:
        number = order_number(
            servers[0],
            gateway_account["api_key"],
            gateway_account["messaging_profile_id"],
            "+13125550160",
            "https://hooks.example.com/unused",
        )
        clients = [server.http(gateway_account["api_key"]) for server in servers]
        sent = []
        for i in range(50):
            answer = clients[i % 2].post(
                "/v2/messages", json={"from": number, "to": f"+1312555{4000 + i}", "text": "m"}
            )
            assert answer.status_code == 200, answer.text
            sent.append(answer.json()["data"])
        # each answer promised a slot (received_at + wait_seconds) a fifth of a second after the one before,
        # whichever process took it
        due = sorted(_time(m["received_at"]) + m["wait_seconds"] for m in sent)
        assert min(b - a for a, b in zip(due, due[1:], strict=False)) >= 0.19  # ms rounding

        def all_sent() -> list | None:
            rows = [clients[0].get(f"/v2/messages/{m['id']}").json()["data"] for m in sent]
            return rows if all(r["sent_at"] for r in rows) else None

        rows = eventually(all_sent, timeout=60, message="the 50 messages were not all submitted")
        times = sorted(_time(r["sent_at"]) for r in rows)
        # 50 messages at 5 a second: 49 gaps of 0.2 s; per-process pacing would have taken half that
        assert times[-1] - times[0] >= 9.0
    finally:
        for server in servers:
            server.stop()


def test_a_rate_limit_of_10_per_second_holds_across_two_processes(tmp_path: Path, gateway_account: dict) -> None:
    servers = _pair(tmp_path, gateway_account, HELIOGRAPH_RATE_LIMIT_PER_SECOND="10")
    try:
        clients = [server.http(gateway_account["api_key"]) for server in servers]
        path = f"/v2/messaging_profiles/{gateway_account['messaging_profile_id']}"
        statuses = []
        started = time.monotonic()
        for i in range(60):
            statuses.append(clients[i % 2].get(path).status_code)
        elapsed = time.monotonic() - started
        assert set(statuses) == {200, 429}
        # a bucket of 10 refilling at 10 a second: at most 10 + 10 a second across both processes, where
        # counting per process would have let through twice that
        assert statuses.count(200) <= 10 + 10 * elapsed + 1
        assert statuses.count(200) >= 10  # the first second's burst is all there
    finally:
        for server in servers:
            server.stop()

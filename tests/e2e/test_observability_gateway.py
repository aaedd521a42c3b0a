"""Operating a gateway: /metrics always needs its token, counters add up across `serve --processes N` and
`worker --processes N` sharing HELIOGRAPH_METRICS_DIR, and the parent of N processes stops them all."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from e2e_support import TEST_DATABASE_URL, gateway_env, order_number
from support import Server, WebhookReceiver, eventually
from test_observability import alive, descendants, sample, scrape

DATABASE_URL = TEST_DATABASE_URL
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not DATABASE_URL, reason="HELIOGRAPH_TEST_DATABASE_URL (PostgreSQL) is not set"),
]
TOKEN = "metrics-token-for-tests"


def _query(sql: str) -> list:
    import asyncpg

    async def run() -> list:
        conn = await asyncpg.connect(DATABASE_URL)
        try:
            return await conn.fetch(sql)
        finally:
            await conn.close()

    return asyncio.run(run())


def _number(server: Server, account: dict, webhook_url: str) -> str:
    return order_number(server, account["api_key"], account["messaging_profile_id"], "+13125550160", webhook_url)


def _sdk(server: Server, account: dict):
    import telnyx

    return telnyx.Telnyx(
        api_key=account["api_key"],
        base_url=server.base_url,
        public_key=account["public_key"],
        max_retries=0,
        _strict_response_validation=True,
    )


def test_gateway_metrics_need_the_token_even_on_loopback(tmp_path: Path, gateway_account: dict) -> None:
    server = Server(
        tmp_path / "gw",
        env=gateway_env(HELIOGRAPH_METRICS_TOKEN=TOKEN),
        api_key=gateway_account["api_key"],
        sandbox=False,
    )
    server.start()
    try:
        for headers in ({}, {"Authorization": f"Bearer {gateway_account['api_key']}"}, {"Authorization": "Basic x"}):
            refused = httpx.get(server.url + "/metrics", headers=headers)
            assert refused.status_code == 401
            assert refused.json()["errors"][0]["code"] == "10009"
        with WebhookReceiver() as receiver:
            number = _number(server, gateway_account, receiver.url())
            client = _sdk(server, gateway_account)
            ids = [client.messages.send(from_=number, to=f"+1312555{3000 + i}", text="m").data.id for i in range(5)]
            for message_id in ids:
                eventually(lambda m=message_id: receiver.events_for(m, "message.finalized"), timeout=60)

            def delivered() -> dict | None:
                s = scrape(server, TOKEN)
                done = sample(s, "heliograph_messages_total", direction="outbound", status="delivered") == 5
                hooks = sample(s, "heliograph_webhook_attempts_total", outcome="delivered") >= 10  # at least once
                return s if done and hooks else None

            samples = eventually(delivered, timeout=60, message="the gateway's counters did not reach 5 delivered")
        assert sample(samples, "heliograph_messages_total", direction="outbound", status="queued") == 5
        assert sample(samples, "heliograph_connector_up", connector="simulator") == 1
        eventually(lambda: httpx.get(server.url + "/readyz").status_code == 200, timeout=60)
    finally:
        server.stop()


def test_gateway_metrics_refused_when_no_token_is_configured(tmp_path: Path, gateway_account: dict) -> None:
    server = Server(tmp_path / "gw", env=gateway_env(), api_key=gateway_account["api_key"], sandbox=False).start()
    try:
        refused = httpx.get(server.url + "/metrics")
        assert refused.status_code == 401
        assert "HELIOGRAPH_METRICS_TOKEN" in refused.json()["errors"][0]["detail"]
    finally:
        server.stop()


def test_serve_and_worker_processes_share_one_metrics_dir(tmp_path: Path, gateway_account: dict) -> None:
    metrics_dir = tmp_path / "metrics"
    env = gateway_env(HELIOGRAPH_METRICS_TOKEN=TOKEN, HELIOGRAPH_METRICS_DIR=str(metrics_dir), HELIOGRAPH_PROCESSES="2")
    server = Server(tmp_path / "gw", env=env, api_key=gateway_account["api_key"], sandbox=False).start()
    log = open(tmp_path / "worker.log", "ab")  # noqa: SIM115
    workers = subprocess.Popen(
        [sys.executable, "-m", "heliograph", "worker", "--processes", "2", "--data-dir", str(tmp_path / "wk")],
        env={**server._env(), "HELIOGRAPH_PROCESSES": "1"},
        stdout=log,
        stderr=log,
    )
    try:
        # 2 API processes (each with its workers, as a gateway `serve` runs them) + 2 worker processes report links
        eventually(
            lambda: _query("SELECT count(DISTINCT process) AS n FROM connector_links")[0]["n"] == 4,
            timeout=60,
            message="four processes should report their links",
        )
        worker_children = descendants(workers.pid)
        assert len(worker_children) == 2
        with WebhookReceiver() as receiver:
            number = _number(server, gateway_account, receiver.url())
            ids = []
            for i in range(20):
                sent = httpx.post(  # a new connection each time: both API processes take some
                    server.url + "/v2/messages",
                    headers={"Authorization": f"Bearer {gateway_account['api_key']}"},
                    json={"from": number, "to": f"+1312555{4000 + i}", "text": "m"},
                )
                assert sent.status_code == 200, sent.text
                ids.append(sent.json()["data"]["id"])
            for message_id in ids:
                eventually(lambda m=message_id: receiver.events_for(m, "message.finalized"), timeout=60)

            def counted() -> dict | None:
                s = scrape(server, TOKEN)
                return (
                    s
                    if sample(s, "heliograph_messages_total", direction="outbound", status="delivered") == 20
                    else None
                )

            samples = eventually(counted, timeout=60, message="the processes' counters do not add up to 20 delivered")
        assert sample(samples, "heliograph_messages_total", direction="outbound", status="queued") == 20
        assert sample(samples, "heliograph_messages_total", direction="outbound", status="sent") == 20
        assert {p.name.split("_")[0] for p in metrics_dir.iterdir()} >= {"counter", "histogram"}

        workers.send_signal(signal.SIGTERM)
        assert workers.wait(60) == 0
        eventually(lambda: not any(alive(p) for p in worker_children), message="worker children outlived the parent")
    finally:
        if workers.poll() is None:
            workers.kill()
            workers.wait(10)
        log.close()
        server.stop()


def test_a_worker_only_host_answers_scrapes_on_its_metrics_port(tmp_path: Path, gateway_account: dict) -> None:
    from support import free_port

    api_env = gateway_env(HELIOGRAPH_METRICS_TOKEN=TOKEN, HELIOGRAPH_METRICS_DIR=str(tmp_path / "api-metrics"))
    server = Server(tmp_path / "gw", env=api_env, api_key=gateway_account["api_key"], sandbox=False).start()
    port = free_port()
    worker_env = {**server._env(), "HELIOGRAPH_METRICS_DIR": str(tmp_path / "worker-metrics")}
    log = open(tmp_path / "worker.log", "ab")  # noqa: SIM115
    workers = subprocess.Popen(
        [sys.executable, "-m", "heliograph", "worker", "--processes", "2", "--metrics-port", str(port)]
        + ["--data-dir", str(tmp_path / "wk")],
        env=worker_env,
        stdout=log,
        stderr=log,
    )
    host = Server(tmp_path / "wk", port=port, sandbox=False)  # only for its url: the worker parent's endpoint
    try:
        eventually(lambda: _healthy(host.url), timeout=60, message="the worker's metrics port did not answer")
        assert httpx.get(host.url + "/metrics").status_code == 401
        assert httpx.get(host.url + "/v2/messages").status_code == 404  # scrapes only, no API
        eventually(lambda: httpx.get(host.url + "/readyz").status_code == 200, timeout=30)
        with WebhookReceiver() as receiver:
            number = _number(server, gateway_account, receiver.url())
            client = _sdk(server, gateway_account)
            ids = [client.messages.send(from_=number, to=f"+1312555{5000 + i}", text="w").data.id for i in range(20)]
            for message_id in ids:
                eventually(lambda m=message_id: receiver.events_for(m, "message.finalized"), timeout=60)

        def sent_everywhere() -> tuple | None:
            # the API process's workers and the worker host's processes share the dispatching
            api, worker = scrape(server, TOKEN), scrape(host, TOKEN)
            total = sum(
                sample(s, "heliograph_messages_total", direction="outbound", status="delivered") for s in (api, worker)
            )
            return (api, worker) if total == 20 else None

        _, worker_samples = eventually(
            sent_everywhere, timeout=60, message="delivered counts of both hosts do not add up to 20"
        )
        assert sample(worker_samples, "heliograph_connector_up", connector="simulator") == 1
        assert sample(worker_samples, "heliograph_messages_total", direction="outbound", status="queued") == 0
    finally:
        workers.send_signal(signal.SIGTERM)
        workers.wait(60)
        log.close()
        server.stop()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False

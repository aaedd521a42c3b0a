"""What an operator watches: /metrics (Prometheus), /readyz, and `serve --processes N` (sandbox).

Messages go through the official SDK; the counters are read back the way Prometheus reads them.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from e2e_support import fresh_number, new_profile, new_sender, wait_events
from prometheus_client.parser import text_string_to_metric_families
from support import Server, WebhookReceiver, eventually

pytestmark = pytest.mark.e2e


def scrape(server: Server, token: str | None = None) -> dict[tuple[str, frozenset], float]:
    """Every sample of /metrics, keyed by (name, labels)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(server.url + "/metrics", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def sample(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (children of children too), from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path / "hg", env={"HELIOGRAPH_SIMULATOR_DLR_DELAY_MS": "50"}).start()
    yield server
    server.stop()


def test_metrics_count_what_the_sdk_sent_and_what_the_webhooks_did(sandbox: Server) -> None:
    with WebhookReceiver() as receiver:
        profile = new_profile(sandbox, webhook_url=receiver.url("/hooks"))
        sender = new_sender(sandbox, profile["id"])
        client = sandbox.client(strict=True)
        ids = [client.messages.send(from_=sender, to=fresh_number(), text=f"hello {i}").data.id for i in range(3)]
        for message_id in ids:
            wait_events(receiver, message_id, "message.finalized", timeout=60)
        client.messages.retrieve(ids[0])
        before = scrape(sandbox)

        def counted() -> dict | None:
            samples = scrape(sandbox)  # the webhook sender records its attempts just after they answer
            return samples if sample(samples, "heliograph_webhook_attempts_total", outcome="delivered") >= 6 else None

        samples = eventually(counted, timeout=60, message="webhook attempts were not counted")

    assert sample(samples, "heliograph_messages_total", direction="outbound", status="queued") == 3
    assert sample(samples, "heliograph_messages_total", direction="outbound", status="sent") == 3
    assert sample(samples, "heliograph_messages_total", direction="outbound", status="delivered") == 3
    assert sample(samples, "heliograph_webhook_attempts_total", outcome="delivered") == 6  # sent + finalized each
    assert sample(samples, "heliograph_message_delivery_seconds_count", status="delivered") == 3
    assert sample(samples, "heliograph_message_delivery_seconds_sum", status="delivered") > 0
    # every message went through each writer's transactions once (batched or not)
    for writer, rows in (("group_commit", 3), ("dispatch", 3), ("receipts", 3), ("webhook_outcomes", 6)):
        assert sample(samples, "heliograph_write_batch_rows_sum", writer=writer) == rows
    # HTTP requests by route template, never by raw path
    assert sample(samples, "heliograph_http_requests_total", method="POST", route="/v2/messages", status="200") == 3
    route = "/v2/messages/{message_id}"
    assert sample(samples, "heliograph_http_requests_total", method="GET", route=route, status="200") == 1
    assert not any(ids[0] in dict(labels).get("route", "") for _, labels in samples)
    assert sample(samples, "heliograph_http_request_duration_seconds_count", method="POST", route="/v2/messages") == 3
    # the previous scrape is counted too, the scrape in progress not yet
    assert sample(samples, "heliograph_http_requests_total", method="GET", route="/metrics", status="200") >= 1
    assert sample(before, "heliograph_http_requests_total", method="GET", route="/metrics", status="200") == 0
    # gauges read from the database
    assert sample(samples, "heliograph_connector_up", connector="simulator") == 1
    for queue in ("queued", "sending", "scheduled", "webhooks"):
        assert ("heliograph_queue_depth", frozenset({("queue", queue)})) in samples
    assert sample(samples, "heliograph_queue_depth", queue="queued") == 0


def test_queue_depth_shows_scheduled_messages_and_cancelling_one_is_counted(sandbox: Server) -> None:
    client = sandbox.client(strict=False)  # the SDK's status enum lacks `scheduled`
    later = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    scheduled = client.messages.schedule(from_=sandbox.long_code, to=fresh_number(), text="later", send_at=later)
    samples = scrape(sandbox)
    assert sample(samples, "heliograph_queue_depth", queue="scheduled") == 1
    assert sample(samples, "heliograph_messages_total", direction="outbound", status="scheduled") == 1
    client.messages.cancel_scheduled(scheduled.data.id)
    samples = scrape(sandbox)
    assert sample(samples, "heliograph_queue_depth", queue="scheduled") == 0
    assert sample(samples, "heliograph_messages_total", direction="outbound", status="cancelled") == 1


def test_inbound_messages_are_counted(sandbox: Server) -> None:
    with sandbox.http() as http:
        for text in ("hello", "again"):
            sent = http.post(
                "/sandbox/v1/inbound", json={"from": fresh_number(), "to": sandbox.long_code, "text": text}
            )
            assert sent.status_code == 200, sent.text
    samples = scrape(sandbox)
    assert sample(samples, "heliograph_messages_total", direction="inbound", status="received") == 2


def test_readyz_fails_while_the_worker_process_is_stopped_and_recovers(tmp_path: Path) -> None:
    server = Server(tmp_path / "hg", env={"HELIOGRAPH_READY_HEARTBEAT_SECONDS": "6"}).start()
    try:
        eventually(lambda: httpx.get(server.url + "/readyz").status_code == 200, timeout=30)
        assert httpx.get(server.url + "/readyz").json() == {"status": "ready"}
        [worker] = [p for p in descendants(server.process.pid) if b"worker" in Path(f"/proc/{p}/cmdline").read_bytes()]
        os.kill(worker, signal.SIGSTOP)
        try:
            not_ready = eventually(
                lambda: (r := httpx.get(server.url + "/readyz")).status_code == 503 and r.json(), timeout=30
            )
            assert not_ready["status"] == "not_ready"
            assert "worker" in not_ready["reason"]
            assert httpx.get(server.url + "/healthz").status_code == 200  # alive, just not ready
        finally:
            os.kill(worker, signal.SIGCONT)
        eventually(lambda: httpx.get(server.url + "/readyz").status_code == 200, timeout=30)
    finally:
        server.stop()


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_processes_2_answers_from_both_and_counts_them_together(tmp_path: Path, workers: int) -> None:
    env = {"HELIOGRAPH_PROCESSES": "2", "HELIOGRAPH_WORKER_PROCESSES": str(workers)}
    server = Server(tmp_path / "hg", env=env).start()
    try:
        pids: dict[int, int] = {}

        def both_answered() -> bool:
            pid = httpx.get(server.url + "/healthz").json()["pid"]  # a new connection each time
            pids[pid] = pids.get(pid, 0) + 1
            return len(pids) == 2

        eventually(both_answered, timeout=30, message="only one API process answered")
        assert server.process.pid not in pids
        answered = sum(pids.values())
        # the worker process(es) serve both: messages accepted by either are delivered, each once
        client = server.client(strict=True)
        ids = [client.messages.send(from_=server.long_code, to=fresh_number(), text="x").data.id for _ in range(4)]
        for message_id in ids:
            eventually(lambda m=message_id: client.messages.retrieve(m).data.to[0].status == "delivered", timeout=60)
        samples = scrape(server)
        # neither process answered every /healthz alone: the sum proves the processes' counters are added up
        assert (
            sample(samples, "heliograph_http_requests_total", method="GET", route="/healthz", status="200") >= answered
        )
        assert sample(samples, "heliograph_messages_total", direction="outbound", status="queued") == 4
        assert sample(samples, "heliograph_messages_total", direction="outbound", status="delivered") == 4

        family = descendants(server.process.pid)
        assert set(pids) <= family
        assert len(family) == 2 + workers  # two API processes and the worker process(es)
        assert server.stop() == 0
        eventually(lambda: not any(alive(p) for p in family), message="children outlived the parent")
    finally:
        server.stop()


def test_serve_processes_children_die_with_a_killed_parent(tmp_path: Path) -> None:
    server = Server(tmp_path / "hg", env={"HELIOGRAPH_PROCESSES": "2"}).start()
    try:
        family = eventually(lambda: (d := descendants(server.process.pid)) and len(d) == 3 and d)
        server.kill()
        eventually(lambda: not any(alive(p) for p in family), message="children outlived a SIGKILLed parent")
    finally:
        server.stop()

"""Crash and restart (DESIGN.md invariants 1–3): a 2xx means on disk, every accepted message reaches a
terminal state, and every webhook owed for it reaches the receiver at least once, across SIGKILL and
SIGTERM. The receiver keeps running while the server dies and comes back on the same data directory.
"""

from __future__ import annotations

import signal
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_support import TERMINAL, Verifier, fresh_number, new_profile, new_sender, ok
from support import API_KEY, Server, WebhookReceiver, eventually

pytestmark = pytest.mark.e2e

# receipts are still owed when the server dies; senders are not paced (a long code's 10 MPS would
# stretch 200 messages over 20 s)
ENV = {"HELIOGRAPH_SIMULATOR_DLR_DELAY_MS": "300", "HELIOGRAPH_MPS_LONG_CODE": "5000"}


def _send_one(http: httpx.Client, sender: str, i: int) -> str | None:
    """The id of an accepted message, or None if the server did not answer 200 (it may be going down)."""
    body = {"from": sender, "to": fresh_number(), "text": f"durable #{i}"}
    try:
        response = http.post("/v2/messages", json=body)
    except httpx.HTTPError:
        return None
    return response.json()["data"]["id"] if response.status_code == 200 else None


def _all_terminal(server: Server, ids: list[str], timeout: float = 60) -> dict[str, str]:
    statuses: dict[str, str] = {}
    with server.http() as http:

        def check() -> bool:
            for message_id in ids:
                if statuses.get(message_id) not in TERMINAL:
                    statuses[message_id] = ok(http.get(f"/v2/messages/{message_id}"))["data"]["to"][0]["status"]
            return all(s in TERMINAL for s in statuses.values())

        try:
            eventually(check, timeout=timeout, interval=0.2)
        except AssertionError:
            stuck = Counter(s for s in statuses.values() if s not in TERMINAL)
            raise AssertionError(f"{sum(stuck.values())} of {len(ids)} messages not terminal: {dict(stuck)}") from None
    return statuses


def _owed_webhooks_arrive(hooks: WebhookReceiver, verify: Verifier, ids: list[str], timeout: float = 60) -> None:
    """message.sent and message.finalized for every id, at least once each; one event id per pair."""
    wanted = set(ids)

    def seen() -> dict[tuple[str, str], set[str]]:
        found: dict[tuple[str, str], set[str]] = defaultdict(set)
        for r in hooks.events():
            data = r.json()["data"]
            if data["payload"]["id"] in wanted:
                found[(data["payload"]["id"], data["event_type"])].add(data["id"])
        return found

    def complete() -> bool:
        found = seen()
        return all((i, t) in found for i in ids for t in ("message.sent", "message.finalized"))

    try:
        eventually(complete, timeout=timeout, interval=0.2)
    except AssertionError:
        found = seen()
        missing = [(i, t) for i in ids for t in ("message.sent", "message.finalized") if (i, t) not in found]
        raise AssertionError(f"{len(missing)} owed webhooks never arrived, e.g. {missing[:5]}") from None
    for r in hooks.events():
        verify(r)
    twice = {key: event_ids for key, event_ids in seen().items() if len(event_ids) > 1}
    assert not twice, f"one state change produced several events: {list(twice.items())[:3]}"


def _setup(srv: Server, hooks: WebhookReceiver) -> str:
    profile = new_profile(srv, webhook_url=hooks.url("/hooks"))
    return new_sender(srv, profile["id"])


def _send_many(srv: Server, sender: str, count: int) -> list[str]:
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    with (
        httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {srv.api_key}"}, limits=limits) as http,
        ThreadPoolExecutor(32) as pool,
    ):
        return list(pool.map(lambda i: _send_one(http, sender, i), range(count)))


RESTART_KEY = "KEYRESTARTED" + "1" * 36


@dataclass
class Crash:
    server: Server
    hooks: WebhookReceiver
    accepted: list[str]
    before: dict[str, Any]  # `heliograph info --json` before the crash
    sender: str


@pytest.fixture(scope="module", params=[1, 2], ids=["1-worker", "2-workers"])
def crashed(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Crash]:
    """200 sends, SIGKILL right after the last 200 OK, then a restart on the same data directory
    (with a different HELIOGRAPH_API_KEY) while the webhook receiver keeps running; with one and with two
    worker processes (the workers die with the server: their leases are released at the restart)."""
    env = {**ENV, "HELIOGRAPH_WORKER_PROCESSES": str(request.param)}
    srv = Server(tmp_path_factory.mktemp("crash") / "data", env=env).start()
    with ExitStack() as stack:
        stack.callback(srv.stop)
        hooks = stack.enter_context(WebhookReceiver())
        before = dict(srv.info)
        sender = _setup(srv, hooks)
        ids = _send_many(srv, sender, 200)
        srv.kill()
        assert None not in ids, "the healthy server refused a send"
        assert len(set(ids)) == 200
        srv.api_key = RESTART_KEY
        srv.start()  # same port, same data directory
        yield Crash(srv, hooks, ids, before, sender)  # type: ignore[arg-type]


def test_sigkill_every_accepted_message_reaches_a_terminal_state(crashed: Crash) -> None:
    statuses = _all_terminal(crashed.server, crashed.accepted)
    assert set(statuses.values()) == {"delivered"}


def test_sigkill_every_owed_webhook_arrives(crashed: Crash) -> None:
    _all_terminal(crashed.server, crashed.accepted)
    _owed_webhooks_arrive(crashed.hooks, Verifier(crashed.server), crashed.accepted)


def test_restart_keeps_account_data_and_keys(crashed: Crash) -> None:
    srv, before = crashed.server, crashed.before
    after = srv.info
    for field in ("organization_id", "public_key", "messaging_profile_id", "api_base_url"):
        assert after[field] == before[field], field
    assert set(after["phone_numbers"]) == set(before["phone_numbers"]) | {crashed.sender}
    first = crashed.accepted[0]
    with srv.http() as http:  # HELIOGRAPH_API_KEY of the second run: exactly this key is valid
        assert ok(http.get(f"/v2/messages/{first}"))["data"]["text"] == "durable #0"
        assert ok(http.get(f"/v2/messaging_profiles/{before['messaging_profile_id']}"))["data"]
    with srv.http(api_key=API_KEY) as old:  # the first run's key still works
        assert ok(old.get(f"/v2/messages/{first}"))["data"]["id"] == first
    for stranger in (RESTART_KEY + "X", "KEY" + "0" * 48):
        with srv.http(api_key=stranger) as http:
            assert http.get("/v2/messaging_profiles").status_code == 401


def test_receipts_that_beat_the_sent_commit_still_finalize(tmp_path: Path) -> None:
    """With receipts due at once, the carrier reports while the dispatcher is still recording `sent`:
    such a receipt must still end the message (invariant 3), not be dropped as stale."""
    srv = Server(tmp_path / "data", env={**ENV, "HELIOGRAPH_SIMULATOR_DLR_DELAY_MS": "0"}).start()
    try:
        with WebhookReceiver() as hooks:
            sender = _setup(srv, hooks)
            ids = _send_many(srv, sender, 300)
            assert None not in ids
            verify = Verifier(srv)
            statuses = _all_terminal(srv, ids, timeout=20)  # type: ignore[arg-type]
            assert set(statuses.values()) == {"delivered"}
            _owed_webhooks_arrive(hooks, verify, ids)  # type: ignore[arg-type]
    finally:
        srv.stop()


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_under_load_exits_cleanly_and_loses_nothing(tmp_path: Path, workers: int) -> None:
    srv = Server(tmp_path / "data", env={**ENV, "HELIOGRAPH_WORKER_PROCESSES": str(workers)}).start()
    try:
        with WebhookReceiver() as hooks:
            sender = _setup(srv, hooks)
            accepted: list[str] = []
            lock = threading.Lock()
            enough = threading.Event()

            def one(http: httpx.Client, i: int) -> None:
                message_id = _send_one(http, sender, i)
                if message_id is not None:
                    with lock:
                        accepted.append(message_id)
                        if len(accepted) >= 100:
                            enough.set()

            with srv.http() as http, ThreadPoolExecutor(16) as pool:
                for i in range(600):
                    pool.submit(one, http, i)
                assert enough.wait(60), "the server never accepted 100 messages"
                assert srv.process is not None
                srv.process.send_signal(signal.SIGTERM)  # while requests are still arriving
                code = srv.process.wait(30)
            with lock:
                accepted_ids = list(accepted)
            assert len(accepted_ids) >= 100

            srv.start()
            verify = Verifier(srv)
            _all_terminal(srv, accepted_ids)
            _owed_webhooks_arrive(hooks, verify, accepted_ids)
    finally:
        srv.stop()
    assert code == 0, f"SIGTERM should end `heliograph serve` gracefully with status 0, got {code}"

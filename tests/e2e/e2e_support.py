"""Helpers shared by the end-to-end tests: accounts set up over the API, webhook checks, bounded waits.

Every webhook a test looks at goes through `verified`, which checks the Ed25519 signature with the
official SDK (`client.webhooks.unwrap`) and the public key `heliograph info --json` printed.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from support import Received, Server, WebhookReceiver, eventually

TERMINAL = {"delivered", "delivery_failed", "delivery_unconfirmed", "sending_failed", "expired", "cancelled"}

_rng = random.Random()
_used: set[str] = set()
_used_lock = threading.Lock()


def fresh_number(prefix: str = "+1312") -> str:
    """A US number no other test in this run has used (as sender or handset)."""
    with _used_lock:
        while True:
            number = prefix + "".join(_rng.choice("0123456789") for _ in range(12 - len(prefix)))
            if number not in _used:
                _used.add(number)
                return number


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


def new_profile(
    server: Server, *, webhook_url: str | None = None, webhook_failover_url: str | None = None, **extra: Any
) -> dict[str, Any]:
    body = {"name": f"e2e-{_rng.randrange(10**9)}", "whitelisted_destinations": ["*"], **extra}
    if webhook_url is not None:
        body["webhook_url"] = webhook_url
    if webhook_failover_url is not None:
        body["webhook_failover_url"] = webhook_failover_url
    with server.http() as http:
        return ok(http.post("/v2/messaging_profiles", json=body))["data"]


def new_sender(server: Server, profile_id: str) -> str:
    """Order a fresh number on `profile_id` (sandbox orders complete at once)."""
    number = fresh_number()
    order = {"phone_numbers": [{"phone_number": number}], "messaging_profile_id": profile_id}
    with server.http() as http:
        ok(http.post("/v2/number_orders", json=order))
    return number


def send(server: Server, **body: Any) -> dict[str, Any]:
    """POST /v2/messages (`from_` for `from`); returns the message object of the 200 answer."""
    if "from_" in body:
        body["from"] = body.pop("from_")
    with server.http() as http:
        return ok(http.post("/v2/messages", json=body))["data"]


def message(server: Server, message_id: str, http: httpx.Client | None = None) -> dict[str, Any]:
    if http is not None:
        return ok(http.get(f"/v2/messages/{message_id}"))["data"]
    with server.http() as own:
        return ok(own.get(f"/v2/messages/{message_id}"))["data"]


def wait_terminal(server: Server, message_id: str, timeout: float = 15) -> dict[str, Any]:
    def final() -> dict[str, Any] | None:
        msg = message(server, message_id)
        return msg if msg["to"][0]["status"] in TERMINAL else None

    return eventually(final, timeout=timeout, message=f"message {message_id} never reached a terminal state")


class Verifier:
    """Checks webhook signatures with the official SDK, the way a Telnyx user's app does."""

    def __init__(self, server: Server) -> None:
        self.public_key = server.public_key
        self._client = server.client(strict=True)

    def __call__(self, received: Received) -> dict[str, Any]:
        """Unwrap (raises unless the signature and timestamp are valid) and return the parsed body."""
        self._client.webhooks.unwrap(received.body.decode("utf-8"), headers=received.headers)
        return received.json()


def events_of(
    receiver: WebhookReceiver, message_id: str, event_type: str | None = None, path: str | None = None
) -> list[tuple[Received, dict[str, Any]]]:
    """(raw request, parsed body) of every POST about `message_id`, in arrival order."""
    out = []
    for r in receiver.events(path):
        body = r.json()
        data = body.get("data", {})
        if data.get("payload", {}).get("id") != message_id:
            continue
        if event_type is None or data.get("event_type") == event_type:
            out.append((r, body))
    return out


def wait_events(
    receiver: WebhookReceiver, message_id: str, event_type: str, count: int = 1, timeout: float = 15
) -> list[tuple[Received, dict[str, Any]]]:
    return eventually(
        lambda: (found := events_of(receiver, message_id, event_type)) and len(found) >= count and found,
        timeout=timeout,
        message=f"{event_type} for {message_id}: fewer than {count} POSTs arrived",
    )


def barrier(server: Server, receiver: WebhookReceiver, from_number: str, **body: Any) -> str:
    """Send one ordinary message through the same pipeline and wait for its `message.finalized`.

    Used before asserting that something did *not* happen: work queued before the barrier has had
    the same chance to reach the receiver as the barrier itself.
    """
    msg = send(server, from_=from_number, to=fresh_number(), text="barrier", **body)
    wait_events(receiver, msg["id"], "message.finalized")
    return msg["id"]


def stays(check: Callable[[], Any], seconds: float, interval: float = 0.1, message: str = "") -> None:
    """Assert `check` keeps holding for `seconds` (a bounded look for something that must not happen)."""
    deadline = time.monotonic() + seconds
    while True:
        assert check(), message or "condition stopped holding"
        if time.monotonic() >= deadline:
            return
        time.sleep(interval)


class ByEvent:
    """A receiver behaviour decided per webhook event: `rule(path, attempt_index)` where
    `attempt_index` counts earlier POSTs of the same `data.id` to any path of this receiver.

    Usage: script = ByEvent(lambda path, i: 500 if i < 2 else 200); WebhookReceiver(script)
    then `script.attach(receiver)` before the first POST can arrive.
    """

    def __init__(self, rule: Callable[[str, int], int | str]) -> None:
        self._rule = rule
        self._receiver: WebhookReceiver | None = None
        self.arrivals: list[tuple[float, str, str]] = []  # (monotonic time, path, data.id)
        self._lock = threading.Lock()

    def attach(self, receiver: WebhookReceiver) -> None:
        self._receiver = receiver

    def __call__(self, path: str, n: int) -> int | str:
        assert self._receiver is not None
        this = self._receiver.events(path)[n]  # the receiver appends before asking us
        event_id = json.loads(this.body)["data"]["id"]
        with self._lock:
            index = sum(1 for _, _, eid in self.arrivals if eid == event_id)
            self.arrivals.append((time.monotonic(), path, event_id))
        return self._rule(path, index)


def admin_cli(data_dir, env: dict[str, str], *args: str) -> str:
    """Run a `heliograph` administration command with exactly `env` as its HELIOGRAPH_* settings."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("HELIOGRAPH_")}
    done = subprocess.run(
        [sys.executable, "-m", "heliograph", *args, "--data-dir", str(data_dir)],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


TEST_DATABASE_URL = os.environ.get("HELIOGRAPH_TEST_DATABASE_URL")


def reset_schema(database_url: str) -> None:
    """Empty the PostgreSQL database: every gateway test migrates from nothing."""
    import asyncio

    import asyncpg

    async def reset() -> None:
        conn = await asyncpg.connect(database_url)
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        await conn.close()

    asyncio.run(reset())


def gateway_env(**extra: str) -> dict[str, str]:
    """HELIOGRAPH_* settings of a gateway on the test PostgreSQL database, routing to the simulator."""
    return {
        "HELIOGRAPH_MODE": "gateway",
        "HELIOGRAPH_DATABASE_URL": TEST_DATABASE_URL or "",
        "HELIOGRAPH_SIMULATOR_DLR_DELAY_MS": "50",
        "HELIOGRAPH_MPS_LONG_CODE": "1000",
        "HELIOGRAPH_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",  # the test receivers listen on loopback
        **extra,
    }


def order_number(server: Server, api_key: str, profile_id: str, number: str, webhook_url: str) -> str:
    """Order `number` onto `profile_id` and point the profile's webhooks at `webhook_url`."""
    with server.http(api_key) as http:
        order = {"phone_numbers": [{"phone_number": number}], "messaging_profile_id": profile_id}
        ok(http.post("/v2/number_orders", json=order))
        ok(http.patch(f"/v2/messaging_profiles/{profile_id}", json={"webhook_url": webhook_url}))
    return number


def postgres_gateway(tmp_path, database_url: str, env: dict[str, str] | None = None) -> tuple[Server, dict]:
    """A gateway server on an emptied PostgreSQL database: one account, every message routed to the simulator."""
    reset_schema(database_url)
    env = {"HELIOGRAPH_MODE": "gateway", "HELIOGRAPH_DATABASE_URL": database_url, **(env or {})}

    def admin(*args: str) -> str:
        return admin_cli(tmp_path, env, *args)

    account = json.loads(admin("accounts", "create", "Acme"))
    admin("routes", "add", "everything", "--connector", "simulator")
    return Server(tmp_path / "gw", env=env, api_key=account["api_key"], sandbox=False).start(), account

"""Gateway mode: several `heliograph serve` processes share one PostgreSQL database.

Each message is claimed by one process (FOR UPDATE SKIP LOCKED), every message reaches a terminal
state, and when a process is killed its leased work is retaken by the survivor.
"""

from __future__ import annotations

import json

import pytest
from e2e_support import TEST_DATABASE_URL, admin_cli, gateway_env, order_number, reset_schema
from smsc_support import TestSmsc, smsc_available
from support import Server, WebhookReceiver, eventually

DATABASE_URL = TEST_DATABASE_URL
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not DATABASE_URL, reason="HELIOGRAPH_TEST_DATABASE_URL (PostgreSQL) is not set"),
]


def _reset_schema() -> None:
    reset_schema(DATABASE_URL)


def _gateway_env() -> dict[str, str]:
    return gateway_env(
        HELIOGRAPH_LEASE_SECONDS="2",
        HELIOGRAPH_SECRET_KEY="Z2F0ZXdheS10ZXN0cy1zZWNyZXQta2V5LTMyLWJ5dGU=",  # seeds and SMPP password sealed
    )


def _admin(tmp_path, *args: str) -> str:
    return admin_cli(tmp_path, _gateway_env(), *args)


def _create_account(tmp_path) -> dict:
    return json.loads(_admin(tmp_path, "accounts", "create", "Acme"))


@pytest.fixture
def gateway(tmp_path):
    _reset_schema()
    account = _create_account(tmp_path)
    _admin(tmp_path, "routes", "add", "everything", "--connector", "simulator")  # a gateway starts with no route
    servers = [
        Server(tmp_path / f"gw{i}", env=_gateway_env(), api_key=account["api_key"], sandbox=False).start()
        for i in range(2)
    ]
    yield account, servers
    for server in servers:
        server.stop()


def _setup_numbers(server: Server, account: dict, webhook_url: str) -> str:
    return order_number(server, account["api_key"], account["messaging_profile_id"], "+13125550150", webhook_url)


def test_a_gateway_without_routes_fails_messages_as_not_routable(tmp_path):
    _reset_schema()
    account = _create_account(tmp_path)
    assert json.loads(_admin(tmp_path, "routes", "list", "--json")) == []
    with WebhookReceiver() as receiver:
        server = Server(tmp_path / "gw", env=_gateway_env(), api_key=account["api_key"], sandbox=False).start()
        try:
            with server.http() as http:
                number = _setup_numbers(server, account, receiver.url())
                sent = http.post("/v2/messages", json={"from": number, "to": "+13125550199", "text": "no route"})
                assert sent.status_code == 200, sent.text
                message_id = sent.json()["data"]["id"]

                def final() -> dict | None:
                    data = http.get(f"/v2/messages/{message_id}").json()["data"]
                    return data if data["to"][0]["status"] == "sending_failed" else None

                data = eventually(final, message="an unroutable message did not fail")
            assert data["errors"][0]["code"] == "40001"
            eventually(lambda: receiver.events_for(message_id, "message.finalized"))
        finally:
            server.stop()


def test_two_processes_share_the_work_and_every_message_finishes(gateway):
    account, servers = gateway
    clients = [s.http(account["api_key"]) for s in servers]
    with WebhookReceiver() as receiver:
        number = _setup_numbers(servers[0], account, receiver.url())
        ids = []
        for i in range(60):
            reply = clients[i % 2].post(
                "/v2/messages", json={"from": number, "to": f"+1312555{1000 + i}", "text": f"m{i}"}
            )
            assert reply.status_code == 200, reply.text
            ids.append(reply.json()["data"]["id"])

        def all_delivered() -> bool:
            return all(
                clients[0].get(f"/v2/messages/{i}").json()["data"]["to"][0]["status"] == "delivered" for i in ids
            )

        eventually(all_delivered, timeout=60)
        eventually(lambda: all(receiver.events_for(i, "message.finalized") for i in ids), timeout=60)
        # each message was submitted by exactly one process: one message.sent event per message
        sent = [e for i in ids for e in receiver.events_for(i, "message.sent")]
        assert len({e["data"]["id"] for e in sent}) == len(ids)


def test_a_killed_process_leaves_no_message_behind(gateway):
    account, servers = gateway
    first, second = servers
    clients = [s.http(account["api_key"]) for s in servers]
    with WebhookReceiver() as receiver:
        number = _setup_numbers(servers[0], account, receiver.url())
        ids = [
            clients[0]
            .post("/v2/messages", json={"from": number, "to": f"+1312555{2000 + i}", "text": "x"})
            .json()["data"]["id"]
            for i in range(40)
        ]
        first.kill()
        eventually(
            lambda: all(
                clients[1].get(f"/v2/messages/{i}").json()["data"]["to"][0]["status"] in ("delivered",) for i in ids
            ),
            timeout=60,
            message="the surviving process did not finish the killed one's messages",
        )
        eventually(lambda: all(receiver.events_for(i, "message.finalized") for i in ids), timeout=60)


@pytest.mark.skipif(not smsc_available(), reason="needs node and `npm install` in tests/smsc (.ci/run does it)")
def test_a_gateway_delivers_through_smpp_with_two_processes(tmp_path):
    """Both processes bind to the SMSC; whichever submits, the receipt (which the SMSC may hand to either
    bind) finds the stored part and finalizes the message once."""
    _reset_schema()
    account = _create_account(tmp_path)
    with TestSmsc(accounts={"gateway": "gw-pass"}) as smsc, WebhookReceiver() as receiver:
        _admin(
            tmp_path, "connectors", "add", "smpp", "smsc", "--host", "127.0.0.1", "--port", str(smsc.port),
            "--system-id", "gateway", "--password", "gw-pass",
        )  # fmt: skip
        _admin(tmp_path, "routes", "add", "uk", "--connector", "smsc", "--prefix", "+44")
        servers = [
            Server(tmp_path / f"gw{i}", env=_gateway_env(), api_key=account["api_key"], sandbox=False).start()
            for i in range(2)
        ]
        try:
            eventually(lambda: len(smsc.bound()) == 2, message="both processes should bind")
            with servers[0].http() as http:
                number = _setup_numbers(servers[0], account, receiver.url())
                ids = []
                for i in range(20):
                    sent = http.post("/v2/messages", json={"from": number, "to": f"+4477009{i:05d}", "text": "gw"})
                    assert sent.status_code == 200, sent.text
                    ids.append(sent.json()["data"]["id"])

                def statuses() -> list[str] | None:
                    found = [http.get(f"/v2/messages/{i}").json()["data"]["to"][0]["status"] for i in ids]
                    return found if all(s == "delivered" for s in found) else None

                eventually(statuses, timeout=30, message="not every SMPP message was delivered")
            eventually(lambda: all(len(receiver.events_for(i, "message.finalized")) >= 1 for i in ids))
            assert all(len(receiver.events_for(i, "message.finalized")) == 1 for i in ids)
            assert len(smsc.accepted_submits()) == 20
        finally:
            for server in servers:
                server.stop()

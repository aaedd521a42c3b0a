"""Carrier links end to end: `heliograph serve` sends through an SMPP connector to an independent SMSC
(the npm `smpp` package's server, tests/smsc), and its webhooks are checked with the official SDK.

The server's routes: +44 → the SMSC; +33 → a connector whose SMSC is not there, then the simulator
(failover); nothing else is routable (the default route is removed), so +1 destinations end 40001.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest
from e2e_support import Verifier, message, new_profile, new_sender, ok, wait_events, wait_terminal
from smsc_support import TestSmsc, smsc_available
from support import Server, WebhookReceiver, eventually, free_port

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not smsc_available(), reason="needs node and `npm install` in tests/smsc (.ci/run does it)"),
]

_rng = random.Random()


def uk_handset() -> str:
    return "+4477009" + "".join(_rng.choice("0123456789") for _ in range(5))


def fr_handset() -> str:
    return "+336" + "".join(_rng.choice("0123456789") for _ in range(8))


@pytest.fixture(scope="module")
def smsc() -> Iterator[TestSmsc]:
    with TestSmsc(accounts={"heliograph": "s3cret"}) as running:
        yield running


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def _routed(server: Server, smsc: TestSmsc, system_id: str = "heliograph", password: str = "s3cret") -> None:
    """Connectors and routes added while the server runs, as an operator would."""
    add = server.cli(
        "connectors", "add", "smpp", "smsc", "--host", "127.0.0.1", "--port", str(smsc.port),
        "--system-id", system_id, "--password", password, "--enquire-link-seconds", "5",
    )  # fmt: skip
    assert add.returncode == 0, add.stderr
    assert "s3cret" not in add.stdout + add.stderr
    dead = server.cli(
        "connectors", "add", "smpp", "nowhere", "--host", "127.0.0.1", "--port", str(free_port()),
        "--system-id", "x", "--password", "y",
    )  # fmt: skip
    assert dead.returncode == 0, dead.stderr
    for args in (
        ("routes", "add", "uk", "--connector", "smsc", "--prefix", "+44", "--priority", "10"),
        ("routes", "add", "fr", "--connector", "nowhere", "--connector", "simulator", "--prefix", "+33"),
        ("routes", "remove", "default"),
    ):
        done = server.cli(*args)
        assert done.returncode == 0, done.stderr


def _states(server: Server) -> dict[str, dict]:
    return {c["name"]: c for c in server.cli_json("connectors", "list", "--json")}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, smsc: TestSmsc) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("smpp-e2e")).start()
    _routed(running, smsc)
    eventually(lambda: _states(running)["smsc"]["state"] == "up", timeout=20, message="the SMPP link never came up")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def sender(server: Server, receiver: WebhookReceiver) -> str:
    profile = new_profile(server, webhook_url=receiver.url("/smpp"))
    return new_sender(server, profile["id"])


@pytest.fixture(autouse=True)
def _clean_smsc(smsc: TestSmsc) -> None:
    smsc.reset()


def test_connectors_list_shows_link_states_and_no_secret(server: Server) -> None:
    states = _states(server)
    assert states["smsc"]["type"] == "smpp" and states["smsc"]["state"] == "up"
    assert states["simulator"]["state"] == "up"
    nowhere = eventually(lambda: (s := _states(server)["nowhere"])["state"] != "up" and s["last_error"] and s)
    assert nowhere["state"] in ("down", "connecting")
    listing = server.cli("connectors", "list", "--json").stdout
    assert "s3cret" not in listing and "password" not in listing
    routes = server.cli_json("routes", "list", "--json")
    assert [(r["name"], r["priority"], r["connectors"], r["prefixes"]) for r in routes] == [
        ("uk", 10, ["smsc"], ["+44"]),
        ("fr", 0, ["nowhere", "simulator"], ["+33"]),
    ]


def test_one_part_and_three_part_ucs2_messages_are_delivered(
    server: Server, smsc: TestSmsc, receiver: WebhookReceiver, sender: str
) -> None:
    verify = Verifier(server)
    short_to, long_to = uk_handset(), uk_handset()
    client = server.client()
    short = client.messages.send(from_=sender, to=short_to, text="Hello over SMPP").data
    long_text = "Привет, мир! " * 12  # Cyrillic: UCS-2, 156 characters -> 3 parts of at most 67
    long = client.messages.send(from_=sender, to=long_to, text=long_text).data
    assert (long.encoding, long.parts) == ("UCS-2", 3)
    for sent in (short, long):
        finalized = wait_events(receiver, sent.id, "message.finalized")[0]
        body = verify(finalized[0])
        assert body["data"]["payload"]["to"][0]["status"] == "delivered"
        assert verify(wait_events(receiver, sent.id, "message.sent")[0][0])["data"]["event_type"] == "message.sent"
    on_wire = [s for s in smsc.accepted_submits() if s["destination_addr"] == long_to.lstrip("+")]
    assert len(on_wire) == 3
    assert {s["data_coding"] for s in on_wire} == {8}
    assert all(s["esm_class"] & 0x40 for s in on_wire)
    assert "".join(s["text"] for s in sorted(on_wire, key=lambda s: s["udh"])) == long_text
    one = [s for s in smsc.accepted_submits() if s["destination_addr"] == short_to.lstrip("+")]
    assert [(s["data_coding"], s["source_addr_ton"], s["dest_addr_ton"]) for s in one] == [(0, 1, 1)]
    detail = message(server, long.id)
    assert detail["heliograph"]["connector"] == "smsc"
    assert sorted(detail["heliograph"]["carrier_message_ids"]) == sorted(s["message_id"] for s in on_wire)


def test_undeliverable_number_ends_delivery_failed(
    server: Server, smsc: TestSmsc, receiver: WebhookReceiver, sender: str
) -> None:
    handset = uk_handset()
    smsc.set_undeliverable(handset)
    sent = server.client().messages.send(from_=sender, to=handset, text="you will not get this").data
    body = Verifier(server)(wait_events(receiver, sent.id, "message.finalized")[0][0])
    to = body["data"]["payload"]["to"][0]
    assert to["status"] == "delivery_failed"
    assert body["data"]["payload"]["errors"][0]["code"].startswith("400")


def test_refused_submit_ends_sending_failed_with_the_smpp_status(
    server: Server, smsc: TestSmsc, receiver: WebhookReceiver, sender: str
) -> None:
    handset = uk_handset()
    smsc.refuse_submits(handset)
    sent = server.client().messages.send(from_=sender, to=handset, text="refused").data
    body = wait_events(receiver, sent.id, "message.finalized")[0][1]
    assert body["data"]["payload"]["to"][0]["status"] == "sending_failed"
    assert "ESME_RINVDSTADR" in body["data"]["payload"]["errors"][0]["detail"]


def test_throttling_is_absorbed(server: Server, smsc: TestSmsc, receiver: WebhookReceiver, sender: str) -> None:
    smsc.throttle(2)
    sent = server.client().messages.send(from_=sender, to=uk_handset(), text="after the throttle").data
    assert wait_terminal(server, sent.id, timeout=30)["to"][0]["status"] == "delivered"
    statuses = [s["command_status"] for s in smsc.submits()]
    assert 0x58 in statuses and statuses[-1] == 0


def test_smsc_going_away_mid_load_loses_nothing(
    server: Server, smsc: TestSmsc, receiver: WebhookReceiver, sender: str
) -> None:
    client = server.client()
    ids = [client.messages.send(from_=sender, to=uk_handset(), text=f"load {i}").data.id for i in range(20)]
    smsc.stop_listening()  # every connection closed; binds refused until it is back
    ids += [client.messages.send(from_=sender, to=uk_handset(), text=f"load {i}").data.id for i in range(20, 30)]
    eventually(lambda: _states(server)["smsc"]["state"] != "up", timeout=15, message="the link never went down")
    smsc.start_listening()
    finals = [wait_terminal(server, i, timeout=60)["to"][0]["status"] for i in ids]
    assert finals == ["delivered"] * len(ids)


def test_receipt_owed_across_a_sigkill_still_lands(tmp_path_factory: pytest.TempPathFactory, smsc: TestSmsc) -> None:
    with WebhookReceiver() as hooks:
        own = Server(tmp_path_factory.mktemp("smpp-kill")).start()
        try:
            # an account of its own: the SMSC hands receipts to any bind of the account that submitted
            smsc.add_account("killtest", "k1lled")
            _routed(own, smsc, "killtest", "k1lled")
            eventually(lambda: _states(own)["smsc"]["state"] == "up", timeout=20)
            profile = new_profile(own, webhook_url=hooks.url("/kill"))
            from_number = new_sender(own, profile["id"])
            smsc.configure(receipt_delay_ms=4000)
            sent = own.client().messages.send(from_=from_number, to=uk_handset(), text="survive").data
            eventually(lambda: message(own, sent.id)["to"][0]["status"] == "sent", timeout=15)
            own.kill()  # after submit_sm_resp, before the receipt
            own.start()
            final = wait_terminal(own, sent.id, timeout=30)
            assert final["to"][0]["status"] == "delivered"
            assert Verifier(own)(wait_events(hooks, sent.id, "message.finalized")[0][0])
        finally:
            own.stop()


def test_inbound_stop_over_smpp_blocks_the_next_send(
    server: Server, smsc: TestSmsc, receiver: WebhookReceiver, sender: str
) -> None:
    handset = uk_handset()
    smsc.inject_mo(handset, sender, "STOP")
    received = eventually(
        lambda: [
            r for r in receiver.events("/smpp")
            if r.json()["data"]["event_type"] == "message.received"
            and r.json()["data"]["payload"]["from"]["phone_number"] == handset
        ],
        message="the MO never became message.received",
    )  # fmt: skip
    assert Verifier(server)(received[0])["data"]["payload"]["text"] == "STOP"
    eventually(lambda: any(r["kind"] == "mo" and r["command_status"] == 0 for r in smsc.deliver_sm_resps()))
    with server.http() as http:
        refused = http.post("/v2/messages", json={"from": sender, "to": handset, "text": "hello again"})
    assert refused.status_code in (400, 403)
    assert refused.json()["errors"][0]["code"] == "40300"


def test_three_part_inbound_is_reassembled(
    server: Server, smsc: TestSmsc, receiver: WebhookReceiver, sender: str
) -> None:
    handset = uk_handset()
    text = "This inbound message arrives in three concatenated parts, out of order, and is put back together. " * 3
    smsc.inject_mo(handset, sender, text, parts=3, order=[2, 3, 1])
    got = eventually(
        lambda: [
            r.json() for r in receiver.events("/smpp")
            if r.json()["data"]["event_type"] == "message.received"
            and r.json()["data"]["payload"]["from"]["phone_number"] == handset
        ],
        message="the concatenated MO never arrived",
    )  # fmt: skip
    assert len(got) == 1 and got[0]["data"]["payload"]["text"] == text


def test_failover_from_a_down_connector_to_the_next(server: Server, receiver: WebhookReceiver, sender: str) -> None:
    sent = server.client().messages.send(from_=sender, to=fr_handset(), text="bonjour").data
    final = wait_terminal(server, sent.id, timeout=20)
    assert final["to"][0]["status"] == "delivered"
    assert final["heliograph"]["connector"] == "simulator"


def test_unroutable_destination_ends_40001(server: Server, receiver: WebhookReceiver, sender: str) -> None:
    with server.http() as http:
        sent = ok(http.post("/v2/messages", json={"from": sender, "to": "+13125550123", "text": "nowhere to go"}))
    body = Verifier(server)(wait_events(receiver, sent["data"]["id"], "message.finalized")[0][0])
    assert body["data"]["payload"]["to"][0]["status"] == "sending_failed"
    assert body["data"]["payload"]["errors"][0]["code"] == "40001"


def test_log_lines_name_the_connector_and_carrier_ids(server: Server, smsc: TestSmsc, sender: str) -> None:
    sent = server.client().messages.send(from_=sender, to=uk_handset(), text="logged").data
    wait_terminal(server, sent.id)
    lines = [json.loads(line) for line in server.log_text().splitlines() if sent.id in line and line.startswith("{")]
    submitted = [line for line in lines if line.get("action") == "carrier_submit"]
    assert submitted and submitted[0]["connector"] == "smsc" and submitted[0]["carrier_message_ids"]
    assert "s3cret" not in server.log_text()

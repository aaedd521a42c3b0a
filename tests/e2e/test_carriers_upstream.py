"""Two Heliograph servers, one the upstream of the other through a `telnyx` connector.

The downstream's app sends to the downstream; the upstream's simulator delivers; the upstream's
webhooks come back to the downstream's /carriers/v1/up/webhooks, and the downstream's own webhooks
reach the app, signed with the downstream's key. An inbound message on the upstream reaches the
downstream app as message.received.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from e2e_support import (
    Verifier,
    fresh_number,
    message,
    new_profile,
    ok,
    wait_events,
    wait_terminal,
)
from support import Server, WebhookReceiver, eventually

pytestmark = pytest.mark.e2e


class Pair:
    def __init__(self, upstream: Server, downstream: Server, app: WebhookReceiver, number: str) -> None:
        self.upstream, self.downstream, self.app, self.number = upstream, downstream, app, number


def _order(server: Server, number: str, profile_id: str) -> None:
    with server.http() as http:
        ok(
            http.post(
                "/v2/number_orders",
                json={"phone_numbers": [{"phone_number": number}], "messaging_profile_id": profile_id},
            )
        )


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    with WebhookReceiver() as app:
        upstream = Server(tmp_path_factory.mktemp("upstream"), api_key="KEYUPSTREAM0001").start()
        downstream = Server(tmp_path_factory.mktemp("downstream"), api_key="KEYDOWNSTREAM01").start()
        try:
            number = fresh_number()
            up_profile = new_profile(upstream, webhook_url=downstream.url + "/carriers/v1/up/webhooks")
            _order(upstream, number, up_profile["id"])
            down_profile = new_profile(downstream, webhook_url=app.url("/app"))
            _order(downstream, number, down_profile["id"])
            add = downstream.cli(
                "connectors", "add", "telnyx", "up", "--base-url", upstream.base_url,
                "--api-key", upstream.api_key, "--public-key", upstream.public_key,
            )  # fmt: skip
            assert add.returncode == 0, add.stderr
            assert "/carriers/v1/up/webhooks" in add.stdout and upstream.api_key not in add.stdout
            route = downstream.cli("routes", "add", "via-upstream", "--connector", "up", "--priority", "10")
            assert route.returncode == 0, route.stderr
            eventually(
                lambda: (
                    {c["name"]: c for c in downstream.cli_json("connectors", "list", "--json")}["up"]["state"] == "up"
                ),
                timeout=20,
                message="the upstream connector never came up",
            )
            yield Pair(upstream, downstream, app, number)
        finally:
            downstream.stop()
            upstream.stop()


def test_a_message_sent_downstream_is_delivered_by_the_upstream(pair: Pair) -> None:
    handset = fresh_number()
    sent = pair.downstream.client().messages.send(from_=pair.number, to=handset, text="through two servers").data
    verify = Verifier(pair.downstream)
    for event_type in ("message.sent", "message.finalized"):
        raw, _ = wait_events(pair.app, sent.id, event_type)[0]
        body = verify(raw)
        assert body["data"]["payload"]["id"] == sent.id
    final = wait_terminal(pair.downstream, sent.id)
    assert final["to"][0]["status"] == "delivered"
    upstream_id = final["heliograph"]["carrier_message_ids"][0]
    assert final["heliograph"]["connector"] == "up"
    upstream_view = message(pair.upstream, upstream_id)
    assert upstream_view["to"][0]["status"] == "delivered" and upstream_view["text"] == "through two servers"
    with pair.upstream.http() as http:
        inbox = ok(http.get(f"/sandbox/v1/handsets/{handset}/messages"))["data"]
    assert [m["text"] for m in inbox] == ["through two servers"]


def test_an_inbound_message_on_the_upstream_reaches_the_downstream_app(pair: Pair) -> None:
    handset = fresh_number()
    with pair.upstream.http() as http:
        ok(http.post("/sandbox/v1/inbound", json={"from": handset, "to": pair.number, "text": "reply from a phone"}))

    def received() -> list:
        return [
            r
            for r in pair.app.events("/app")
            if r.json()["data"]["event_type"] == "message.received"
            and r.json()["data"]["payload"]["from"]["phone_number"] == handset
        ]

    raw = eventually(received, message="the inbound message never reached the downstream app")[0]
    payload = Verifier(pair.downstream)(raw)["data"]["payload"]
    assert payload["text"] == "reply from a phone" and payload["to"][0]["phone_number"] == pair.number


def test_a_refusal_by_the_upstream_ends_sending_failed_with_its_code(pair: Pair) -> None:
    own = fresh_number()  # a number the downstream has and the upstream does not
    profile = new_profile(pair.downstream, webhook_url=pair.app.url("/app"))
    _order(pair.downstream, own, profile["id"])
    sent = pair.downstream.client().messages.send(from_=own, to=fresh_number(), text="unknown upstream").data
    final = wait_terminal(pair.downstream, sent.id)
    assert final["to"][0]["status"] == "sending_failed"
    assert "Upstream up answered HTTP 4" in final["errors"][0]["detail"]


def test_unsigned_tampered_and_stale_upstream_webhooks_are_refused(pair: Pair) -> None:
    url = pair.downstream.url + "/carriers/v1/up/webhooks"
    body = b'{"data":{"event_type":"message.finalized","payload":{"id":"x","to":[{"status":"delivered"}]}}}'
    assert httpx.post(url, content=body, headers={"content-type": "application/json"}).status_code == 401
    forged = {
        "content-type": "application/json",
        "telnyx-timestamp": str(int(time.time())),
        "telnyx-signature-ed25519": "A" * 88,
    }
    assert httpx.post(url, content=body, headers=forged).status_code == 401
    stale = {**forged, "telnyx-timestamp": str(int(time.time()) - 3600)}
    assert httpx.post(url, content=body, headers=stale).status_code == 401
    assert httpx.post(pair.downstream.url + "/carriers/v1/nope/webhooks", content=body).status_code == 404


def test_upstream_down_then_back_delivers_what_waited(pair: Pair) -> None:
    def state() -> str:
        return {c["name"]: c for c in pair.downstream.cli_json("connectors", "list", "--json")}["up"]["state"]

    pair.upstream.stop()
    try:
        sent = pair.downstream.client().messages.send(from_=pair.number, to=fresh_number(), text="waited").data
        eventually(lambda: state() == "down", timeout=20, message="the downstream never saw its upstream go")
        # its only connector is down: the message waits instead of failing
        assert message(pair.downstream, sent.id)["to"][0]["status"] in ("queued", "sending")
    finally:
        pair.upstream.start()
    assert wait_terminal(pair.downstream, sent.id, timeout=90)["to"][0]["status"] == "delivered"

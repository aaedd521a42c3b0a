"""A message's webhooks end to end: what a delivered or failed message sends, where, and how it is signed
(spec webhooks.md §1–§4, messages.md §6), plus what the virtual handset received."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_support import (
    ByEvent,
    Verifier,
    barrier,
    events_of,
    fresh_number,
    new_profile,
    new_sender,
    send,
    wait_events,
    wait_terminal,
)
from support import Server, WebhookReceiver

pytestmark = pytest.mark.e2e


def test_delivered_message_sends_sent_then_finalized(
    server: Server, receiver: WebhookReceiver, hooked: tuple[str, str], verify: Verifier
) -> None:
    _, sender = hooked
    handset = fresh_number()
    text = "Hello from Heliograph, ünïcödé ✓"
    client = server.client(strict=True)
    sent = client.messages.send(from_=sender, to=handset, text=text)
    message_id = sent.data.id

    [(raw_sent, sent_body)] = wait_events(receiver, message_id, "message.sent")
    [(raw_final, final_body)] = wait_events(receiver, message_id, "message.finalized")
    url = receiver.url("/profile")
    for raw, body in ((raw_sent, sent_body), (raw_final, final_body)):
        assert verify(raw) == body
        assert raw.path == "/profile"
        assert raw.headers["Content-Type"] == "application/json"
        assert body["data"]["record_type"] == "event"
        assert body["meta"] == {"attempt": 1, "delivered_to": url}
        payload = body["data"]["payload"]
        assert payload["id"] == message_id
        assert payload["direction"] == "outbound"
        assert payload["text"] == text
        assert payload["from"]["phone_number"] == sender
        assert payload["to"][0]["phone_number"] == handset

    # the states happen in this order; arrival order is not guaranteed (spec webhooks.md §5)
    assert sent_body["data"]["occurred_at"] <= final_body["data"]["occurred_at"]
    assert sent_body["data"]["id"] != final_body["data"]["id"]
    assert sent_body["data"]["payload"]["to"][0]["status"] == "sent"
    assert sent_body["data"]["payload"]["sent_at"] is not None
    final = final_body["data"]["payload"]
    assert final["to"][0]["status"] == "delivered"
    assert final["completed_at"] is not None
    assert final["errors"] == []

    retrieved = client.messages.retrieve(message_id)
    assert retrieved.data.to[0].status == "delivered"

    with server.http() as http:
        inbox = http.get(f"/sandbox/v1/handsets/{handset}/messages").json()["data"]
        assert [(m["message_id"], m["from"], m["to"], m["text"]) for m in inbox] == [
            (message_id, sender, handset, text)
        ]
        cleared = http.delete(f"/sandbox/v1/handsets/{handset}/messages")
        assert cleared.status_code == 200
        assert cleared.json()["data"]["deleted"] == 1
        assert http.get(f"/sandbox/v1/handsets/{handset}/messages").json()["data"] == []
    # exactly one POST per event when the receiver answers 200 at once
    assert len(events_of(receiver, message_id)) == 2


def test_handset_gets_the_transmitted_text_webhooks_the_original(
    server: Server, receiver: WebhookReceiver, verify: Verifier
) -> None:
    """With smart encoding the handset receives the substituted text; webhooks report the original."""
    profile = new_profile(server, webhook_url=receiver.url("/profile"), smart_encoding=True)
    sender = new_sender(server, profile["id"])
    handset = fresh_number()
    original = "\u201cSmart\u201d quotes \u2014 and \u2018more\u2019"
    msg = send(server, from_=sender, to=handset, text=original)
    [(raw, body)] = wait_events(receiver, msg["id"], "message.finalized")
    verify(raw)
    assert body["data"]["payload"]["text"] == original
    assert body["data"]["payload"]["smart_encoding_applied"] is True
    with server.http() as http:
        [delivered] = http.get(f"/sandbox/v1/handsets/{handset}/messages").json()["data"]
    assert delivered["text"] == "\"Smart\" quotes - and 'more'"
    assert delivered["encoding"] == "GSM-7"


def test_delivery_failed_number(
    server: Server, receiver: WebhookReceiver, hooked: tuple[str, str], verify: Verifier
) -> None:
    _, sender = hooked
    msg = send(server, from_=sender, to="+15005550001", text="never arrives")
    [(raw_sent, _)] = wait_events(receiver, msg["id"], "message.sent")
    [(raw, body)] = wait_events(receiver, msg["id"], "message.finalized")
    verify(raw_sent)
    verify(raw)
    payload = body["data"]["payload"]
    assert payload["to"][0]["status"] == "delivery_failed"
    assert payload["completed_at"] is not None
    assert [str(e["code"]) for e in payload["errors"]] == ["40008"]
    assert payload["errors"][0]["title"]
    assert wait_terminal(server, msg["id"])["to"][0]["status"] == "delivery_failed"
    with server.http() as http:
        assert http.get("/sandbox/v1/handsets/+15005550001/messages").json()["data"] == []


def test_sending_failed_number_has_no_message_sent(
    server: Server, receiver: WebhookReceiver, hooked: tuple[str, str], verify: Verifier
) -> None:
    _, sender = hooked
    msg = send(server, from_=sender, to="+15005550002", text="refused by the carrier")
    [(raw, body)] = wait_events(receiver, msg["id"], "message.finalized")
    verify(raw)
    payload = body["data"]["payload"]
    assert payload["to"][0]["status"] == "sending_failed"
    assert [str(e["code"]) for e in payload["errors"]] == ["40012"]
    assert payload["completed_at"] is not None
    barrier(server, receiver, sender)
    assert events_of(receiver, msg["id"], "message.sent") == []
    assert wait_terminal(server, msg["id"])["to"][0]["status"] == "sending_failed"


def test_unconfirmed_number(
    server: Server, receiver: WebhookReceiver, hooked: tuple[str, str], verify: Verifier
) -> None:
    _, sender = hooked
    msg = send(server, from_=sender, to="+15005550003", text="no receipt")
    [(raw_sent, _)] = wait_events(receiver, msg["id"], "message.sent")
    [(raw, body)] = wait_events(receiver, msg["id"], "message.finalized")
    verify(raw_sent)
    verify(raw)
    assert body["data"]["payload"]["to"][0]["status"] == "delivery_unconfirmed"
    assert body["data"]["payload"]["completed_at"] is not None
    assert wait_terminal(server, msg["id"])["to"][0]["status"] == "delivery_unconfirmed"


def test_invalid_destination_number_is_refused_at_request_time(
    server: Server, receiver: WebhookReceiver, hooked: tuple[str, str]
) -> None:
    _, sender = hooked
    with server.http() as http:
        response = http.post("/v2/messages", json={"from": sender, "to": "+15005550004", "text": "no"})
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert str(error["code"]) == "40310"
    assert error["title"]
    barrier_id = barrier(server, receiver, sender)
    assert {b["data"]["payload"]["id"] for b in (r.json() for r in receiver.events())} == {barrier_id}


# --- URL selection (spec webhooks.md §4) --------------------------------------------------------------


def test_message_webhook_url_comes_before_the_profile_url(
    server: Server, receiver: WebhookReceiver, hooked: tuple[str, str], verify: Verifier
) -> None:
    _, sender = hooked
    msg = send(
        server,
        from_=sender,
        to=fresh_number(),
        text="to my own URL",
        webhook_url=receiver.url("/message"),
        webhook_failover_url=receiver.url("/message-failover"),
    )
    assert msg["webhook_url"] == receiver.url("/message")
    for event_type in ("message.sent", "message.finalized"):
        [(raw, body)] = wait_events(receiver, msg["id"], event_type)
        verify(raw)
        assert raw.path == "/message"
        assert body["meta"] == {"attempt": 1, "delivered_to": receiver.url("/message")}
    barrier(server, receiver, sender)
    assert {r.path for r, _ in events_of(receiver, msg["id"])} == {"/message"}


def test_a_receivers_cookie_never_comes_back_on_later_webhooks(server: Server) -> None:
    """Webhooks are not a browser session: a cookie one receiver sets must not ride along on later
    webhooks (of its own, or of another organization whose URL is on the same host)."""
    cookies = {"Set-Cookie": "session=s3cr3t; Path=/"}
    with WebhookReceiver(response_headers=cookies) as receiver:
        # a host name: HTTP clients keep no cookies for bare IP addresses
        url = receiver.url("/profile").replace("127.0.0.1", "localhost")
        profile = new_profile(server, webhook_url=url)
        sender = new_sender(server, profile["id"])
        first = send(server, from_=sender, to=fresh_number(), text="one")
        wait_events(receiver, first["id"], "message.finalized")
        second = send(server, from_=sender, to=fresh_number(), text="two")
        wait_events(receiver, second["id"], "message.finalized")
        assert len(receiver.received) >= 4
        assert not [r.headers for r in receiver.received if "Cookie" in r.headers or "cookie" in r.headers]


def test_no_webhook_without_message_url_when_profile_webhooks_are_off(
    server: Server, receiver: WebhookReceiver, hooked: tuple[str, str]
) -> None:
    _, sender = hooked
    msg = send(server, from_=sender, to=fresh_number(), text="quiet", use_profile_webhooks=False)
    assert wait_terminal(server, msg["id"])["to"][0]["status"] == "delivered"
    barrier(server, receiver, sender)
    assert events_of(receiver, msg["id"]) == []


@pytest.fixture(scope="module")
def one_try_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One attempt per URL and no long tail, so a failover chain is walked in well under a second."""
    srv = Server(
        tmp_path_factory.mktemp("one-try"),
        env={
            "HELIOGRAPH_SIMULATOR_DLR_DELAY_MS": "20",
            "HELIOGRAPH_WEBHOOK_ATTEMPTS_PER_URL": "1",
            "HELIOGRAPH_WEBHOOK_RETRY_HOURS": "0",
        },
    ).start()
    yield srv
    srv.stop()


def test_url_order_message_then_failover_then_profile_urls(one_try_server: Server) -> None:
    srv = one_try_server
    script = ByEvent(lambda path, i: 200 if path == "/profile-failover" else 500)
    with WebhookReceiver(script) as hooks:
        script.attach(hooks)
        verify = Verifier(srv)
        profile = new_profile(
            srv, webhook_url=hooks.url("/profile"), webhook_failover_url=hooks.url("/profile-failover")
        )
        sender = new_sender(srv, profile["id"])
        msg = send(
            srv,
            from_=sender,
            to=fresh_number(),
            text="walk the chain",
            webhook_url=hooks.url("/message"),
            webhook_failover_url=hooks.url("/message-failover"),
        )
        for event_type in ("message.sent", "message.finalized"):
            wait_events(hooks, msg["id"], event_type, count=4)
            tries = events_of(hooks, msg["id"], event_type)
            for raw, _ in tries:
                verify(raw)
            assert [r.path for r, _ in tries] == [
                "/message",
                "/message-failover",
                "/profile",
                "/profile-failover",
            ]
            assert [b["meta"]["attempt"] for _, b in tries] == [1, 2, 3, 4]
            assert [b["meta"]["delivered_to"] for _, b in tries] == [hooks.url(r.path) for r, _ in tries]
            assert len({b["data"]["id"] for _, b in tries}) == 1


def test_profile_urls_are_skipped_when_profile_webhooks_are_off(one_try_server: Server) -> None:
    srv = one_try_server
    with WebhookReceiver(lambda path, n: 200 if path.startswith("/profile") else 500) as hooks:
        profile = new_profile(
            srv, webhook_url=hooks.url("/profile"), webhook_failover_url=hooks.url("/profile-failover")
        )
        sender = new_sender(srv, profile["id"])
        msg = send(
            srv,
            from_=sender,
            to=fresh_number(),
            text="only mine",
            use_profile_webhooks=False,
            webhook_url=hooks.url("/message"),
            webhook_failover_url=hooks.url("/message-failover"),
        )
        for event_type in ("message.sent", "message.finalized"):
            tries = wait_events(hooks, msg["id"], event_type, count=2)
            assert [r.path for r, _ in tries] == ["/message", "/message-failover"]
        barrier(srv, hooks, sender)  # goes to the profile URLs, which answer 200
        assert {r.path for r, _ in events_of(hooks, msg["id"])} == {"/message", "/message-failover"}
        assert len(events_of(hooks, msg["id"])) == 4

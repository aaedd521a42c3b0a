"""Compliance end to end: inbound messages, opt-out / opt-in / help keywords and their auto-replies,
whitelisted destinations, the link shortener and on-net delivery (spec compliance.md, webhooks.md §1–§4,
messages.md §6), against a real `heliograph serve` with a real webhook receiver.

Every webhook looked at is verified with the official SDK (`client.webhooks.unwrap`).
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from e2e_support import (
    Verifier,
    barrier,
    events_of,
    fresh_number,
    message,
    new_profile,
    new_sender,
    ok,
    send,
    wait_events,
    wait_terminal,
)
from support import Received, Server, WebhookReceiver, eventually

pytestmark = pytest.mark.e2e

_rng = random.Random()

HELP_TEXT = "Acme alerts: 4 msgs/month. Reply STOP to end. Msg&data rates may apply."
BASTA_TEXT = "Sei stato cancellato: non riceverai altri messaggi da Acme."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """This module's own server (its own data directory), with a short simulator receipt delay."""
    srv = Server(tmp_path_factory.mktemp("compliance"), env={"HELIOGRAPH_SIMULATOR_DLR_DELAY_MS": "20"}).start()
    yield srv
    srv.stop()


# --- helpers ----------------------------------------------------------------------------------------


def handset() -> str:
    """A fresh, valid US mobile-looking number (exchange digit 2–9) no test has used."""
    return fresh_number("+14152")


def gb_mobile() -> str:
    return "+447400" + "".join(_rng.choice("0123456789") for _ in range(6))


def inbound(server: Server, sender: str, to: str, text: str) -> httpx.Response:
    """A virtual handset writes to a number (POST /sandbox/v1/inbound)."""
    with server.http() as http:
        return http.post("/sandbox/v1/inbound", json={"from": sender, "to": to, "text": text})


def inbox(server: Server, number: str) -> list[dict[str, Any]]:
    with server.http() as http:
        return ok(http.get(f"/sandbox/v1/handsets/{number}/messages"))["data"]


def wait_inbox(server: Server, number: str, count: int) -> list[dict[str, Any]]:
    return eventually(
        lambda: (got := inbox(server, number)) and len(got) >= count and got,
        message=f"handset {number} did not receive {count} message(s)",
    )


def received(receiver: WebhookReceiver, verify: Verifier, message_id: str) -> dict[str, Any]:
    """The one verified `message.received` POST about `message_id`."""
    [(raw, body)] = wait_events(receiver, message_id, "message.received")
    assert verify(raw) == body
    assert body["data"]["record_type"] == "event"
    return body


def send_error(server: Server, **body: Any) -> dict[str, Any]:
    """POST /v2/messages expecting a refusal; returns the only error entry plus the HTTP `status`."""
    if "from_" in body:
        body["from"] = body.pop("from_")
    with server.http() as http:
        response = http.post("/v2/messages", json=body)
    assert response.status_code != 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    [error] = response.json()["errors"]
    return {"status": response.status_code, **error}


def opt_outs_of(server: Server, profile_id: str) -> list[Any]:
    client = server.client(strict=True)
    return list(client.messaging_optouts.list(filter={"messaging_profile_id": profile_id}))


def message_count(server: Server, **where: str) -> int:
    """Rows in the server's message table matching `where` (read-only look at the sandbox database)."""
    db = server.data_dir / "heliograph.db"
    clause = " AND ".join(f"{column} = ?" for column in where)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute(f"SELECT count(*) FROM messages WHERE {clause}", tuple(where.values())).fetchone()[0]


# --- inbound ----------------------------------------------------------------------------------------


def test_handset_message_reaches_your_number(
    server: Server, receiver: WebhookReceiver, hooked: tuple[str, str], verify: Verifier
) -> None:
    profile_id, number = hooked
    phone = handset()
    text = "Hi there, is the shop open on Sunday? ☀"
    response = inbound(server, phone, number, text)
    assert response.status_code == 200, response.text
    message_id = response.json()["data"]["id"]

    body = received(receiver, verify, message_id)
    assert body["data"]["event_type"] == "message.received"
    assert body["meta"] == {"attempt": 1, "delivered_to": receiver.url("/profile")}
    payload = body["data"]["payload"]
    assert payload["id"] == message_id
    assert payload["direction"] == "inbound"
    assert payload["type"] == "SMS"
    assert payload["text"] == text
    assert payload["messaging_profile_id"] == profile_id
    assert payload["from"]["phone_number"] == phone
    assert [t["phone_number"] for t in payload["to"]] == [number]
    assert "autoresponse_type" not in payload  # not a keyword

    client = server.client(strict=True)

    def webhook_delivered() -> Any:
        data = client.messages.retrieve(message_id).data
        return data if data.to[0].status == "webhook_delivered" else None

    retrieved = eventually(webhook_delivered, message="inbound message never became webhook_delivered")
    assert retrieved.direction == "inbound"
    assert retrieved.text == text
    assert retrieved.from_.phone_number == phone
    assert retrieved.to[0].phone_number == number
    assert retrieved.messaging_profile_id == profile_id


def test_cli_inbound_reaches_your_number(
    server: Server, receiver: WebhookReceiver, hooked: tuple[str, str], verify: Verifier
) -> None:
    profile_id, number = hooked
    phone = handset()
    done = server.cli("inbound", "--from", phone, "--to", number, "--text", "Written from the CLI")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["direction"] == "inbound"
    message_id = printed["id"]

    payload = received(receiver, verify, message_id)["data"]["payload"]
    assert payload["text"] == "Written from the CLI"
    assert payload["from"]["phone_number"] == phone
    assert payload["to"][0]["phone_number"] == number
    assert payload["messaging_profile_id"] == profile_id

    retrieved = message(server, message_id)
    assert retrieved["direction"] == "inbound"
    assert retrieved["text"] == "Written from the CLI"


def test_inbound_to_a_number_that_is_not_yours_is_refused(
    server: Server, receiver: WebhookReceiver, hooked: tuple[str, str]
) -> None:
    _, number = hooked
    phone = handset()
    stranger = fresh_number("+13127")  # nobody on this server holds it
    response = inbound(server, phone, stranger, "anyone there?")
    assert response.status_code == 404, response.text
    [error] = response.json()["errors"]
    assert error["code"] == "10005"
    assert error["title"]

    done = server.cli("inbound", "--from", phone, "--to", stranger, "--text", "anyone there?")
    assert done.returncode != 0
    assert done.stdout.strip() == ""

    barrier(server, receiver, number)
    assert message_count(server, from_number=phone) == 0
    assert message_count(server, to_number=stranger) == 0
    assert [r for r in receiver.events() if r.json()["data"].get("event_type") == "message.received"] == []


def test_inbound_to_a_number_without_profile_is_stored_without_webhook(
    server: Server, receiver: WebhookReceiver, hooked: tuple[str, str]
) -> None:
    profile_id, number = hooked
    client = server.client(strict=True)
    loose = new_sender(server, profile_id)
    unassigned = client.phone_numbers.messaging.update(loose, messaging_profile_id="").data
    assert unassigned.messaging_profile_id in (None, "")

    phone = handset()
    response = inbound(server, phone, loose, "Anybody home?")
    assert response.status_code == 200, response.text
    message_id = response.json()["data"]["id"]

    retrieved = client.messages.retrieve(message_id).data
    assert retrieved.direction == "inbound"
    assert retrieved.text == "Anybody home?"
    assert retrieved.to[0].phone_number == loose

    # the profile it used to be on still has a webhook URL: nothing about this message goes there
    barrier(server, receiver, number)
    assert events_of(receiver, message_id) == []
    assert client.messages.retrieve(message_id).data.to[0].status == "delivered"


# --- opt-out, opt-in, help ----------------------------------------------------------------------------


def test_stop_blocks_the_profile_and_start_lifts_it(
    server: Server, receiver: WebhookReceiver, hooked: tuple[str, str], verify: Verifier
) -> None:
    profile_id, number = hooked
    other_number = new_sender(server, profile_id)
    phone = handset()
    first = send(server, from_=number, to=phone, text="Your code is 1234")
    wait_inbox(server, phone, 1)
    assert wait_terminal(server, first["id"])["to"][0]["status"] == "delivered"

    stop = inbound(server, phone, number, "Stop")
    assert stop.status_code == 200, stop.text
    payload = received(receiver, verify, stop.json()["data"]["id"])["data"]["payload"]
    assert payload["autoresponse_type"] == "STOP"
    assert payload["text"] == "Stop"
    assert message(server, payload["id"])["autoresponse_type"] == "STOP"

    for sender in (number, other_number):  # the rule covers every number of the profile
        error = send_error(server, from_=sender, to=phone, text="Still there?")
        assert error["status"] == 400
        assert error["code"] == "40300"
        assert error["title"] == "Blocked due to STOP message"
        assert error["detail"] == (
            f"Messages cannot be sent from '{sender}' to '{phone}' due to an existing block rule."
        )
    # another profile is not affected
    elsewhere = new_sender(server, new_profile(server)["id"])
    send(server, from_=elsewhere, to=phone, text="From another brand")

    [rule] = opt_outs_of(server, profile_id)
    assert rule.from_ == number
    assert rule.to == phone
    assert rule.keyword == "STOP"
    assert rule.messaging_profile_id == profile_id
    assert rule.created_at is not None

    # no auto-reply without a config, and nothing from this profile reached the handset after STOP
    barrier(server, receiver, number)
    texts = [m["text"] for m in wait_inbox(server, phone, 2)]
    assert sorted(texts) == ["From another brand", "Your code is 1234"]

    start = inbound(server, phone, other_number, "START")
    assert start.status_code == 200, start.text
    start_payload = received(receiver, verify, start.json()["data"]["id"])["data"]["payload"]
    assert start_payload["autoresponse_type"] == "START"
    assert opt_outs_of(server, profile_id) == []

    again = send(server, from_=number, to=phone, text="Welcome back")
    [(raw, final)] = wait_events(receiver, again["id"], "message.finalized")
    verify(raw)
    assert final["data"]["payload"]["to"][0]["status"] == "delivered"
    assert any(m["message_id"] == again["id"] and m["text"] == "Welcome back" for m in inbox(server, phone))


def test_help_gets_the_configured_info_reply(
    server: Server, receiver: WebhookReceiver, hooked: tuple[str, str], verify: Verifier
) -> None:
    profile_id, number = hooked
    client = server.client(strict=True)
    client.messaging_profiles.autoresp_configs.create(
        profile_id, op="info", keywords=["HELP"], country_code="US", resp_text=HELP_TEXT
    )
    phone = handset()
    help_in = inbound(server, phone, number, "help")
    assert help_in.status_code == 200, help_in.text
    payload = received(receiver, verify, help_in.json()["data"]["id"])["data"]["payload"]
    assert payload["autoresponse_type"] == "HELP"

    [reply] = wait_inbox(server, phone, 1)
    assert reply["text"] == HELP_TEXT
    assert reply["from"] == number
    # a real outbound message, with its own webhooks
    [(raw_sent, sent)] = wait_events(receiver, reply["message_id"], "message.sent")
    [(raw_final, final)] = wait_events(receiver, reply["message_id"], "message.finalized")
    for raw, body in ((raw_sent, sent), (raw_final, final)):
        assert verify(raw) == body
        reply_payload = body["data"]["payload"]
        assert reply_payload["direction"] == "outbound"
        assert reply_payload["text"] == HELP_TEXT
        assert reply_payload["from"]["phone_number"] == number
        assert reply_payload["to"][0]["phone_number"] == phone
        assert reply_payload["messaging_profile_id"] == profile_id
    assert final["data"]["payload"]["to"][0]["status"] == "delivered"
    assert client.messages.retrieve(reply["message_id"]).data.to[0].status == "delivered"
    # HELP changes no block rule
    assert opt_outs_of(server, profile_id) == []
    send(server, from_=number, to=phone, text="Regular message")


def test_custom_stop_keyword_opts_out_and_replies(
    server: Server, receiver: WebhookReceiver, hooked: tuple[str, str], verify: Verifier
) -> None:
    profile_id, number = hooked
    client = server.client(strict=True)
    client.messaging_profiles.autoresp_configs.create(
        profile_id, op="stop", keywords=["BASTA"], country_code="*", resp_text=BASTA_TEXT
    )
    phone = handset()
    basta = inbound(server, phone, number, "  basta ")
    assert basta.status_code == 200, basta.text
    payload = received(receiver, verify, basta.json()["data"]["id"])["data"]["payload"]
    assert payload["autoresponse_type"] == "STOP"

    # the confirmation goes out although the handset just opted out
    [reply] = wait_inbox(server, phone, 1)
    assert reply["text"] == BASTA_TEXT
    assert reply["from"] == number
    [(raw, final)] = wait_events(receiver, reply["message_id"], "message.finalized")
    verify(raw)
    assert final["data"]["payload"]["to"][0]["status"] == "delivered"

    [rule] = opt_outs_of(server, profile_id)
    assert (rule.from_, rule.to, rule.keyword, rule.messaging_profile_id) == (
        number,
        phone,
        "BASTA",
        profile_id,
    )
    error = send_error(server, from_=number, to=phone, text="One more?")
    assert (error["status"], error["code"]) == (400, "40300")


def test_opted_out_recipient_cannot_be_scheduled(
    server: Server, receiver: WebhookReceiver, hooked: tuple[str, str], verify: Verifier
) -> None:
    _, number = hooked
    phone = handset()
    stop = inbound(server, phone, number, "UNSUBSCRIBE")
    assert stop.status_code == 200, stop.text
    assert received(receiver, verify, stop.json()["data"]["id"])["data"]["payload"]["autoresponse_type"] == "STOP"

    send_at = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
    with server.http() as http:
        for path in ("/v2/messages", "/v2/messages/schedule"):
            response = http.post(path, json={"from": number, "to": phone, "text": "Later", "send_at": send_at})
            assert response.status_code == 400, (path, response.text)
            assert response.json()["errors"][0]["code"] == "40300"
        # the same request to someone who did not opt out is scheduled
        other = handset()
        scheduled = http.post(
            "/v2/messages/schedule", json={"from": number, "to": other, "text": "Later", "send_at": send_at}
        )
        assert scheduled.status_code == 200, scheduled.text
        assert scheduled.json()["data"]["to"][0]["status"] == "scheduled"
        assert http.delete(f"/v2/messages/{scheduled.json()['data']['id']}").status_code == 200


# --- whitelisted destinations ---------------------------------------------------------------------------


def test_whitelisted_destinations(server: Server, receiver: WebhookReceiver, verify: Verifier) -> None:
    profile = new_profile(server, webhook_url=receiver.url("/profile"), whitelisted_destinations=["US"])
    number = new_sender(server, profile["id"])
    abroad = gb_mobile()

    error = send_error(server, from_=number, to=abroad, text="Hello London")
    assert (error["status"], error["code"]) == (400, "40309")
    assert error["title"] == "Invalid destination region"
    assert "GB" in error["detail"] and abroad in error["detail"]
    send(server, from_=number, to=handset(), text="Hello Chicago")  # US is allowed

    with server.http() as http:
        ok(http.patch(f"/v2/messaging_profiles/{profile['id']}", json={"whitelisted_destinations": ["*"]}))
    allowed = send(server, from_=number, to=abroad, text="Hello London")
    [(raw, final)] = wait_events(receiver, allowed["id"], "message.finalized")
    verify(raw)
    assert final["data"]["payload"]["to"][0]["status"] == "delivered"
    assert [m["text"] for m in inbox(server, abroad)] == ["Hello London"]


# --- link shortener -------------------------------------------------------------------------------------


def own_domain(server: Server) -> str:
    client = server.client(strict=True)
    domains = [d.url_domain for d in client.messaging_url_domains.list()]
    own = urlsplit(server.url).netloc
    assert own in domains, domains
    return own


def link_clicks(receiver: WebhookReceiver) -> list[Received]:
    return [r for r in receiver.events() if r.json().get("data", {}).get("record_type") == "link_clicked"]


def test_link_shortener_rewrites_links_and_reports_clicks(
    server: Server, receiver: WebhookReceiver, verify: Verifier
) -> None:
    domain = own_domain(server)
    settings = {"domain": domain, "prefix": "go", "replace_blacklist_only": False, "send_webhooks": True}
    profile = new_profile(server, webhook_url=receiver.url("/profile"), url_shortener_settings=settings)
    assert profile["url_shortener_settings"] == settings
    number = new_sender(server, profile["id"])
    phone = handset()
    original = "https://shop.example.com/orders/42?ref=sms"
    text = f"Your order shipped: {original}. Thanks!"

    sent = send(server, from_=number, to=phone, text=text)
    assert sent["text"] == text
    assert server.client(strict=True).messages.retrieve(sent["id"]).data.text == text

    [delivered] = wait_inbox(server, phone, 1)
    assert original not in delivered["text"]
    [short] = re.findall(rf"https?://{re.escape(domain)}/go/[^\s.]+", delivered["text"])
    assert delivered["text"] == f"Your order shipped: {short}. Thanks!"

    clicked_at = datetime.now(UTC)
    redirect = httpx.get(short, follow_redirects=False, timeout=10)  # no API key: anyone may click
    assert redirect.status_code == 302
    assert redirect.headers["location"] == original

    [raw] = eventually(lambda: link_clicks(receiver), message="no link_clicked webhook arrived")
    body = verify(raw)
    assert raw.path == "/profile"
    assert raw.headers["Content-Type"] == "application/json"
    assert set(body) == {"data"}  # no meta, no event envelope
    data = body["data"]
    assert set(data) == {"record_type", "url", "to", "message_id", "time_clicked"}
    assert data["record_type"] == "link_clicked"
    assert data["url"] == original
    assert data["to"] == phone
    assert data["message_id"] == sent["id"]
    time_clicked = datetime.fromisoformat(data["time_clicked"].replace("Z", "+00:00"))
    assert abs(time_clicked - clicked_at) < timedelta(minutes=1)


def test_parts_are_counted_on_the_shortened_text(server: Server) -> None:
    """The handset receives the rewritten text, so that is what the parts (and the price) are counted on."""
    domain = own_domain(server)
    settings = {"domain": domain, "prefix": "go", "replace_blacklist_only": False, "send_webhooks": False}
    profile = new_profile(server, url_shortener_settings=settings)
    number = new_sender(server, profile["id"])
    phone = handset()
    text = "Hi! " + "x" * 130 + " https://a.co/x"  # 149 GSM-7 characters: one part as written
    assert len(text) <= 160

    sent = send(server, from_=number, to=phone, text=text)
    [delivered] = wait_inbox(server, phone, 1)
    assert len(delivered["text"]) > 160  # the short link on this server is longer than the original one
    assert delivered["parts"] == 2
    assert sent["parts"] == 2
    assert sent["text"] == text
    assert message(server, sent["id"])["parts"] == 2


def test_link_shortener_blacklist_only(server: Server, receiver: WebhookReceiver) -> None:
    domain = own_domain(server)
    settings = {"domain": domain, "prefix": "", "replace_blacklist_only": True, "send_webhooks": False}
    profile = new_profile(server, webhook_url=receiver.url("/profile"), url_shortener_settings=settings)
    number = new_sender(server, profile["id"])
    phone = handset()
    text = "Deal: https://bit.ly/3xYzAbC and docs https://docs.example.com/guide"

    sent = send(server, from_=number, to=phone, text=text)
    assert sent["text"] == text
    [delivered] = wait_inbox(server, phone, 1)
    assert "bit.ly" not in delivered["text"]
    assert "https://docs.example.com/guide" in delivered["text"]
    [short] = re.findall(rf"https?://{re.escape(domain)}/\S+", delivered["text"])
    assert delivered["text"] == f"Deal: {short} and docs https://docs.example.com/guide"
    redirect = httpx.get(short, follow_redirects=False, timeout=10)
    assert redirect.status_code == 302
    assert redirect.headers["location"] == "https://bit.ly/3xYzAbC"

    # send_webhooks false: the click is not reported
    barrier(server, receiver, number)
    assert link_clicks(receiver) == []


# --- on-net delivery ------------------------------------------------------------------------------------


def test_on_net_message_is_delivered_and_received(server: Server, verify: Verifier) -> None:
    with WebhookReceiver() as sender_hooks, WebhookReceiver() as receiver_hooks:
        sending_profile = new_profile(server, webhook_url=sender_hooks.url("/out"))
        receiving_profile = new_profile(server, webhook_url=receiver_hooks.url("/in"))
        long_code = new_sender(server, sending_profile["id"])
        toll_free = fresh_number("+18882")
        with server.http() as http:
            order = {
                "phone_numbers": [{"phone_number": toll_free}],
                "messaging_profile_id": receiving_profile["id"],
            }
            ok(http.post("/v2/number_orders", json=order))

        text = "Ping from our own long code"
        sent = send(server, from_=long_code, to=toll_free, text=text)
        [(raw_final, final)] = wait_events(sender_hooks, sent["id"], "message.finalized")
        verify(raw_final)
        assert final["data"]["payload"]["to"][0]["status"] == "delivered"

        def arrived() -> list[Received]:
            return [r for r in receiver_hooks.events() if r.json()["data"]["event_type"] == "message.received"]

        [raw_in] = eventually(arrived, message="the toll-free number's profile got no message.received")
        body = verify(raw_in)
        payload = body["data"]["payload"]
        assert payload["direction"] == "inbound"
        assert payload["text"] == text
        assert payload["from"]["phone_number"] == long_code
        assert payload["to"][0]["phone_number"] == toll_free
        assert payload["messaging_profile_id"] == receiving_profile["id"]
        assert payload["id"] != sent["id"]
        assert message(server, payload["id"])["direction"] == "inbound"
        # the sending side sees only its outbound events
        assert {verify(r)["data"]["event_type"] for r in sender_hooks.events()} <= {
            "message.sent",
            "message.finalized",
        }


def test_auto_reply_follows_the_sender_country(
    server: Server, receiver: WebhookReceiver, hooked: tuple[str, str], verify: Verifier
) -> None:
    """A config for the sender's country wins over one for "*"; a config for another country never applies."""
    profile_id, number = hooked
    configs = server.client(strict=True).messaging_profiles.autoresp_configs
    configs.create(profile_id, op="info", keywords=["HELP"], country_code="US", resp_text="US help: call 312 555 0100.")
    configs.create(profile_id, op="info", keywords=["HELP"], country_code="*", resp_text="Help for everyone else.")
    configs.create(profile_id, op="stop", keywords=["ARRETEZ"], country_code="FR", resp_text="Vous etes desabonne.")
    american, british = handset(), gb_mobile()

    for phone, text in ((american, "HELP"), (british, "HELP"), (american, "ARRETEZ")):
        response = inbound(server, phone, number, text)
        assert response.status_code == 200, response.text
        payload = received(receiver, verify, response.json()["data"]["id"])["data"]["payload"]
        assert payload.get("autoresponse_type") == ("HELP" if text == "HELP" else None)

    assert [m["text"] for m in wait_inbox(server, british, 1)] == ["Help for everyone else."]
    barrier(server, receiver, number)
    assert [m["text"] for m in wait_inbox(server, american, 1)] == ["US help: call 312 555 0100."]
    assert opt_outs_of(server, profile_id) == []  # ARRETEZ is a keyword for French senders only


def test_group_mms_with_an_opted_out_recipient_is_refused(
    server: Server, receiver: WebhookReceiver, hooked: tuple[str, str], verify: Verifier
) -> None:
    _, number = hooked
    stopped, fine = handset(), handset()
    stop = inbound(server, stopped, number, "END")
    assert stop.status_code == 200, stop.text
    received(receiver, verify, stop.json()["data"]["id"])

    body = {
        "from": number,
        "to": [fine, stopped],
        "media_urls": ["https://example.com/cat.jpg"],
        "text": "Look",
    }
    with server.http() as http:
        response = http.post("/v2/messages/group_mms", json=body)
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["code"] == "40300"
    assert stopped in error["detail"]
    barrier(server, receiver, number)
    assert inbox(server, fine) == []  # the whole request was refused

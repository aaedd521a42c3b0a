"""The console in a real browser (Debian's chromium through Playwright), with the official telnyx SDK as the
application. Controls are found by their accessible names, as a screen reader announces them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import telnyx
from e2e_support import Verifier, fresh_number, new_profile, new_sender, send, wait_events, wait_terminal
from playwright.sync_api import Page, expect
from support import Server, WebhookReceiver, eventually

pytestmark = pytest.mark.e2e


def thread_url(server: Server, handset: str, number: str | None = None) -> str:
    return f"{server.url}/console/handsets/{handset}" + (f"?number={number}" if number else "")


def bubble(page: Page, text: str):
    return page.get_by_role("region", name="Conversation").get_by_role("listitem").filter(has_text=text)


def received_events(receiver: WebhookReceiver, event_type: str, path: str = "/hook") -> list:
    return [r for r in receiver.events(path) if r.json()["data"].get("event_type") == event_type]


def test_sent_message_appears_and_turns_delivered_live(server: Server, page: Page, shoot) -> None:
    handset = fresh_number()
    page.goto(server.url + "/")  # GET / redirects to the console
    assert page.url.endswith("/console/")
    page.get_by_label("Play another handset").fill(handset)
    page.get_by_role("button", name="Open").click()
    expect(page.get_by_role("heading", name=handset)).to_be_visible()
    page.evaluate("window.noReloadMarker = true")  # gone if anything below reloads the page

    client = server.client(strict=True)
    sent = client.messages.send(from_=server.long_code, to=handset, text="Your table for two is ready")
    assert sent.data.to[0].status == "queued"

    message = bubble(page, "Your table for two is ready")
    expect(message).to_be_visible()
    expect(message.get_by_text("delivered", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(re.escape(handset)))).to_contain_text(
        "Your table for two is ready"
    )  # the conversation list updated too
    assert page.evaluate("window.noReloadMarker") is True
    assert client.messages.retrieve(sent.data.id).data.to[0].status == "delivered"

    client.messages.send(from_=server.long_code, to=handset, text="Reply YES to confirm, or call us.")
    expect(bubble(page, "Reply YES to confirm").get_by_text("delivered", exact=True)).to_be_visible()
    page.get_by_label("Reply as handset").fill("YES, see you at 8")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(bubble(page, "YES, see you at 8")).to_be_visible()
    shoot(page, "conversation")  # the README's picture (docs/console-conversation.png) is a copy of this one


def test_reply_as_handset_reaches_a_verifying_webhook_receiver(
    server: Server, page: Page, receiver: WebhookReceiver
) -> None:
    profile = new_profile(server, webhook_url=receiver.url("/hook"))
    first, second = new_sender(server, profile["id"]), new_sender(server, profile["id"])
    handset = fresh_number()
    for number in (first, second):
        wait_terminal(server, send(server, from_=number, to=handset, text=f"Hello from {number}")["id"])

    page.goto(thread_url(server, handset))
    to = page.get_by_label("To")  # the handset talked to two of our numbers: pick which one
    expect(to).to_have_value(second)  # the most recent one by default
    to.select_option(first)
    page.get_by_label("Reply as handset").fill("Is my order ready?")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(bubble(page, "Is my order ready?")).to_be_visible()

    [raw] = eventually(lambda: received_events(receiver, "message.received"), message="no message.received")
    body = Verifier(server)(raw)  # telnyx's webhooks.unwrap checks the Ed25519 signature
    payload = body["data"]["payload"]
    assert payload["direction"] == "inbound"
    assert payload["text"] == "Is my order ready?"
    assert payload["from"]["phone_number"] == handset
    assert payload["to"][0]["phone_number"] == first


def test_stop_blocks_the_next_send_until_start(server: Server, page: Page) -> None:
    profile = new_profile(server)
    number = new_sender(server, profile["id"])
    handset = fresh_number()
    client = server.client(strict=True)
    wait_terminal(server, client.messages.send(from_=number, to=handset, text="Weekly deals inside").data.id)

    page.goto(thread_url(server, handset, number))
    page.get_by_role("button", name="STOP", exact=True).click()
    expect(page.get_by_text(f"{handset} is opted out")).to_be_visible()
    with pytest.raises(telnyx.APIStatusError) as refused:
        client.messages.send(from_=number, to=handset, text="Last chance!")
    assert refused.value.body["errors"][0]["code"] == "40300"

    page.get_by_role("button", name="START", exact=True).click()
    expect(bubble(page, "START")).to_be_visible()
    expect(page.get_by_text(f"{handset} is opted out")).to_have_count(0)
    assert client.messages.send(from_=number, to=handset, text="Welcome back").data.to[0].status == "queued"

    page.get_by_role("button", name="HELP", exact=True).click()
    expect(bubble(page, "HELP")).to_be_visible()


def test_simulator_failure_rate_turns_new_messages_delivery_failed(
    tmp_path: Path,
    page: Page,
    shoot,
) -> None:
    server = Server(tmp_path, env={"HELIOGRAPH_SIMULATOR_DLR_DELAY_MS": "50"}).start()
    try:
        page.goto(server.url + "/console/simulator")
        expect(page.get_by_label("Failure rate (%)")).to_have_value("0")  # today's behaviour by default
        page.get_by_label("Failure rate (%)").fill("100")
        page.get_by_role("button", name="Apply").click()
        expect(page.get_by_role("status")).to_contain_text("Saved")
        expect(page.get_by_label("Failure rate (%)")).to_have_value("100")

        handset = fresh_number()

        def next_message_fails() -> str | None:
            sent = send(server, from_=server.long_code, to=handset, text="Does this reach you?")
            final = wait_terminal(server, sent["id"])
            return sent["id"] if final["to"][0]["status"] == "delivery_failed" else None

        failed_id = eventually(next_message_fails, timeout=30, message="the failure rate never applied")
        final = server.client(strict=True).messages.retrieve(failed_id).data
        assert final.to[0].status == "delivery_failed"
        assert final.errors  # the API says why

        page.goto(thread_url(server, handset))
        expect(page.locator(f"#status-{failed_id}")).to_have_text("delivery_failed")
        shoot(page, "simulator-failure")
    finally:
        server.stop()


def test_replay_makes_a_second_signed_attempt_at_the_receiver(
    server: Server, page: Page, receiver: WebhookReceiver
) -> None:
    profile = new_profile(server, webhook_url=receiver.url("/hook"))
    number = new_sender(server, profile["id"])
    sent = send(server, from_=number, to=fresh_number(), text="Replay me")
    [(_, first)] = wait_events(receiver, sent["id"], "message.finalized")
    event_id = first["data"]["id"]

    page.goto(server.url + "/console/webhooks")
    row = page.get_by_role("row").filter(has_text=receiver.url("/hook")).filter(has_text="message.finalized")
    row.get_by_role("link", name="message.finalized").click()
    expect(page.get_by_role("heading", name="Attempt 1")).to_be_visible()
    page.get_by_role("button", name="Replay").click()
    expect(page.get_by_role("status")).to_contain_text("Replayed")
    expect(page.get_by_role("heading", name="Attempt 2")).to_be_visible()

    attempts = wait_events(receiver, sent["id"], "message.finalized", count=2)
    verify = Verifier(server)
    for raw, body in attempts:
        assert verify(raw) == body  # each attempt freshly signed, both verify with unwrap
        assert body["data"]["id"] == event_id  # the same event: receivers can de-duplicate
    assert [body["meta"]["attempt"] for _, body in attempts] == [1, 2]


def test_login_is_required_off_loopback_and_other_organizations_never_show(tmp_path: Path, page: Page) -> None:
    # 0.0.0.0 listens on every interface: not loopback, so the console asks for an API key
    server = Server(tmp_path, env={"HELIOGRAPH_HOST": "0.0.0.0", "HELIOGRAPH_SIMULATOR_DLR_DELAY_MS": "50"}).start()
    try:
        other = server.cli_json("accounts", "create", "Other Co")
        other_number = fresh_number()
        with server.http(other["api_key"]) as http:
            order = {
                "phone_numbers": [{"phone_number": other_number}],
                "messaging_profile_id": other["messaging_profile_id"],
            }
            assert http.post("/v2/number_orders", json=order).status_code == 200
        ours_handset, theirs_handset = fresh_number(), fresh_number()
        sandbox_message = send(server, from_=server.long_code, to=ours_handset, text="Sandbox org secret")
        with server.http(other["api_key"]) as http:
            body = {"from": other_number, "to": theirs_handset, "text": "Other Co hello"}
            assert http.post("/v2/messages", json=body).status_code == 200

        page.goto(server.url + "/console/")
        expect(page.get_by_role("heading", name="Sign in to the console")).to_be_visible()
        page.get_by_label("API key").fill("KEY-not-a-real-one")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("not valid")
        page.get_by_label("API key").fill(other["api_key"])
        page.get_by_role("button", name="Sign in").click()

        expect(page.get_by_role("link", name=re.compile(re.escape(theirs_handset)))).to_be_visible()
        expect(page.get_by_role("link", name=re.compile(re.escape(ours_handset)))).to_have_count(0)
        expect(page.get_by_text("Sandbox org secret")).to_have_count(0)
        page.goto(f"{server.url}/console/messages/{sandbox_message['id']}")
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        page.goto(f"{server.url}/console/search?q=secret")
        expect(page.get_by_text("Nothing matches.")).to_be_visible()
        cookies = {c["name"]: c for c in page.context.cookies()}
        session = cookies["heliograph_session"]
        assert session["httpOnly"] is True
        assert session["sameSite"] == "Strict"
        assert other["api_key"] not in session["value"]

        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("heading", name="Sign in to the console")).to_be_visible()
    finally:
        server.stop()

"""The console without a browser: every page is readable HTML without JavaScript, forms work as plain posts,
and the CSRF and signature-check rules hold. httpx plays a browser with scripts turned off."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from html import unescape

import httpx
import pytest
from e2e_support import fresh_number, new_profile, new_sender, send, wait_events, wait_terminal
from nacl.signing import SigningKey
from support import Server, WebhookReceiver, eventually

pytestmark = pytest.mark.e2e


@pytest.fixture
def browser_http(server: Server) -> Iterator[httpx.Client]:
    """Cookies kept, redirects not followed, no API key: what a browser without JavaScript sends."""
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield http


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def text_of(html: str) -> str:
    """What a reader sees: the HTML without tags (scripts are not run)."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_root_redirects_to_the_console_and_static_files_ship_with_their_licenses(browser_http: httpx.Client) -> None:
    response = browser_http.get("/")
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"].endswith("/console/")
    assert browser_http.get("/console/login").headers["location"] == "/console/"  # loopback: no login
    htmx = browser_http.get("/console/static/htmx.min.js")
    assert htmx.status_code == 200
    assert htmx.text.startswith("/*! htmx.org") and "Zero-Clause BSD" in htmx.text.splitlines()[0]
    sse = browser_http.get("/console/static/sse.min.js")
    assert sse.status_code == 200 and "htmx-ext-sse" in sse.text.splitlines()[0]
    assert browser_http.get("/console/static/console.css").status_code == 200


def test_every_page_reads_without_javascript(server: Server, browser_http: httpx.Client) -> None:
    handset = fresh_number()
    message = send(server, from_=server.long_code, to=handset, text="Two-part hello " + "x" * 160)
    wait_terminal(server, message["id"])

    listing = browser_http.get("/console/")
    assert listing.status_code == 200
    assert handset in text_of(listing.text) and "Two-part hello" in text_of(listing.text)

    thread = browser_http.get(f"/console/handsets/{handset}")
    seen = text_of(thread.text)
    assert "Two-part hello" in seen and "delivered" in seen and "Reply as handset" in seen

    detail = text_of(browser_http.get(f"/console/messages/{message['id']}").text)
    for expected in (
        message["id"],
        "GSM-7",
        "Parts as cut",
        "153 septets",
        "Timeline",
        "accepted",
        "sent",
        "Raw JSON",
        '"record_type": "message"',
        "Carrier",
    ):
        assert expected in detail, expected

    for path, expected in (
        ("/console/compose", "Send message"),
        ("/console/webhooks", "Webhook deliveries"),
        ("/console/webhooks?failed=1", "No failing webhooks"),
        ("/console/webhooks/check-signature", "Check signature"),
        ("/console/simulator", "Failure rate"),
        ("/console/account", "TELNYX_PUBLIC_KEY=" + server.public_key),
        (f"/console/search?q={handset[1:]}", "Two-part hello"),
        ("/console/search?q=Two-part", handset),
    ):
        response = browser_http.get(path)
        assert response.status_code == 200, path
        assert expected in text_of(response.text), (path, expected)


def test_reply_and_compose_work_as_plain_form_posts(server: Server, browser_http: httpx.Client) -> None:
    handset = fresh_number()
    page = browser_http.get(f"/console/handsets/{handset}?number={server.long_code}")
    token = csrf(page.text)
    answer = browser_http.post(
        f"/console/handsets/{handset}/reply", data={"csrf_token": token, "to": server.long_code, "text": "Hi there"}
    )
    assert answer.status_code == 303
    assert "Hi there" in text_of(browser_http.get(answer.headers["location"]).text)

    sent = browser_http.post(
        "/console/compose", data={"csrf_token": token, "from": server.long_code, "to": handset, "text": "Composed"}
    )
    assert sent.status_code == 303
    thread = browser_http.get(sent.headers["location"]).text
    assert "Composed" in text_of(thread)

    refused = browser_http.post(
        "/console/compose", data={"csrf_token": token, "from": server.long_code, "to": "+15005550004", "text": "x"}
    )
    assert refused.status_code == 400
    assert "40310" in text_of(refused.text)


def test_forms_without_the_csrf_token_are_refused(server: Server, browser_http: httpx.Client) -> None:
    handset = fresh_number()
    browser_http.get("/console/")  # sets the CSRF cookie
    for token in (None, "forged"):
        data = {"to": server.long_code, "text": "STOP"}
        if token:
            data["csrf_token"] = token
        assert browser_http.post(f"/console/handsets/{handset}/reply", data=data).status_code == 403
    with httpx.Client(base_url=server.url) as other_site:  # no cookie at all, as a cross-site form would be
        response = other_site.post(
            f"/console/handsets/{handset}/reply", data={"csrf_token": "x", "to": "+1", "text": "a"}
        )
        assert response.status_code == 403
    assert handset not in text_of(browser_http.get("/console/").text)  # nothing was received


def test_check_signature_says_why(server: Server, browser_http: httpx.Client, receiver: WebhookReceiver) -> None:
    profile = new_profile(server, webhook_url=receiver.url("/hook"))
    number = new_sender(server, profile["id"])
    sent = send(server, from_=number, to=fresh_number(), text="Sign me")
    [(raw, _)] = wait_events(receiver, sent["id"], "message.finalized")
    body, stamp = raw.body.decode(), raw.headers["telnyx-timestamp"]
    signature = raw.headers["telnyx-signature-ed25519"]
    token = csrf(browser_http.get("/console/webhooks/check-signature").text)

    def check(body: str, stamp: str, signature: str) -> str:
        form = {"csrf_token": token, "body": body, "timestamp": stamp, "signature": signature}
        return text_of(browser_http.post("/console/webhooks/check-signature", data=form).text)

    assert "Verified" in check(body, stamp, signature)
    reordered = body.replace('{"data":', '{ "data":', 1)
    assert "Body altered" in check(reordered, stamp, signature)
    stranger = SigningKey.generate()
    foreign = base64.b64encode(stranger.sign(f"{stamp}|".encode() + raw.body).signature).decode()
    assert "Wrong key" in check(body, stamp, foreign)
    old = str(int(time.time()) - 3600)
    assert "Stale timestamp" in check(body, old, signature)
    assert "not a base64 Ed25519 signature" in check(body, stamp, "nope")


def test_webhook_log_filters_failures_and_shows_the_signed_request(server: Server, browser_http: httpx.Client) -> None:
    with WebhookReceiver(lambda path, n: 500) as failing:
        profile = new_profile(server, webhook_url=failing.url("/down"))
        number = new_sender(server, profile["id"])
        sent = send(server, from_=number, to=fresh_number(), text="Nobody listens")
        eventually(lambda: failing.events("/down"), message="no attempt reached the failing receiver")

        def failing_row() -> str | None:
            page = browser_http.get("/console/webhooks?failed=1").text
            return page if failing.url("/down") in page else None

        page = eventually(failing_row, message="the failure never showed in the log")
        [row] = [r for r in page.split("<tr")[1:] if failing.url("/down") in r and "message.sent" in r]
        event_id = re.search(r'href="/console/webhooks/([0-9a-f-]{36})"', row).group(1)
        detail = text_of(browser_http.get(f"/console/webhooks/{event_id}").text)
        assert "telnyx-signature-ed25519" in detail and "telnyx-timestamp" in detail
        assert f"POST {failing.url('/down')}" in detail and "HTTP 500" in detail
        assert sent["id"] in detail
        assert browser_http.get("/console/webhooks/00000000-0000-0000-0000-000000000000").status_code == 404


def test_mms_images_show_in_the_thread(server: Server, browser_http: httpx.Client) -> None:
    handset = fresh_number()
    body = {
        "from": handset,
        "to": server.long_code,
        "text": "Look at this",
        "media_urls": ["https://example.com/cat.jpg"],
    }
    with server.http() as http:
        assert http.post("/sandbox/v1/inbound", json=body).status_code == 200
    thread = browser_http.get(f"/console/handsets/{handset}").text
    assert '<img src="https://example.com/cat.jpg" alt="MMS image"' in thread
    assert "Look at this" in text_of(thread)


def test_a_handset_switched_off_gets_nothing(server: Server, browser_http: httpx.Client) -> None:
    handset = fresh_number()
    page = browser_http.get("/console/simulator").text
    token = csrf(page)
    delay = re.search(r'name="dlr_delay_ms" type="number" min="0" step="1" value="(\d+)"', page).group(1)
    form = {"csrf_token": token, "dlr_delay_ms": delay, "failure_rate_percent": "0", "extra_latency_ms": "0"}
    answer = browser_http.post("/console/simulator", data={**form, "handset": handset, "switch": "off"})
    assert answer.status_code == 303 and "Saved" in browser_http.get(answer.headers["location"]).text
    assert handset in text_of(browser_http.get("/console/simulator").text)

    def fails() -> bool:
        sent = send(server, from_=server.long_code, to=handset, text="Anyone there?")
        return wait_terminal(server, sent["id"])["to"][0]["status"] == "delivery_failed"

    eventually(fails, timeout=30, message="the handset never went off")
    browser_http.post("/console/simulator", data={**form, "on": handset})
    assert handset not in text_of(browser_http.get("/console/simulator").text)

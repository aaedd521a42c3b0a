"""The developer commands end to end against a real `heliograph serve`: listen, trigger, send, preview,
webhooks list / replay (issue 14). Each command runs as a real subprocess talking HTTP to the server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from e2e_support import Verifier, fresh_number, new_profile, new_sender, send, wait_terminal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import Server, WebhookReceiver, eventually

from heliograph.domain.encoding import GSM7_BASIC, GSM7_EXTENSION, SMART_SUBSTITUTIONS

pytestmark = pytest.mark.e2e


def cli_env(server: Server, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELIOGRAPH_", "TELNYX_"))}
    env.update({"TELNYX_BASE_URL": server.base_url, "TELNYX_API_KEY": server.api_key, **extra})
    return env


def run(server: Server, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "heliograph", *args],
        env=cli_env(server, **env),
        capture_output=True,
        text=True,
        timeout=90,
    )


class Listen:
    """`heliograph listen --json` as a subprocess; its JSON lines are collected as they come."""

    def __init__(self, server: Server, forward_to: str, *args: str) -> None:
        self.lines: list[dict[str, Any]] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "heliograph", "listen", "--forward-to", forward_to, "--json", *args],
            env=cli_env(server),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(json.loads(line))

    def states(self) -> list[str]:
        return [line["state"] for line in self.lines if line["type"] == "stream"]

    def wait_connected(self, times: int = 1) -> None:
        eventually(
            lambda: len([s for s in self.states() if s in ("connected", "reconnected")]) >= times,
            timeout=30,
            message=f"listen did not connect: {self.lines} {self.stderr_so_far()}",
        )

    def stderr_so_far(self) -> str:
        return "" if self.process.poll() is None else (self.process.stderr.read() if self.process.stderr else "")

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=10)
        self._reader.join(5)
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


def forwarded(receiver: WebhookReceiver, path: str, message_id: str) -> list[tuple[Any, dict[str, Any]]]:
    out = []
    for r in receiver.events(path):
        body = r.json()
        if body["data"].get("payload", {}).get("id") == message_id:
            out.append((r, body))
    return out


def test_listen_forwards_signed_events_beside_normal_delivery(
    server: Server, receiver: WebhookReceiver, verify: Verifier
) -> None:
    hooked = new_profile(server, webhook_url=receiver.url("/app"))
    hooked_sender = new_sender(server, hooked["id"])
    bare = new_profile(server)  # no webhook_url at all: the common case for a developer
    bare_sender = new_sender(server, bare["id"])
    listen = Listen(server, receiver.url("/listen"))
    try:
        listen.wait_connected()
        with_url = send(server, **{"from": hooked_sender, "to": fresh_number(), "text": "listen + app"})["id"]
        without = send(server, **{"from": bare_sender, "to": fresh_number(), "text": "listen only"})["id"]
        for message_id in (with_url, without):
            eventually(lambda m=message_id: len(forwarded(receiver, "/listen", m)) == 2, message="listen forwards")
            events = forwarded(receiver, "/listen", message_id)
            assert [b["data"]["event_type"] for _, b in events] == ["message.sent", "message.finalized"]
            for raw, body in events:
                verify(raw)  # the official SDK's unwrap accepts the forward unchanged
                assert body["meta"]["delivered_to"] == receiver.url("/listen")
        # normal delivery still happens for the profile with a URL
        eventually(lambda: len(forwarded(receiver, "/app", with_url)) == 2, message="normal delivery")
        assert forwarded(receiver, "/app", without) == []
        # each forward's outcome is in the delivery log, like any other attempt
        event_id = forwarded(receiver, "/listen", without)[1][1]["data"]["id"]
        with server.http() as http:
            delivery = eventually(
                lambda: (r := http.get(f"/v2/webhook_deliveries/{event_id}")).status_code == 200 and r.json()["data"]
            )
        [attempt] = delivery["attempts"]
        assert attempt["http"]["request"]["url"] == receiver.url("/listen")
        assert attempt["http"]["response"]["status"] == 200
        assert delivery["status"] == "delivered"
        printed = [line for line in listen.lines if line["type"] == "response" and line["id"] == event_id]
        assert printed and printed[0]["status"] == 200
        assert listen.interrupt() == 0
    finally:
        listen.close()


def test_listen_filters_by_event_type_and_profile(server: Server, receiver: WebhookReceiver) -> None:
    profile = new_profile(server)
    sender = new_sender(server, profile["id"])
    other = new_sender(server, new_profile(server)["id"])
    listen = Listen(server, receiver.url("/f"), "--events", "message.finalized", "--profile", profile["id"])
    try:
        listen.wait_connected()
        mine = send(server, **{"from": sender, "to": fresh_number(), "text": "mine"})["id"]
        theirs = send(server, **{"from": other, "to": fresh_number(), "text": "theirs"})["id"]
        wait_terminal(server, theirs)
        eventually(lambda: forwarded(receiver, "/f", mine), message="the finalized event of the profile")
        wait_terminal(server, mine)
        assert [b["data"]["event_type"] for _, b in forwarded(receiver, "/f", mine)] == ["message.finalized"]
        assert forwarded(receiver, "/f", theirs) == []
    finally:
        listen.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_listen_survives_a_server_restart_without_loss_or_duplicates(tmp_path: Path, sig: int) -> None:
    server = Server(tmp_path / "restart", env={"HELIOGRAPH_SIMULATOR_DLR_DELAY_MS": "50"}).start()
    with WebhookReceiver() as receiver:
        listen = Listen(server, receiver.url("/r"))
        try:
            listen.wait_connected()
            sent = [
                send(server, **{"from": server.long_code, "to": fresh_number(), "text": f"a{i}"})["id"]
                for i in range(3)
            ]
            for message_id in sent:
                wait_terminal(server, message_id)
            assert server.stop(sig) == (0 if sig == signal.SIGTERM else -signal.SIGKILL)
            server.start()
            # sent at once: their events are committed while listen is still reconnecting
            sent += [
                send(server, **{"from": server.long_code, "to": fresh_number(), "text": f"b{i}"})["id"]
                for i in range(3)
            ]
            listen.wait_connected(times=2)
            sent += [
                send(server, **{"from": server.long_code, "to": fresh_number(), "text": f"c{i}"})["id"]
                for i in range(3)
            ]
            for message_id in sent:
                eventually(
                    lambda m=message_id: len(forwarded(receiver, "/r", m)) >= 2, message=f"events of {message_id}"
                )
            ids = [r.json()["data"]["id"] for r in receiver.events("/r")]
            assert len(ids) == len(set(ids)), "an event was forwarded twice"
            for message_id in sent:
                types = [b["data"]["event_type"] for _, b in forwarded(receiver, "/r", message_id)]
                assert types == ["message.sent", "message.finalized"]
            assert listen.interrupt() == 0
        finally:
            listen.close()
            server.stop()


@pytest.mark.parametrize(
    ("outcome", "statuses"),
    [
        ("delivered", [("message.sent", "sent"), ("message.finalized", "delivered")]),
        ("delivery_failed", [("message.sent", "sent"), ("message.finalized", "delivery_failed")]),
        ("sending_failed", [("message.finalized", "sending_failed")]),
        ("delivery_unconfirmed", [("message.sent", "sent"), ("message.finalized", "delivery_unconfirmed")]),
    ],
)
def test_trigger_outcomes(server: Server, outcome: str, statuses: list[tuple[str, str]]) -> None:
    done = run(server, "trigger", "message.finalized", "--outcome", outcome, "--from", server.long_code, "--json")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert [(e["event_type"], e["status"]) for e in printed["events"]] == statuses
    with server.http() as http:
        message = http.get(f"/v2/messages/{printed['message_id']}").json()["data"]
    assert message["to"][0]["status"] == statuses[-1][1]


def test_trigger_message_received_goes_through_the_inbound_path(server: Server) -> None:
    handset = fresh_number()
    done = run(server, "trigger", "message.received", "--from", handset, "--to", server.long_code, "--json")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert [e["event_type"] for e in printed["events"]] == ["message.received"]
    with server.http() as http:
        message = http.get(f"/v2/messages/{printed['message_id']}").json()["data"]
    assert message["direction"] == "inbound"
    assert message["from"]["phone_number"] == handset


def test_trigger_refuses_unknown_event_and_outcome(server: Server) -> None:
    for args in (
        ["bogus.event"],
        ["message.sent", "--outcome", "lost"],
        ["message.received", "--outcome", "delivery_failed"],
    ):
        done = run(server, "trigger", *args)
        assert done.returncode == 2
        assert "Traceback" not in done.stderr and done.stderr.strip()


@pytest.mark.parametrize(
    ("to", "code"),
    [(None, 0), ("+15005550001", 1), ("+15005550002", 1), ("+15005550003", 1), ("+15005550004", 2)],
)
def test_send_wait_exit_codes(server: Server, to: str | None, code: int) -> None:
    done = run(
        server, "send", "--from", server.long_code, "--to", to or fresh_number(), "--text", "hi", "--wait", "--json"
    )
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    if code == 2:
        assert "40310" in done.stderr  # the Telnyx error, readably
        return
    statuses = [json.loads(line)["status"] for line in done.stdout.splitlines()[1:]]
    assert statuses[0] == "queued"
    if code == 0:
        assert statuses[-1] == "delivered"
    else:
        assert statuses[-1] in ("delivery_failed", "sending_failed", "delivery_unconfirmed")


def test_expected_failures_print_one_line_and_exit_non_zero(server: Server) -> None:
    cases = [
        (["webhooks", "list", "--api-key", "KEYNOTAKEY000000000000000000000000"], "API key"),
        (["webhooks", "list", "--api-base", "http://127.0.0.1:9/v2"], "cannot reach"),
        (["webhooks", "replay", "6a1f4d0e-0000-4000-8000-000000000000"], "not found"),
        (["listen", "--forward-to", "http://127.0.0.1:9/", "--api-base", "http://127.0.0.1:9/v2"], "cannot reach"),
        (["send", "--from", server.long_code, "--to", fresh_number(), "--text", "x", "--api-key", "KEYNO"], "API key"),
    ]
    for args, words in cases:
        done = run(server, *args)
        assert done.returncode != 0, args
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and words in done.stderr, (args, done.stderr)


def test_replay_makes_a_second_validly_signed_delivery(
    server: Server, receiver: WebhookReceiver, verify: Verifier
) -> None:
    profile = new_profile(server, webhook_url=receiver.url("/replay"))
    sender = new_sender(server, profile["id"])
    message_id = send(server, **{"from": sender, "to": fresh_number(), "text": "again"})["id"]
    eventually(lambda: len(forwarded(receiver, "/replay", message_id)) == 2, message="first delivery")
    [(_, final)] = [
        (r, b) for r, b in forwarded(receiver, "/replay", message_id) if b["data"]["event_type"] == "message.finalized"
    ]
    event_id = final["data"]["id"]
    with server.http() as http:
        eventually(lambda: http.get(f"/v2/webhook_deliveries/{event_id}").status_code == 200)
    listed = run(server, "webhooks", "list", "--json", "--limit", "250")
    assert listed.returncode == 0, listed.stderr
    assert event_id in [d["id"] for d in json.loads(listed.stdout)]

    done = run(server, "webhooks", "replay", event_id)
    assert done.returncode == 0, done.stderr
    assert "200" in done.stdout
    again = [(r, b) for r, b in forwarded(receiver, "/replay", message_id) if b["data"]["id"] == event_id]
    assert len(again) == 2
    raw, body = again[1]
    verify(raw)
    assert body["data"] == final["data"]  # the same event, byte for byte in `data`
    assert body["meta"]["attempt"] == 2
    assert raw.headers["telnyx-signature-ed25519"] != again[0][0].headers["telnyx-signature-ed25519"]
    with server.http() as http:
        delivery = http.get(f"/v2/webhook_deliveries/{event_id}").json()["data"]
    assert len(delivery["attempts"]) == 2
    assert delivery["status"] == "delivered"


# --- preview: the same verdict as POST /v2/messages -------------------------------------------------

_GSM = sorted(GSM7_BASIC - {"\x1b"})
_EXT = sorted(GSM7_EXTENSION)
_SMART = sorted(SMART_SUBSTITUTIONS)
_EMOJI = ["😀", "👍🏽", "🇫🇷", "❤️", "🚀"]
_UNICODE = st.characters(blacklist_categories=("Cs", "Cc"), max_codepoint=0x2FFFF)
texts = st.one_of(
    st.text(st.sampled_from(_GSM), min_size=1, max_size=480),
    st.text(st.sampled_from(_GSM + _EXT), min_size=1, max_size=400),
    st.text(st.sampled_from(_GSM + _SMART), min_size=1, max_size=400),
    st.lists(st.sampled_from(_GSM + _EMOJI), min_size=1, max_size=200).map("".join),
    st.text(st.one_of(st.sampled_from(_GSM + _EXT + _SMART), _UNICODE), min_size=1, max_size=300),
    st.text(st.sampled_from(_GSM + _EXT), min_size=1400, max_size=1700),  # around the 10-part limit
    st.text(_UNICODE, min_size=600, max_size=700),
)


@pytest.fixture(scope="module")
def smart_sender(server: Server) -> str:
    return new_sender(server, new_profile(server, smart_encoding=True)["id"])


def _verdict(response: Any) -> dict[str, Any]:
    body = response.json()
    if response.status_code >= 400:
        return {"status": response.status_code, "code": body["errors"][0]["code"]}
    data = body["data"]
    return {"status": 200, "encoding": data["encoding"], "parts": data["parts"], "cost": data["cost"]}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=texts, smart=st.booleans(), requested=st.sampled_from(["auto", "auto", "gsm7", "ucs2"]))
def test_preview_agrees_with_the_api(server: Server, smart_sender: str, text: str, smart: bool, requested: str) -> None:
    sender = smart_sender if smart else server.long_code
    with server.http() as http:
        previewed = http.post(
            "/heliograph/v1/preview", json={"text": text, "encoding": requested, "smart_encoding": smart}
        )
        sent = http.post(
            "/v2/messages", json={"from": sender, "to": fresh_number(), "text": text, "encoding": requested}
        )
    assert _verdict(previewed) == _verdict(sent)
    if previewed.status_code == 200:
        data = previewed.json()["data"]
        assert len(data["segments"]) == data["parts"]
        assert "".join(s["text"] for s in data["segments"]) == data["transmitted_text"]


def test_preview_cli_names_what_forced_ucs2(server: Server) -> None:
    done = run(server, "preview", "Caf\u00e9 \u201cnoir\u201d \U0001f600", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    with server.http() as http:
        sent = http.post(
            "/v2/messages",
            json={"from": server.long_code, "to": fresh_number(), "text": "Caf\u00e9 \u201cnoir\u201d \U0001f600"},
        ).json()["data"]
    assert (data["encoding"], data["parts"], data["cost"]) == (sent["encoding"], sent["parts"], sent["cost"])
    assert data["encoding"] == "UCS-2" and data["forced_ucs2"]
    chars = {c["character"]: c["replacement"] for c in data["non_gsm7_characters"]}
    assert chars == {"\u201c": '"', "\u201d": '"', "\U0001f600": None}
    smart = json.loads(run(server, "preview", "Caf\u00e9 \u201cnoir\u201d", "--smart-encoding", "--json").stdout)
    assert smart["encoding"] == "GSM-7" and smart["transmitted_text"] == 'Caf\u00e9 "noir"'
    refused = run(server, "preview", "\U0001f600", "--encoding", "gsm7")
    assert refused.returncode == 2 and "10015" in refused.stderr
    table = run(server, "preview", "x" * 200)
    assert table.returncode == 0 and "GSM-7, 2 parts" in table.stdout


def test_event_stream_resumes_from_a_cursor(server: Server) -> None:
    """The SSE endpoint itself: Last-Event-ID resumes after exactly that event."""
    import httpx

    message_id = send(server, **{"from": server.long_code, "to": fresh_number(), "text": "cursor"})["id"]
    wait_terminal(server, message_id)

    def read(cursor: str, count: int) -> list[tuple[str, dict[str, Any]]]:
        got: list[tuple[str, dict[str, Any]]] = []
        headers = {"Authorization": f"Bearer {server.api_key}", "Last-Event-ID": cursor}
        with httpx.stream("GET", server.url + "/heliograph/v1/events", headers=headers, timeout=10) as response:
            assert response.status_code == 200
            event_id, data = None, None
            for line in response.iter_lines():
                if line.startswith("id: "):
                    event_id = line[4:]
                elif line.startswith("data: "):
                    data = json.loads(line[6:])
                elif line == "" and data is not None:
                    if "event_type" in data:
                        got.append((event_id, data))
                    data = None
                    if len(got) >= count:
                        break
        return got

    everything = read("0_0", 2)
    assert everything[1][0] == everything[1][1]["cursor"]
    [(cursor, second)] = read(everything[0][0], 1)
    assert second["id"] == everything[1][1]["id"]
    with server.http() as http:
        bad = http.get("/heliograph/v1/events", headers={"Last-Event-ID": "nonsense"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "10015"
        assert http.get("/heliograph/v1/events", headers={"Authorization": "Bearer nope"}).status_code == 401


# --- gateway: one stream sees the events of every process -------------------------------------------

GATEWAY_DB = os.environ.get("HELIOGRAPH_TEST_DATABASE_URL")


@pytest.mark.skipif(not GATEWAY_DB, reason="HELIOGRAPH_TEST_DATABASE_URL (PostgreSQL) is not set")
def test_listen_on_a_gateway_forwards_the_events_of_every_process(tmp_path: Path) -> None:
    import asyncio
    import base64

    import asyncpg
    from nacl.signing import VerifyKey

    async def reset() -> None:
        conn = await asyncpg.connect(GATEWAY_DB)
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        await conn.close()

    asyncio.run(reset())
    env = {
        "HELIOGRAPH_MODE": "gateway",
        "HELIOGRAPH_DATABASE_URL": GATEWAY_DB,
        "HELIOGRAPH_SIMULATOR_DLR_DELAY_MS": "50",
        "HELIOGRAPH_MPS_LONG_CODE": "1000",
    }

    def admin(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "heliograph", *args, "--data-dir", str(tmp_path)],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    account = json.loads(admin("accounts", "create", "Acme"))
    admin("routes", "add", "everything", "--connector", "simulator")
    servers = [
        Server(tmp_path / f"gw{i}", env=env, api_key=account["api_key"], sandbox=False).start() for i in range(2)
    ]
    key = VerifyKey(base64.b64decode(account["public_key"]))
    with WebhookReceiver() as receiver:
        listen = Listen(servers[0], receiver.url("/listen"))
        try:
            listen.wait_connected()
            clients = [s.http() for s in servers]
            order = {
                "phone_numbers": [{"phone_number": "+13125550150"}],
                "messaging_profile_id": account["messaging_profile_id"],
            }
            assert clients[0].post("/v2/number_orders", json=order).status_code == 200
            ids = []
            for i in range(30):
                body = {"from": "+13125550150", "to": f"+1312555{3000 + i}", "text": f"g{i}"}
                reply = clients[i % 2].post("/v2/messages", json=body)
                assert reply.status_code == 200, reply.text
                ids.append(reply.json()["data"]["id"])
            for message_id in ids:
                eventually(
                    lambda m=message_id: len(forwarded(receiver, "/listen", m)) >= 2,
                    timeout=60,
                    message=f"events of {message_id}",
                )
            received = receiver.events("/listen")
            event_ids = [r.json()["data"]["id"] for r in received]
            assert len(event_ids) == len(set(event_ids)), "an event was forwarded twice"
            for r in received:
                signed = r.headers["telnyx-timestamp"].encode() + b"|" + r.body
                key.verify(signed, base64.b64decode(r.headers["telnyx-signature-ed25519"]))
        finally:
            listen.close()
            for server in servers:
                server.stop()

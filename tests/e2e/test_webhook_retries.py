"""Webhook retries, failover and give-up against a real receiver (spec webhooks.md §3, §5).

Retry delays are Telnyx's (1 s, then 2 s); the server here stops after Telnyx's attempts
(HELIOGRAPH_WEBHOOK_RETRY_HOURS=0) and gives each POST 3 s (HELIOGRAPH_WEBHOOK_TIMEOUT_SECONDS).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from e2e_support import (
    ByEvent,
    Verifier,
    events_of,
    fresh_number,
    new_profile,
    new_sender,
    send,
    stays,
    wait_events,
)
from support import Server, WebhookReceiver, eventually

pytestmark = pytest.mark.e2e

TIMEOUT_SECONDS = 3.0


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(
        tmp_path_factory.mktemp("retries"),
        env={
            "HELIOGRAPH_SIMULATOR_DLR_DELAY_MS": "20",
            "HELIOGRAPH_WEBHOOK_RETRY_HOURS": "0",
            "HELIOGRAPH_WEBHOOK_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
        },
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sender(srv: Server) -> str:
    """A number on a profile without webhook URLs: every test here names its URLs on the message."""
    return new_sender(srv, new_profile(srv)["id"])


def _attempts(hooks: WebhookReceiver, message_id: str, event_type: str, count: int, timeout: float = 20):
    return wait_events(hooks, message_id, event_type, count=count, timeout=timeout)


def _data_bytes(raw_body: bytes) -> bytes:
    """The body up to `meta`: the part that must be byte-identical on every attempt."""
    return raw_body[: raw_body.rindex(b',"meta":')]


def test_retries_until_the_receiver_answers_2xx(srv: Server, sender: str) -> None:
    script = ByEvent(lambda path, i: 500 if i < 2 else 200)
    with WebhookReceiver(script) as hooks:
        script.attach(hooks)
        verify = Verifier(srv)
        msg = send(srv, from_=sender, to=fresh_number(), text="third time lucky", webhook_url=hooks.url("/flaky"))
        for event_type in ("message.sent", "message.finalized"):
            tries = _attempts(hooks, msg["id"], event_type, 3)
            assert [b["meta"]["attempt"] for _, b in tries] == [1, 2, 3]
            assert {b["meta"]["delivered_to"] for _, b in tries} == {hooks.url("/flaky")}
            assert len({b["data"]["id"] for _, b in tries}) == 1
            assert len({_data_bytes(r.body) for r, _ in tries}) == 1
            for raw, body in tries:
                assert verify(raw) == body  # re-signed: every attempt verifies on its own
            stamps = [int(r.headers["telnyx-timestamp"]) for r, _ in tries]
            assert stamps == sorted(stamps) and len(set(stamps)) == 3, f"timestamps not fresh: {stamps}"
            assert len({r.headers["telnyx-signature-ed25519"] for r, _ in tries}) == 3
        # delivered on attempt 3: no fourth POST follows (the next one would be due within 2 s)
        stays(
            lambda: len(events_of(hooks, msg["id"])) == 6,
            seconds=2.5,
            message="a delivered event was retried",
        )


def test_fails_over_after_three_attempts(srv: Server, sender: str) -> None:
    script = ByEvent(lambda path, i: 500 if path == "/primary" else 200)
    with WebhookReceiver(script) as hooks:
        script.attach(hooks)
        verify = Verifier(srv)
        msg = send(
            srv,
            from_=sender,
            to=fresh_number(),
            text="primary is down",
            webhook_url=hooks.url("/primary"),
            webhook_failover_url=hooks.url("/failover"),
        )
        for event_type in ("message.sent", "message.finalized"):
            tries = _attempts(hooks, msg["id"], event_type, 4)
            for raw, _ in tries:
                verify(raw)
            assert [r.path for r, _ in tries] == ["/primary"] * 3 + ["/failover"]
            assert [b["meta"]["attempt"] for _, b in tries] == [1, 2, 3, 4]
            assert tries[-1][1]["meta"]["delivered_to"] == hooks.url("/failover")
            assert len({b["data"]["id"] for _, b in tries}) == 1


def test_gives_up_after_six_attempts_without_a_long_tail(srv: Server, sender: str) -> None:
    with WebhookReceiver(lambda path, n: 503) as hooks:
        verify = Verifier(srv)
        msg = send(
            srv,
            from_=sender,
            to=fresh_number(),
            text="nobody listens",
            webhook_url=hooks.url("/dead"),
            webhook_failover_url=hooks.url("/dead-too"),
        )
        for event_type in ("message.sent", "message.finalized"):
            tries = _attempts(hooks, msg["id"], event_type, 6)
            for raw, _ in tries:
                verify(raw)
            assert [r.path for r, _ in tries] == ["/dead"] * 3 + ["/dead-too"] * 3
            assert [b["meta"]["attempt"] for _, b in tries] == [1, 2, 3, 4, 5, 6]
        # a 7th attempt would come within the 2 s backoff of the Telnyx phase; look a while longer
        stays(lambda: len(events_of(hooks, msg["id"])) == 12, seconds=3.5, message="attempted after giving up")


def test_a_hanging_receiver_does_not_hold_up_other_webhooks(srv: Server, sender: str) -> None:
    hung_at: list[float] = []
    healthy_at: list[float] = []

    def hang(path: str, n: int) -> str:
        hung_at.append(time.monotonic())
        return "hang"

    def answer(path: str, n: int) -> int:
        healthy_at.append(time.monotonic())
        return 200

    with (
        WebhookReceiver(hang, hang_seconds=TIMEOUT_SECONDS + 2) as tarpit,
        WebhookReceiver(answer) as healthy,
    ):
        verify = Verifier(srv)
        for _ in range(5):  # ten events, each holding a connection open until the server gives up on it
            send(srv, from_=sender, to=fresh_number(), text="into the tarpit", webhook_url=tarpit.url("/hang"))
        eventually(lambda: len(hung_at) >= 5, message="the tarpit never got its POSTs")
        sending_at = time.monotonic()
        newest_hang = max(hung_at)
        assert sending_at < newest_hang + TIMEOUT_SECONDS, "precondition: the server is still waiting on one"
        msg = send(srv, from_=sender, to=fresh_number(), text="meanwhile", webhook_url=healthy.url("/ok"))
        for event_type in ("message.sent", "message.finalized"):
            [(raw, body)] = wait_events(healthy, msg["id"], event_type)
            verify(raw)
            assert body["meta"] == {"attempt": 1, "delivered_to": healthy.url("/ok")}
        # a sender that waited for the tarpit would only get here once that POST had timed out
        assert max(healthy_at) < newest_hang + TIMEOUT_SECONDS, (
            f"the healthy URL got its webhooks {max(healthy_at) - newest_hang:.2f}s after the tarpit's "
            f"newest POST, beyond the {TIMEOUT_SECONDS:g}s the server waits for it"
        )

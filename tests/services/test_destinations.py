"""The gateway's SSRF guard (services/destinations.py): webhook and media URLs that reach loopback or
private hosts are refused when written and again, on the resolved address, when connecting; allowed
destinations get a connection to the very address that was checked. The sandbox allows them all."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from support import WebhookReceiver

from heliograph.domain.errors import ValidationFailed
from heliograph.services import destinations, profiles, sending, webhook_replay, webhooks
from heliograph.services.destinations import DestinationGuard
from heliograph.services.media import MediaError, MediaFetcher
from heliograph.store import outbox
from heliograph.workers.webhook_sender import WebhookSender

LOCAL_URLS = [
    "http://127.0.0.1:8000/hook",
    "http://localhost/hook",
    "http://api.localhost/hook",
    "http://[::1]:8000/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://0.0.0.0/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.1.2.3/hook",
    "http://192.168.0.10/hook",
    "http://2130706433/hook",  # 127.0.0.1 as one number
    "http://127.1/hook",
    "http://[2002:7f00:1::]/hook",  # 6to4 around 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 around 169.254.169.254
    "http://vm/hook",  # /etc/hosts on this machine: 127.0.0.1 vm
]


@pytest.fixture
def world_settings() -> dict:
    return {"mode": "gateway"}


def _hosts_file(tmp_path, text: str = "") -> destinations._HostsFile:
    path = tmp_path / "hosts"
    path.write_text(text)
    return destinations._HostsFile(str(path))


@pytest.mark.parametrize("url", LOCAL_URLS)
def test_local_destinations_are_refused_when_written(tmp_path, url: str) -> None:
    guard = DestinationGuard.build(enabled=True)
    guard.hosts_file = _hosts_file(tmp_path, "127.0.0.1 localhost vm\n::1 ip6-localhost\n")
    assert guard.refusal(url)
    assert DestinationGuard.build(enabled=False).refusal(url) is None  # the sandbox allows them


def test_public_and_allow_listed_destinations_pass(tmp_path) -> None:
    guard = DestinationGuard.build(enabled=True, allowed="hooks.corp.example, 10.8.0.0/16,127.0.0.1")
    guard.hosts_file = _hosts_file(tmp_path, "10.8.1.1 hooks.corp.example\n")
    for url in (
        "https://example.com/hook",
        "http://93.184.216.34/hook",
        "http://hooks.corp.example/hook",
        "http://10.8.3.4/hook",
        "http://127.0.0.1:9000/hook",
    ):
        assert guard.refusal(url) is None, url
    assert guard.refusal("http://10.9.0.1/hook")
    with pytest.raises(destinations.DestinationRefused):
        guard.check_addresses("rebound.example", ["93.184.216.34", "10.9.0.1"])  # one private answer is enough
    guard.check_addresses("rebound.example", ["93.184.216.34", "10.8.0.1"])


async def test_the_gateway_refuses_local_webhook_urls_on_profiles_and_every_send(world) -> None:
    ctx, org, caller = world.ctx, world.account.organization["id"], world.caller
    local = "http://127.0.0.1:9000/hook"
    with pytest.raises(ValidationFailed) as refused:
        await profiles.create_profile(ctx, org, {"name": "P", "whitelisted_destinations": ["US"], "webhook_url": local})
    assert (refused.value.status, refused.value.code, refused.value.pointer) == (422, "10003", "/webhook_url")
    with pytest.raises(ValidationFailed) as refused:
        await profiles.update_profile(ctx, org, world.account.profile_id, {"webhook_failover_url": "http://localhost/"})
    assert refused.value.pointer == "/webhook_failover_url"
    sends = [
        (sending.SEND, {"from": world.long_code, "to": "+13125550123", "text": "hi", "webhook_url": local}),
        (
            sending.LONG_CODE,
            {"from": world.long_code, "to": "+13125550123", "text": "hi", "webhook_failover_url": local},
        ),
        (
            sending.NUMBER_POOL,
            {
                "messaging_profile_id": world.account.profile_id,
                "to": "+13125550123",
                "text": "hi",
                "webhook_url": local,
            },
        ),
        (sending.GROUP_MMS, {"from": world.long_code, "to": ["+13125550123"], "text": "hi", "webhook_url": local}),
        (
            sending.WHATSAPP,
            {"from": world.long_code, "to": "+13125550123", "whatsapp_message": {}, "webhook_url": local},
        ),
    ]
    for endpoint, body in sends:
        with pytest.raises(ValidationFailed) as refused:
            if endpoint is sending.WHATSAPP:
                from heliograph.services import whatsapp

                await whatsapp.send(ctx, caller, body, {"type": "text", "text": {"body": "hi"}}, None)
            else:
                await sending.send(ctx, caller, body, endpoint)
        assert refused.value.code == "10003", endpoint
        assert refused.value.pointer == ("/webhook_failover_url" if "webhook_failover_url" in body else "/webhook_url")
    public = {"from": world.long_code, "to": "+13125550123", "text": "hi", "webhook_url": "https://hooks.example/x"}
    assert (await sending.send(ctx, caller, public))["webhook_url"] == "https://hooks.example/x"


class TestSandbox:
    @pytest.fixture
    def world_settings(self) -> dict:
        return {}

    async def test_the_sandbox_keeps_local_webhook_urls(self, world) -> None:
        body = {"from": world.long_code, "to": "+13125550123", "text": "hi", "webhook_url": "http://127.0.0.1:9/h"}
        assert (await sending.send(world.ctx, world.caller, body))["webhook_url"] == "http://127.0.0.1:9/h"


async def _event_to(world, url: str) -> dict:
    event = webhooks.new_event(
        organization_id=world.account.organization["id"],
        event_type="message.sent",
        payload={"id": "m1"},
        occurred_at=world.ctx.now(),
        urls=[url],
    )
    async with world.ctx.db.transaction() as conn:
        await outbox.add_events(conn, [event])
    return event


async def _first_attempt(world, event: dict) -> dict:
    sender = WebhookSender(world.ctx)
    task = asyncio.create_task(sender.run())
    try:
        for _ in range(400):
            async with world.ctx.db.read() as conn:
                attempts = (await outbox.attempts_of(conn, [event["id"]]))[event["id"]]
            if attempts:
                return attempts[-1]
            await asyncio.sleep(0.025)
        raise AssertionError("no webhook attempt was recorded")
    finally:
        sender.stop()
        await task


async def test_delivery_checks_the_address_a_name_resolves_to(world, tmp_path) -> None:
    """A URL stored before the guard (or a name whose DNS answer changed) is refused when connecting."""
    with WebhookReceiver() as receiver:
        port = receiver.server.server_address[1]
        guard = destinations.webhook_guard(world.ctx)
        guard.hosts_file = _hosts_file(tmp_path)  # as if `vm` were a DNS name: only the resolver can tell
        by_name = await _first_attempt(world, await _event_to(world, f"http://vm:{port}/hook"))
        literal = await _first_attempt(world, await _event_to(world, f"http://127.0.0.1:{port}/hook"))
        assert receiver.events() == []
    for attempt in (by_name, literal):
        assert attempt["delivered"] is False
        assert attempt["error_code"] == 75002
        assert attempt["response_body"] is None and attempt["http_status"] is None
    assert "resolves to 127.0.0.1" in by_name["error_detail"]


class TestAllowList:
    @pytest.fixture
    def world_settings(self) -> dict:
        return {"mode": "gateway", "webhook_allowed_hosts": "vm,pinned.invalid"}

    async def test_allow_listed_hosts_are_delivered_and_their_answer_kept(self, world) -> None:
        with WebhookReceiver() as receiver:
            attempt = await _first_attempt(
                world, await _event_to(world, f"http://vm:{receiver.server.server_address[1]}/h")
            )
            assert len(receiver.events()) == 1
        assert attempt["delivered"] is True and attempt["response_body"] == "ok"

    async def test_the_connection_goes_to_the_address_that_was_checked(self, world) -> None:
        """`pinned.invalid` exists only in the guard's answer: the request can only arrive if the client
        connects to the checked address rather than resolving the name again (sender and replay alike)."""
        answers = []

        async def resolve(host: str, port: int, family: int = socket.AF_UNSPEC) -> list[tuple[int, str]]:
            answers.append(host)
            return [(socket.AF_INET, "127.0.0.1")]

        destinations.webhook_guard(world.ctx).resolve = resolve
        with WebhookReceiver() as receiver:
            port = receiver.server.server_address[1]
            event = await _event_to(world, f"http://pinned.invalid:{port}/h")
            attempt = await _first_attempt(world, event)
            replayed = await webhook_replay.replay(world.ctx, world.account.organization["id"], event["id"])
            hosts = [r.headers["Host"] for r in receiver.events()]
        assert attempt["delivered"] is True and replayed["delivered"] is True
        assert hosts == [f"pinned.invalid:{port}"] * 2
        assert answers == ["pinned.invalid", "pinned.invalid"]


@contextlib.contextmanager
def media_server(seen: list[dict[str, str]] | None = None):
    """Serves a 4-byte PNG at any path, setting a cookie; `seen` collects each request's headers."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if seen is not None:
                seen.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(200)
            self.send_header("content-type", "image/png")
            self.send_header("content-length", "4")
            self.send_header("set-cookie", "tracker=tenant-a; Path=/")
            self.end_headers()
            self.wfile.write(b"\x89PNG")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


async def test_media_fetches_check_and_pin_the_resolved_address(tmp_path) -> None:
    with media_server() as port:
        refused = MediaFetcher(guard_private=True)
        refused._guard.hosts_file = _hosts_file(tmp_path)  # `vm` looks like any DNS name to the write-time check
        for url in (f"http://vm:{port}/a.png", f"http://127.0.0.1:{port}/a.png"):
            with pytest.raises(MediaError, match="loopback, private or reserved"):
                await refused.fetch_all([url])
        await refused.close()

        pinned = MediaFetcher(guard_private=True, allowed_hosts=frozenset({"pinned.invalid"}))
        answers = []

        async def resolve(host: str, port_: int, family: int = socket.AF_UNSPEC) -> list[tuple[int, str]]:
            answers.append(host)
            return [(socket.AF_INET, "127.0.0.1")]

        pinned._guard.resolve = resolve  # httpx alone could not resolve this name
        fetched = await pinned.fetch_all([f"http://pinned.invalid:{port}/a.png"])
        await pinned.close()
    assert answers == ["pinned.invalid"] and fetched[0].size == 4 and fetched[0].content_type == "image/png"

    with media_server() as port:  # the sandbox fetches from local servers as before
        sandbox = MediaFetcher(guard_private=False)
        assert (await sandbox.fetch_all([f"http://127.0.0.1:{port}/a.png"]))[0].size == 4
        await sandbox.close()


async def test_media_fetches_carry_no_cookies_from_earlier_fetches() -> None:
    """One long-lived client fetches every tenant's media: a cookie a media host set for one message must
    not travel with the next message's fetch."""
    seen: list[dict[str, str]] = []
    with media_server(seen) as port:
        fetcher = MediaFetcher(guard_private=False)
        for name in ("a.png", "b.png"):  # a host name: HTTP clients keep no cookies for bare IP addresses
            assert (await fetcher.fetch_all([f"http://localhost:{port}/{name}"]))[0].size == 4
        await fetcher.close()
    assert len(seen) == 2 and "cookie" not in seen[1]

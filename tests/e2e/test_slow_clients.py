"""Issue 11 #6 and #7: slow and oversized clients are bounded before authentication, every refusal is a
Telnyx error body with `Connection: close`, and the connection then ends cleanly (EOF, never a reset)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support import Server

pytestmark = pytest.mark.e2e

KEY = "KEYTESTSUITE0000000000000000000000"
MEMORY_BOUND_MB = 100  # 500 clients each pushing 512 KiB of header: at most 64 KiB each is ever buffered


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {"HELIOGRAPH_HEADER_TIMEOUT_SECONDS": "2", "HELIOGRAPH_BODY_TIMEOUT_SECONDS": "2"}
    srv = Server(tmp_path_factory.mktemp("edges"), env=env).start()
    yield srv
    srv.stop()


def _exchange(server: Server, data: bytes, *, more: bytes = b"") -> tuple[bytes, bool]:
    """Send `data` (then keep sending `more`, as a client that does not listen would), read to the end;
    return what came back and whether the connection ended cleanly (EOF rather than a reset)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(data)
        if more:
            with contextlib.suppress(OSError):
                sock.sendall(more)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            return received, False
        return received, True


def _answer(raw: bytes) -> tuple[int, dict[str, str], dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body)


def _telnyx_refusal(raw: bytes, status: int) -> dict:
    got, headers, body = _answer(raw)
    assert got == status, raw[:300]
    assert headers["connection"] == "close"
    assert headers["content-type"] == "application/json"
    (error,) = body["errors"]
    assert error["code"] and error["title"] and error["detail"]
    return error


def test_a_100_kb_url_is_a_telnyx_414(server) -> None:
    raw, clean = _exchange(server, b"GET /v2/messages?" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    _telnyx_refusal(raw, 414)
    assert clean


def test_an_oversized_header_is_refused_before_authentication(server) -> None:
    head = b"GET /v2/messaging_profiles HTTP/1.1\r\nHost: x\r\nX-Big: "
    raw, clean = _exchange(server, head, more=b"a" * (4 * 1024 * 1024))  # a client that goes on and on
    _telnyx_refusal(raw, 431)
    assert clean


def test_too_many_header_fields_are_refused(server) -> None:
    fields = b"".join(b"X-F%d: 1\r\n" % i for i in range(150))
    raw, clean = _exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
    _telnyx_refusal(raw, 431)
    assert clean


def test_a_half_sent_head_is_timed_out(server) -> None:
    raw, clean = _exchange(server, b"GET /v2/messaging_profiles HTTP/1.1\r\nHost: x\r\n")
    assert _telnyx_refusal(raw, 408)["code"] == "10008"
    assert clean


def test_a_half_sent_body_is_timed_out(server) -> None:
    head = (
        b"POST /v2/messaging_profiles HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode() + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    raw, clean = _exchange(server, head + b'{"name": ')
    _telnyx_refusal(raw, 408)
    assert clean


def test_a_connection_that_sends_nothing_is_closed(server) -> None:
    raw, clean = _exchange(server, b"")
    assert raw == b"" and clean


def test_a_body_over_the_limit_is_refused_and_the_connection_closes_cleanly(server) -> None:
    body = b"x" * (3 * 1024 * 1024)
    head = (
        b"POST /v2/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode() + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    raw, clean = _exchange(server, head, more=body)
    assert _telnyx_refusal(raw, 413)["code"] == "10015"
    assert clean


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_500_slow_clients_do_not_grow_memory_past_the_bound(server) -> None:
    """500 connections each trickle a header of 512 KiB: each is refused (431) once it passes 64 KiB, and
    the server's memory stays within MEMORY_BOUND_MB of where it started."""
    pid = server.process.pid
    httpx.get(server.url + "/healthz")  # warm
    baseline = _rss_mb(pid)
    peak = baseline
    answers: list[bytes] = []

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            writer.write(b"GET /v2/messaging_profiles HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            for _ in range(32):
                writer.write(b"a" * 16384)
                await writer.drain()
                await asyncio.sleep(0.01)
        except OSError:
            pass
        try:
            answers.append(await asyncio.wait_for(reader.read(4096), 60))
        except (OSError, TimeoutError):
            answers.append(b"")
        writer.close()

    async def sample(done: asyncio.Event) -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss_mb(pid))
            await asyncio.sleep(0.02)

    async def run() -> None:
        done = asyncio.Event()
        sampler = asyncio.create_task(sample(done))
        await asyncio.gather(*(client() for _ in range(500)))
        done.set()
        await sampler

    asyncio.run(run())
    growth = peak - baseline
    print(f"500 slow clients: RSS {baseline:.1f} MB -> peak {peak:.1f} MB (+{growth:.1f} MB)")
    assert sum(a.startswith(b"HTTP/1.1 431") for a in answers) >= 490  # a few may see the close first
    assert growth < MEMORY_BOUND_MB
    assert httpx.get(server.url + "/healthz").status_code == 200

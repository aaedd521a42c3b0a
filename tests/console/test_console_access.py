"""Who may open the console: no login on a loopback sandbox; otherwise an API key once, then a session cookie
that cannot be forged or stretched, and only the caller's organization."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from e2e_support import fresh_number, send
from support import Server

from heliograph.console.access import is_loopback, login_required
from heliograph.settings import Settings


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("example.com", False),
    ],
)
def test_loopback_is_decided_by_the_bound_address(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    assert login_required(Settings(mode="sandbox", host=host)) is not loopback


def test_gateway_mode_always_asks_for_a_key() -> None:
    assert login_required(Settings(mode="gateway", host="127.0.0.1")) is True


@pytest.fixture(scope="module")
def exposed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A sandbox listening on every interface (0.0.0.0): not loopback."""
    env = {"HELIOGRAPH_HOST": "0.0.0.0", "HELIOGRAPH_SIMULATOR_DLR_DELAY_MS": "50"}
    server = Server(tmp_path_factory.mktemp("exposed"), env=env).start()
    yield server
    server.stop()


@contextmanager
def login(server: Server, api_key: str) -> Iterator[httpx.Client]:
    """A client signed in through the login form, as a browser is."""
    http = httpx.Client(base_url=server.url, timeout=10)
    page = http.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = http.post("/console/login", data={"csrf_token": token, "api_key": api_key, "next": "/console/"})
    assert answer.status_code == 303, answer.text
    cookie = answer.headers["set-cookie"]
    assert (
        "heliograph_session=" in cookie
        and "HttpOnly" in cookie
        and "SameSite=strict" in cookie.replace("Strict", "strict")
    )
    assert api_key not in cookie
    try:
        yield http
    finally:
        http.close()


@pytest.mark.e2e
def test_every_console_url_needs_a_session_off_loopback(exposed: Server) -> None:
    with httpx.Client(base_url=exposed.url, timeout=10) as anonymous:
        for path in ("/console/", "/console/account", "/console/webhooks", "/console/simulator", "/console/events"):
            response = anonymous.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/console/login")
    with httpx.Client(base_url=exposed.url, cookies={"heliograph_session": "x.1.y"}) as forged:
        assert forged.get("/console/account").status_code == 303
    with httpx.Client(base_url=exposed.url, timeout=10) as anonymous:
        refused = anonymous.post("/console/handsets/+13125550123/reply", data={"text": "STOP", "to": exposed.long_code})
        assert refused.status_code == 303  # to the login page; nothing received
        page = anonymous.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        wrong = anonymous.post("/console/login", data={"csrf_token": token, "api_key": "KEYnope"})
        assert wrong.status_code == 401 and "not valid" in wrong.text
        assert "heliograph_session" not in wrong.headers.get("set-cookie", "")


@pytest.mark.e2e
def test_sessions_cannot_be_forged_or_stretched(exposed: Server) -> None:
    with login(exposed, exposed.api_key) as http:
        assert http.get("/console/account").status_code == 200
        key_id, expires, mac = http.cookies["heliograph_session"].split(".")
        for forged in (f"{key_id}.{int(expires) + 86400}.{mac}", f"{key_id}.{expires}.{'0' * 64}", "garbage"):
            with httpx.Client(base_url=exposed.url, cookies={"heliograph_session": forged}) as other:
                assert other.get("/console/account").status_code == 303, forged
        token = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/console/").text).group(1)
        assert http.post("/console/logout", data={"csrf_token": token}).status_code == 303
        assert http.get("/console/account").status_code == 303


@pytest.mark.e2e
def test_an_organization_sees_only_its_own_messages_and_webhooks(exposed: Server) -> None:
    other = exposed.cli_json("accounts", "create", "Elsewhere Ltd")
    ours = send(exposed, from_=exposed.long_code, to=fresh_number(), text="For the sandbox org only")
    with login(exposed, other["api_key"]) as http:
        assert "For the sandbox org only" not in http.get("/console/").text
        assert http.get(f"/console/messages/{ours['id']}").status_code == 404
        assert http.get(f"/console/handsets/{ours['to'][0]['phone_number']}").text.count(ours["id"]) == 0
        assert "For the sandbox org only" not in http.get("/console/search?q=sandbox").text
        assert exposed.public_key not in http.get("/console/account").text
        assert other["public_key"] in http.get("/console/account").text
    with login(exposed, exposed.api_key) as http:
        assert "For the sandbox org only" in http.get(f"/console/messages/{ours['id']}").text

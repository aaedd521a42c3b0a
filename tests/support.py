"""Test support: a real `heliograph serve` process, a real webhook receiver, and polling with deadlines.

No test sleeps to wait for work: `eventually` polls until a condition holds or the deadline passes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

API_KEY = "KEYTESTSUITE0000000000000000000000"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def eventually(check: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05, message: str = "") -> Any:
    """Poll `check` until it returns something truthy; fail with `message` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(message or f"condition not met within {timeout}s (last value: {last!r})")


@dataclass
class Server:
    """A `heliograph serve` subprocess on a free port with its own data directory."""

    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    api_key: str = API_KEY
    process: subprocess.Popen | None = None
    info: dict[str, Any] = field(default_factory=dict)
    log_path: Path | None = None
    sandbox: bool = True  # gateway servers have no sandbox account to read back

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return self.url + "/v2"

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HELIOGRAPH_") and not k.startswith("TELNYX_")}
        env.update({"HELIOGRAPH_API_KEY": self.api_key, "HELIOGRAPH_LOG_FORMAT": "json"})
        env.update(self.env)
        return env

    def start(self) -> Server:
        self.log_path = self.data_dir / "server.log"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "heliograph", "serve", "--port", str(self.port), "--data-dir", str(self.data_dir)]
        with open(self.log_path, "ab") as log:  # the server writes to its own copy of the descriptor
            self.process = subprocess.Popen(
                argv,
                env=self._env(),
                stdout=log,
                stderr=log,
            )
        eventually(self._healthy, timeout=30, message=f"server did not start; log: {self.log_path}")
        if self.sandbox:
            self.info = self.cli_json("info", "--json")
        return self

    def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"server exited with {self.process.returncode}: {self.log_text()[-3000:]}")
        try:
            return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "heliograph", *args, "--data-dir", str(self.data_dir)],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=60,
        )

    def cli_json(self, *args: str) -> Any:
        done = self.cli(*args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(5)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    @property
    def public_key(self) -> str:
        return self.info["public_key"]

    @property
    def profile_id(self) -> str:
        return self.info["messaging_profile_id"]

    @property
    def long_code(self) -> str:
        return self.info["phone_numbers"][0]

    @property
    def toll_free(self) -> str:
        return self.info["phone_numbers"][1]

    def client(self, *, strict: bool = True, api_key: str | None = None):
        import telnyx

        return telnyx.Telnyx(
            api_key=api_key or self.api_key,
            base_url=self.base_url,
            public_key=self.public_key,
            max_retries=0,
            _strict_response_validation=strict,
        )

    def http(self, api_key: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {api_key or self.api_key}"}, timeout=10
        )


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """A real HTTP server recording every POST. `behaviour(path, attempt_index)` may return a status
    code or the string "hang" (hold the connection without answering for `hang_seconds`)."""

    def __init__(
        self,
        behaviour: Callable[[str, int], int | str] | None = None,
        hang_seconds: float = 10,
        response_headers: dict[str, str] | None = None,
    ) -> None:
        self.received: list[Received] = []
        self.behaviour = behaviour or (lambda path, n: 200)
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver._lock:
                    n = sum(1 for r in receiver.received if r.path == self.path)
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                action = receiver.behaviour(self.path, n)
                if action == "hang":
                    time.sleep(hang_seconds)
                    action = 200
                try:
                    self.send_response(int(action))
                    self.send_header("content-length", "2")
                    for name, value in (response_headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the server gave up waiting (a timeout test): nothing to answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def events(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.received if path is None or r.path == path]

    def events_for(self, message_id: str, event_type: str | None = None) -> list[dict[str, Any]]:
        out = []
        for r in self.events():
            body = r.json()
            payload = body.get("data", {}).get("payload", {})
            if payload.get("id") == message_id and (event_type is None or body["data"]["event_type"] == event_type):
                out.append(body)
        return out

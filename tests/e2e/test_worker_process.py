"""The sandbox's worker process: it is restarted if it dies, and one-process mode works the same."""

from __future__ import annotations

import os
import signal

import pytest
from e2e_support import fresh_number, ok
from support import Server, eventually

pytestmark = pytest.mark.e2e


def _worker_pid(server: Server) -> int | None:
    """The `heliograph worker` child of this server, from /proc."""
    assert server.process is not None
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ")
        except (OSError, ValueError, IndexError):
            continue
        if ppid == server.process.pid and b" worker " in cmdline:
            return int(entry)
    return None


def _delivered(server: Server, to: str) -> bool:
    with server.http() as http:
        message = ok(http.post("/v2/messages", json={"from": server.long_code, "to": to, "text": "hi"}))["data"]
        return bool(
            eventually(
                lambda: ok(http.get(f"/v2/messages/{message['id']}"))["data"]["to"][0]["status"] == "delivered",
                timeout=30,
            )
        )


def test_a_killed_worker_process_is_restarted_and_work_goes_on(tmp_path):
    server = Server(tmp_path, env={"HELIOGRAPH_SIMULATOR_DLR_DELAY_MS": "20"}).start()
    try:
        first = eventually(lambda: _worker_pid(server), timeout=20)
        os.kill(first, signal.SIGKILL)
        # accepted while no worker runs: still on disk, sent once the new worker starts
        with server.http() as http:
            message = ok(http.post("/v2/messages", json={"from": server.long_code, "to": fresh_number(), "text": "x"}))
        second = eventually(lambda: (pid := _worker_pid(server)) and pid != first and pid, timeout=30)
        assert second != first
        with server.http() as http:
            eventually(
                lambda: ok(http.get(f"/v2/messages/{message['data']['id']}"))["data"]["to"][0]["status"] == "delivered",
                timeout=60,
            )
    finally:
        server.stop()


def test_one_process_mode_sends_and_delivers(tmp_path):
    server = Server(tmp_path, env={"HELIOGRAPH_WORKER_PROCESS": "false", "HELIOGRAPH_SIMULATOR_DLR_DELAY_MS": "20"})
    server.start()
    try:
        assert _worker_pid(server) is None
        assert _delivered(server, fresh_number())
    finally:
        server.stop()

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
    pids = _worker_pids(server)
    return pids[0] if pids else None


def _worker_pids(server: Server) -> list[int]:
    """The `heliograph worker` children of this server, from /proc."""
    assert server.process is not None
    found = []
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
            found.append(int(entry))
    return sorted(found)


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


def test_several_worker_processes_share_the_work_and_survive_one_dying(tmp_path):
    env = {"HELIOGRAPH_WORKER_PROCESSES": "2", "HELIOGRAPH_SIMULATOR_DLR_DELAY_MS": "20"}
    server = Server(tmp_path, env={**env, "HELIOGRAPH_LEASE_SECONDS": "5"}).start()

    def two_workers() -> list[int] | None:
        pids = _worker_pids(server)
        return pids if len(pids) == 2 else None

    try:
        workers = eventually(two_workers, timeout=20)
        with server.http() as http:
            ids = [
                ok(http.post("/v2/messages", json={"from": server.long_code, "to": fresh_number(), "text": f"#{i}"}))[
                    "data"
                ]["id"]
                for i in range(60)
            ]
            os.kill(workers[0], signal.SIGKILL)  # some of its claims die with it: their leases run out
            ids += [
                ok(http.post("/v2/messages", json={"from": server.long_code, "to": fresh_number(), "text": "after"}))[
                    "data"
                ]["id"]
                for _ in range(20)
            ]

            def all_delivered() -> bool:
                return all(ok(http.get(f"/v2/messages/{i}"))["data"]["to"][0]["status"] == "delivered" for i in ids)

            assert eventually(all_delivered, timeout=60)
        replaced = eventually(two_workers, timeout=30)
        assert workers[0] not in replaced and workers[1] in replaced
    finally:
        server.stop()

"""`heliograph accounts list-keys` / `revoke-key` against a running server, and short chosen keys refused
when the sandbox listens beyond loopback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from support import Server, eventually, free_port

pytestmark = pytest.mark.e2e


def test_list_keys_and_revoke_a_key_the_server_has_cached(tmp_path) -> None:
    server = Server(tmp_path / "data").start()
    try:
        with server.http() as http:
            assert http.get("/v2/messaging_profiles").status_code == 200  # the key is now in the server's cache
            keys = server.cli_json("accounts", "list-keys", "--json")
            assert len(keys) == 1
            assert keys[0]["prefix"] not in server.api_key and keys[0]["revoked_at"] is None
            revoked = server.cli_json("accounts", "revoke-key", keys[0]["prefix"])
            assert revoked["id"] == keys[0]["id"] and revoked["revoked_at"]

            def refused() -> bool:
                response = http.get("/v2/messaging_profiles")
                return response.status_code == 401 and response.json()["errors"][0]["code"] == "20002"

            eventually(refused, timeout=10, message="the revoked key still worked (cache of 30 s)")
        listed = server.cli_json("accounts", "list-keys", "--json")
        assert listed[0]["revoked_at"] and listed[0]["last_used_at"]
        assert server.cli("accounts", "revoke-key", "nope").returncode == 1
    finally:
        server.stop()


def test_a_sandbox_beyond_loopback_refuses_a_short_chosen_key(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELIOGRAPH_")}
    env.update({"HELIOGRAPH_API_KEY": "KEYSHORT", "HELIOGRAPH_HOST": "0.0.0.0"})
    done = subprocess.run(
        [sys.executable, "-m", "heliograph", "serve", "--port", str(free_port()), "--data-dir", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "at least 32 characters" in done.stderr

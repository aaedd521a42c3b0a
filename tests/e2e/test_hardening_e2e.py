"""Issue 11 over real HTTP: a gateway refuses local webhook URLs (422, `source.pointer`) yet delivers to an
allow-listed receiver with seeds sealed at rest (the official SDK verifies the signature). The daily spend
limit's 429 40333 is checked in-process, in tests/api/test_spend_limit.py."""

from __future__ import annotations

import base64
import json
import sqlite3

import pytest
import telnyx
from e2e_support import admin_cli
from support import Server, WebhookReceiver, eventually

pytestmark = pytest.mark.e2e

SECRET_KEY = base64.b64encode(b"k" * 32).decode()


def _gateway_env(data_dir, allowed: str) -> dict[str, str]:
    return {
        "HELIOGRAPH_MODE": "gateway",
        "HELIOGRAPH_DATABASE_URL": f"sqlite:///{data_dir}/heliograph.db",
        "HELIOGRAPH_SECRET_KEY": SECRET_KEY,
        "HELIOGRAPH_WEBHOOK_ALLOWED_HOSTS": allowed,
        "HELIOGRAPH_SIMULATOR_DLR_DELAY_MS": "20",
    }


def test_a_gateway_refuses_local_webhook_urls_and_signs_with_a_sealed_seed(tmp_path) -> None:
    data_dir = tmp_path / "gw"
    data_dir.mkdir()
    with WebhookReceiver() as receiver:
        port = receiver.server.server_address[1]
        env = _gateway_env(data_dir, "hooks.test")  # the receiver's address is not listed yet
        account = json.loads(admin_cli(data_dir, env, "accounts", "create", "Acme"))
        admin_cli(data_dir, env, "routes", "add", "everything", "--connector", "simulator")
        server = Server(data_dir, env=env, api_key=account["api_key"], sandbox=False).start()
        try:
            profile = account["messaging_profile_id"]
            with server.http() as http:
                local = (
                    "http://127.0.0.1:9/h",
                    "http://[::ffff:127.0.0.1]/h",
                    "http://169.254.169.254/",
                    "http://localhost/",
                )
                for url in local:
                    refused = http.patch(f"/v2/messaging_profiles/{profile}", json={"webhook_url": url})
                    assert refused.status_code == 422, (url, refused.text)
                    error = refused.json()["errors"][0]
                    assert error["code"] == "10003" and error["source"]["pointer"] == "/webhook_url"
                number = "+13125550150"
                order = {"phone_numbers": [{"phone_number": number}], "messaging_profile_id": profile}
                assert http.post("/v2/number_orders", json=order).status_code == 200
                sent = http.post(
                    "/v2/messages",
                    json={"from": number, "to": "+13125550199", "text": "x", "webhook_failover_url": "http://0.0.0.0/"},
                )
                assert (
                    sent.status_code == 422 and sent.json()["errors"][0]["source"]["pointer"] == "/webhook_failover_url"
                )
        finally:
            server.stop()
        allowed_env = {**env, "HELIOGRAPH_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"}
        server = Server(data_dir, env=allowed_env, api_key=account["api_key"], sandbox=False).start()
        try:
            with server.http() as http:
                hook = f"http://127.0.0.1:{port}/hook"
                assert http.patch(f"/v2/messaging_profiles/{profile}", json={"webhook_url": hook}).status_code == 200
                sent = http.post("/v2/messages", json={"from": number, "to": "+13125550199", "text": "signed"})
                assert sent.status_code == 200, sent.text
            message_id = sent.json()["data"]["id"]
            eventually(lambda: receiver.events_for(message_id, "message.finalized"), timeout=30)
            client = telnyx.Telnyx(
                api_key=account["api_key"], base_url=server.base_url, public_key=account["public_key"]
            )
            for received in receiver.events():
                client.webhooks.unwrap(received.body.decode(), headers=received.headers)  # raises on a bad signature
        finally:
            server.stop()
    with sqlite3.connect(data_dir / "heliograph.db") as db:
        seeds = [row[0] for row in db.execute("SELECT signing_seed FROM organizations")]
    assert seeds and all(seed.startswith("sealed:v1:") for seed in seeds)

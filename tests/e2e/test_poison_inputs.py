"""Issue 11 #2 and #3 over real HTTP, on SQLite (sandbox) and PostgreSQL (gateway): NUL bytes and unpaired
surrogates are refused (422 with `source.pointer` in bodies, 404 in paths, 422 with `source.parameter` in
query values), no path answers 500, and poison sends mixed into concurrent good ones fail alone."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
from e2e_support import postgres_gateway
from support import Server

pytestmark = pytest.mark.e2e

DATABASE_URL = os.environ.get("HELIOGRAPH_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if DATABASE_URL else [])
NUMBER = "+13125550177"


@dataclass
class Target:
    server: Server
    profile_id: str
    number: str
    sandbox: bool


@pytest.fixture(scope="module", params=BACKENDS)
def target(request, tmp_path_factory) -> Iterator[Target]:
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        server = Server(tmp).start()
        yield Target(server, server.profile_id, server.long_code, True)
    else:
        server, account = postgres_gateway(tmp, DATABASE_URL)
        profile_id = account["messaging_profile_id"]
        with server.http() as http:
            order = {"phone_numbers": [{"phone_number": NUMBER}], "messaging_profile_id": profile_id}
            assert http.post("/v2/number_orders", json=order).status_code == 200
        yield Target(server, profile_id, NUMBER, False)
    server.stop()
    assert "unexpected error" not in server.log_text()


def _body_probes(t: Target) -> list[tuple[str, str, dict, str]]:
    """(method, path, body, the pointer the refusal names)."""
    send = {"from": t.number, "to": "+13125550199", "text": "a\x00b"}
    probes = [
        ("POST", path, send, "/text")
        for path in ("/v2/messages", "/v2/messages/long_code", "/v2/messages/short_code", "/v2/messages/schedule")
    ]
    probes += [
        ("POST", "/v2/messages", {**send, "text": "fine", "webhook_url": "http://h.test/\x00"}, "/webhook_url"),
        ("POST", "/v2/messages", {**send, "text": "fine", "media_urls": ["http://a.test/", "x\x00"]}, "/media_urls/1"),
        ("POST", "/v2/messages", {**send, "text": "fine", "subject\x00": "x"}, "/subject\x00"),
        ("POST", "/v2/messages/number_pool", {**send, "from": None, "messaging_profile_id": t.profile_id}, "/text"),
        ("POST", "/v2/messages/alphanumeric_sender_id", {**send, "from": "Acme"}, "/text"),
        ("POST", "/v2/messages/group_mms", {**send, "to": ["+13125550198", "+13125550197"]}, "/text"),
        (
            "POST",
            "/v2/messages/whatsapp",
            {"from": t.number, "to": "+13125550199", "whatsapp_message": {"type": "text", "text": {"body": "\x00"}}},
            "/whatsapp_message/text/body",
        ),
        ("POST", "/v2/messaging_profiles", {"name": "bad\x00name"}, "/name"),
        ("PATCH", f"/v2/messaging_profiles/{t.profile_id}", {"name": "\x00"}, "/name"),
        (
            "POST",
            f"/v2/messaging_profiles/{t.profile_id}/autoresp_configs",
            {"op": "start", "keywords": ["GO", "ST\x00P"], "country_code": "US", "resp_text": "hi"},
            "/keywords/1",
        ),
        (
            "POST",
            "/v2/number_orders",
            {"phone_numbers": [{"phone_number": "+1312555\x000"}]},
            "/phone_numbers/0/phone_number",
        ),
        (
            "POST",
            "/v2/alphanumeric_sender_ids",
            {"alphanumeric_sender_id": "Ac\x00me", "messaging_profile_id": t.profile_id},
            "/alphanumeric_sender_id",
        ),
        ("POST", "/heliograph/v1/preview", {"text": "\x00"}, "/text"),
    ]
    if t.sandbox:
        probes.append(
            ("POST", "/sandbox/v1/inbound", {"from": "+13125550199", "to": t.number, "text": "\x00"}, "/text")
        )
    return probes


def test_nul_in_any_body_is_refused_with_its_pointer(target: Target) -> None:
    with target.server.http() as http:
        for method, path, body, pointer in _body_probes(target):
            answer = http.request(method, path, json=body)
            assert answer.status_code == 422, (method, path, answer.text)
            error = answer.json()["errors"][0]
            assert error["source"] == {"pointer": pointer}, (path, error)


def test_nul_in_a_carrier_webhook_is_refused_before_it_is_parsed(target: Target) -> None:
    body = {"data": {"event_type": "message.received", "payload": {"text": "a\x00b"}}}
    answer = httpx.post(target.server.url + "/carriers/v1/upstream/webhooks", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["source"] == {"pointer": "/data/payload/text"}


def test_an_unpaired_surrogate_is_refused_with_its_pointer(target: Target) -> None:
    raw = b'{"from": "%s", "to": "+13125550199", "text": "a\\ud800b"}' % target.number.encode()
    with target.server.http() as http:
        for path in ("/v2/messages", "/v2/messaging_profiles"):
            answer = http.post(path, content=raw, headers={"content-type": "application/json"})
            assert answer.status_code == 422, answer.text
            assert answer.json()["errors"][0]["source"]["pointer"] in ("/text", "/name")


PATHS = [
    "/%00",
    "/x/%00",
    "/v2/messages/%00",
    "/v2/messages/group/%00",
    "/v2/messaging_profiles/%00",
    "/v2/messaging_profiles/%00/phone_numbers",
    "/v2/messaging_profiles/%00/autoresp_configs",
    "/v2/number_orders/%00",
    "/v2/phone_numbers/%00/messaging",
    "/v2/messaging_hosted_numbers/%00",
    "/v2/short_codes/%00",
    "/v2/alphanumeric_sender_ids/%00",
    "/v2/webhook_deliveries/%00",
    "/sandbox/v1/handsets/%00/messages",
]

FILTERS = [
    "/v2/number_orders?filter[status]=%00",
    "/v2/number_orders?filter[customer_reference]=a%00b",
    "/v2/messaging_profiles?filter[name]=%00",
    "/v2/phone_numbers/messaging?filter[phone_number]=%00",
    "/v2/short_codes?filter[messaging_profile_id]=%00",
    "/v2/webhook_deliveries?filter[status][eq]=%00",
    "/v2/messaging_optouts?filter[from]=%00",
    "/v2/alphanumeric_sender_ids?filter[messaging_profile_id]=%00",
]


def test_nul_in_paths_and_filters_is_404_or_422_never_500(target: Target) -> None:
    with target.server.http() as http, httpx.Client(base_url=target.server.url) as anonymous:
        for path in PATHS:
            for client in (http, anonymous):
                answer = client.get(path)
                assert answer.status_code in (401, 404), (path, answer.status_code, answer.text)
                assert answer.json()["errors"][0]["code"] in ("10005", "10009")
        for path in FILTERS:
            answer = http.get(path)
            assert answer.status_code == 422, (path, answer.text)
            assert "parameter" in answer.json()["errors"][0]["source"]


def test_poison_sends_fail_alone_among_concurrent_good_ones(target: Target) -> None:
    def send(n: int) -> tuple[bool, int]:
        poison = n % 3 == 0
        body = {"from": target.number, "to": "+13125550199", "text": "bad\x00" if poison else f"good {n}"}
        with target.server.http() as http:
            return poison, http.post("/v2/messages", json=body).status_code

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(send, range(120)))
    assert {status for poison, status in results if poison} == {422}
    assert {status for poison, status in results if not poison} == {200}

"""Issue 10 #4: the send fast path (api/fastpath.py) and FastAPI's send routes answer alike.

The same requests, good and bad, go to two identical worlds: one through the app as served (sends take
the fast path), one through the FastAPI app alone (sends take FastAPI's middleware and router). Status,
headers and bodies must match, after replacing what differs by construction: the random ids (each
world has its own organization, profile and messages) and the headers that vary per request.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from heliograph.api.app import create_app
from heliograph.api.routes.messages import SEND_ROUTES
from heliograph.bootstrap import build
from heliograph.clock import FrozenClock
from heliograph.services import accounts, numbers, profiles
from heliograph.settings import Settings
from heliograph.store.migrate import upgrade

START = 1_800_000_000_000_000  # 2027-01-15T08:00:00Z
API_KEY = "KEYPARITY" + "0" * 25
LONG_CODE = "+13125550100"
WHATSAPP = "+13125550177"
SHORT_CODE = "55501"
VOLATILE_HEADERS = frozenset({"date", "server", "x-request-id"})  # none today; dropped should one appear
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: Any


async def _world(tmp_path, *, fast_path: bool) -> tuple[Any, httpx.AsyncClient, dict[str, str]]:
    settings = Settings(data_dir=tmp_path, simulator_dlr_delay_ms=0, number_pool_seed=7, max_body_bytes=4096)
    hg = build(settings, clock=FrozenClock(START))
    await upgrade(hg.ctx.db)
    account = await accounts.bootstrap_sandbox(hg.ctx, API_KEY)
    org = account.organization["id"]
    pool = await profiles.create_profile(
        hg.ctx,
        org,
        {
            "name": "Pool",
            "whitelisted_destinations": ["*"],
            "alpha_sender": "Heliograph",
            "number_pool_settings": {"long_code_weight": 1, "toll_free_weight": 1, "skip_unhealthy": False},
        },
    )
    await numbers.add_number(hg.ctx, org, "+13125550111", profile_id=pool["id"])
    await numbers.add_number(hg.ctx, org, "+13125550112", profile_id=pool["id"])
    await numbers.add_number(hg.ctx, org, WHATSAPP, profile_id=account.profile_id, whatsapp=True)
    await numbers.add_number(hg.ctx, org, SHORT_CODE, profile_id=account.profile_id)
    app = create_app(hg, run_workers=False, send_fast_path=fast_path)
    await hg.start(workers=False)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://heliograph.test",
        headers={"authorization": f"Bearer {API_KEY}"},
    )
    names = {org: "<organization>", account.profile_id: "<default-profile>", pool["id"]: "<pool-profile>"}
    return hg, client, {"pool_profile": pool["id"], "profile": account.profile_id, "_names": names}  # type: ignore[dict-item]


@pytest.fixture
async def worlds(tmp_path) -> AsyncIterator[list[tuple[httpx.AsyncClient, dict]]]:
    made = []
    for name, fast in (("fast", True), ("fastapi", False)):
        (tmp_path / name).mkdir()
        made.append(await _world(tmp_path / name, fast_path=fast))
    yield [(client, ids) for _, client, ids in made]
    for hg, client, _ in made:
        await client.aclose()
        await hg.stop()


def _normalise(answer: httpx.Response, names: dict[str, str]) -> Answer:
    text = answer.content.decode()
    for value, name in names.items():
        text = text.replace(value, name)
    seen: dict[str, str] = {}
    text = UUID.sub(lambda m: seen.setdefault(m.group(0), f"<id{len(seen)}>"), text)
    try:
        body: Any = orjson.loads(text)
    except orjson.JSONDecodeError:
        body = text
    headers = sorted((k, v) for k, v in answer.headers.items() if k not in VOLATILE_HEADERS)
    if isinstance(body, dict):  # the length follows the ids' lengths, which the names above change
        headers = [(k, v) for k, v in headers if k != "content-length"]
    return Answer(answer.status_code, headers, body)


# (method, path, body or raw bytes, extra headers); "{pool_profile}" and "{profile}" are filled per world
CASES: list[tuple[str, str, Any, dict[str, str]]] = [
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": "+13125550123", "text": "hello"}, {}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": "+13125550123", "text": "Caf\u00e9 \u201cnoir\u201d"}, {}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": "+13125550124", "media_urls": ["https://x.test/a.png"]}, {}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": "+13125550123", "text": "x", "encoding": "gsm7"}, {}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": "+13125550123", "text": "\u00e9\u4e2d", "encoding": "gsm7"}, {}),
    ("POST", "/v2/messages", {"messaging_profile_id": "{pool_profile}", "to": "+13125550125", "text": "p"}, {}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": "+13125550123", "text": "x", "webhook_url": "ftp://x"}, {}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": "+13125550123", "text": "x", "sendAt": "soon"}, {}),
    ("POST", "/v2/messages", {"From": LONG_CODE, "to": "+13125550123", "text": "x", "messagingProfileId": "y"}, {}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": "+13125550123", "text": 5}, {}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": "+13125550123", "text": True}, {}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": ["+13125550123"], "text": "x"}, {}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": "+13125550123", "media_urls": [1]}, {}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": "+13125550123", "text": "x", "type": "FAX"}, {}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "text": "x"}, {}),
    ("POST", "/v2/messages", {"to": "+13125550123", "text": "x"}, {}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": "+13125550123"}, {}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": "12345", "text": "x"}, {}),
    ("POST", "/v2/messages", {"from": "+13125559999", "to": "+13125550123", "text": "x"}, {}),
    ("POST", "/v2/messages", {"from": "Nope", "to": "+13125550123", "text": "x"}, {}),
    ("POST", "/v2/messages", {"messaging_profile_id": "missing", "to": "+13125550123", "text": "x"}, {}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": "+13125550123", "text": "x", "send_at": "tomorrow"}, {}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": "+13125550123", "text": "x", "auto_detect": "yes"}, {}),
    ("POST", "/v2/messages", b'{"from": "+13125550100", "to": ', {}),
    ("POST", "/v2/messages", b"[1, 2]", {}),
    ("POST", "/v2/messages", b'{"text": "\\u0000"}', {}),
    ("POST", "/v2/messages", b"\xff\xfe", {}),
    ("POST", "/v2/messages", b"", {}),
    ("POST", "/v2/messages", b"to=1", {"content-type": "application/x-www-form-urlencoded"}),
    ("POST", "/v2/messages", b"{}" + b" " * 5000, {}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": "+13125550123", "text": "x"}, {"authorization": "Bearer x"}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": "+13125550123", "text": "x"}, {"authorization": ""}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": "+13125550126", "text": "once"}, {"idempotency-key": "k1"}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": "+13125550126", "text": "once"}, {"idempotency-key": "k1"}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": "+13125550126", "text": "other"}, {"idempotency-key": "k1"}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": "+13125550126", "text": "x"}, {"idempotency-key": "bad key"}),
    ("POST", "/v2/messages", {"from": LONG_CODE, "to": "+13125550126", "text": 1}, {"idempotency-key": "k2"}),
    ("POST", "/v2/messages/long_code", {"from": LONG_CODE, "to": "+13125550127", "text": "long"}, {}),
    ("POST", "/v2/messages/long_code", {"to": "+13125550127", "text": "long"}, {}),
    ("POST", "/v2/messages/long_code", {"from": SHORT_CODE, "to": "+13125550127", "text": "long"}, {}),
    ("POST", "/v2/messages/short_code", {"from": SHORT_CODE, "to": "+13125550128", "text": "short"}, {}),
    ("POST", "/v2/messages/short_code", {"from": LONG_CODE, "to": "+13125550128", "text": "short"}, {}),
    ("POST", "/v2/messages/short_code", {"from": "55599", "to": "+13125550128", "text": "short"}, {}),
    ("POST", "/v2/messages/number_pool", {"messaging_profile_id": "{pool_profile}", "to": "+13125550129"}, {}),
    (
        "POST",
        "/v2/messages/number_pool",
        {"messaging_profile_id": "{pool_profile}", "to": "+13125550129", "text": "pool"},
        {},
    ),
    ("POST", "/v2/messages/number_pool", {"messaging_profile_id": "{profile}", "to": "+13125550129", "text": "p"}, {}),
    ("POST", "/v2/messages/number_pool", {"to": "+13125550129", "text": "pool"}, {}),
    (
        "POST",
        "/v2/messages/alphanumeric_sender_id",
        {"from": "Heliograph", "messaging_profile_id": "{pool_profile}", "to": "+447700900123", "text": "alpha"},
        {},
    ),
    (
        "POST",
        "/v2/messages/alphanumeric_sender_id",
        {"from": "Heliograph", "messaging_profile_id": "{pool_profile}", "to": "+13125550130", "text": "alpha"},
        {},
    ),
    ("POST", "/v2/messages/alphanumeric_sender_id", {"from": "Heliograph", "to": "+447700900123", "text": "a"}, {}),
    (
        "POST",
        "/v2/messages/schedule",
        {"from": LONG_CODE, "to": "+13125550131", "text": "later", "send_at": "2027-01-15T09:00:00Z"},
        {},
    ),
    ("POST", "/v2/messages/schedule", {"from": LONG_CODE, "to": "+13125550131", "text": "later"}, {}),
    (
        "POST",
        "/v2/messages/schedule",
        {"from": LONG_CODE, "to": "+13125550131", "text": "later", "send_at": "2027-01-15T08:01:00Z"},
        {},
    ),
    (
        "POST",
        "/v2/messages/group_mms",
        {"from": LONG_CODE, "to": ["+13125550132", "+13125550133"], "media_urls": ["https://x.test/a.png"]},
        {},
    ),
    ("POST", "/v2/messages/group_mms", {"from": LONG_CODE, "to": "+13125550132", "text": "g"}, {}),
    ("POST", "/v2/messages/group_mms", {"from": LONG_CODE, "to": ["+13125550132", "+13125550132"], "text": "g"}, {}),
    ("POST", "/v2/messages/group_mms", {"from": LONG_CODE, "to": [], "text": "g"}, {}),
    ("POST", "/v2/messages/group_mms", {"to": ["+13125550132"], "text": "g"}, {}),
    (
        "POST",
        "/v2/messages/whatsapp",
        {"from": WHATSAPP, "to": "+13125550134", "whatsapp_message": {"type": "text", "text": {"body": "hi"}}},
        {},
    ),
    (
        "POST",
        "/v2/messages/whatsapp",
        {"from": LONG_CODE, "to": "+13125550134", "whatsapp_message": {"type": "text", "text": {"body": "hi"}}},
        {},
    ),
    (
        "POST",
        "/v2/messages/whatsapp",
        {
            "from": WHATSAPP,
            "to": "+13125550134",
            "whatsapp_message": {"type": "text", "text": {"body": "hi"}},
            "webhook_url": "ftp://x",
        },
        {},
    ),
    ("POST", "/v2/messages/whatsapp", {"from": WHATSAPP, "to": "+13125550134"}, {}),
    ("POST", "/v2/messages/whatsapp", {"from": WHATSAPP, "to": "+13125550134", "whatsapp_message": {"type": 1}}, {}),
    ("POST", "/v2/messages/unknown_kind", {"from": LONG_CODE, "to": "+13125550123", "text": "x"}, {}),
    ("GET", "/v2/messages/not-a-uuid", None, {}),
]


def _fill(value: Any, ids: dict) -> Any:
    if isinstance(value, str):
        return value.format(**{k: v for k, v in ids.items() if not k.startswith("_")}) if "{" in value else value
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


async def _call(client: httpx.AsyncClient, ids: dict, method: str, path: str, body: Any, headers: dict) -> Answer:
    content = body if isinstance(body, bytes) or body is None else orjson.dumps(_fill(body, ids))
    headers = {"content-type": "application/json", **headers}
    answer = await client.request(method, path, content=content, headers=headers)
    return _normalise(answer, ids["_names"])


async def test_every_request_answers_alike_through_the_fast_path_and_fastapi(worlds) -> None:
    (fast, fast_ids), (slow, slow_ids) = worlds
    statuses = []
    for method, path, body, headers in CASES:
        through_fast = await _call(fast, fast_ids, method, path, body, headers)
        through_fastapi = await _call(slow, slow_ids, method, path, body, headers)
        assert through_fast == through_fastapi, (method, path, body, headers)
        statuses.append(through_fast.status)
    # the cases reach both outcomes on every send endpoint, and the gates' refusals
    assert {200, 400, 401, 404, 405, 413, 415, 422} <= set(statuses)


async def test_the_cases_cover_every_send_endpoint() -> None:
    covered = {path for _, path, _, _ in CASES}
    assert {"/v2" + route.endpoint.path for route in SEND_ROUTES} <= covered


async def test_the_fast_path_serves_exactly_the_fastapi_send_routes(worlds) -> None:
    from heliograph.api.fastpath import SEND_ENDPOINTS
    from heliograph.api.routes.messages import router

    posts = {"/v2" + route.path for route in router.routes if "POST" in getattr(route, "methods", ())}
    assert posts == set(SEND_ENDPOINTS)

"""Idempotency-Key on the send endpoints (spec README §7b).

The SDK sends the header itself when given `idempotency_key=`; `extra_headers` works the same way.
Whether a replay created a second message is checked on the destination's virtual handset: after the
replay, a marker message is sent to the same handset, and once the marker has arrived the handset must
hold exactly the original message and the marker.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import telnyx
from contract_support import assert_error, new_handset, new_long_code
from support import Server, eventually


def _key() -> str:
    return f"contract-{uuid.uuid4()}"


def _handset_message_ids(server: Server, handset: str) -> list[str]:
    response = server.http().get(f"/sandbox/v1/handsets/{handset}/messages")
    assert response.status_code == 200, response.text
    return [m["message_id"] for m in response.json()["data"]]


def _after_marker(client: telnyx.Telnyx, server: Server, handset: str) -> list[str]:
    """Everything the handset holds once a marker sent now has arrived (the marker left out)."""
    marker = client.messages.send(from_=server.long_code, to=handset, text="marker").data
    assert marker is not None and marker.id is not None
    ids = eventually(lambda: (got := _handset_message_ids(server, handset)) and marker.id in got and got, timeout=60)
    return [i for i in ids if i != marker.id]


def test_replay_returns_the_first_message_and_sends_nothing_new(client: telnyx.Telnyx, server: Server) -> None:
    handset = new_handset()
    key = _key()

    first = client.messages.with_raw_response.send(
        from_=server.long_code, to=handset, text="exactly once", idempotency_key=key
    )
    again = client.messages.with_raw_response.send(
        from_=server.long_code, to=handset, text="exactly once", extra_headers={"Idempotency-Key": key}
    )

    assert first.status_code == again.status_code == 200
    assert again.parse().data.id == first.parse().data.id  # type: ignore[union-attr]
    assert again.http_response.json() == first.http_response.json()
    assert _after_marker(client, server, handset) == [first.parse().data.id]  # type: ignore[union-attr]


def test_same_key_with_another_body_is_refused(client: telnyx.Telnyx, server: Server) -> None:
    handset = new_handset()
    key = _key()
    first = client.messages.send(from_=server.long_code, to=handset, text="original", idempotency_key=key).data
    assert first is not None

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messages.send(from_=server.long_code, to=handset, text="changed", idempotency_key=key)

    entry = assert_error(caught.value, status=422, code="10027")
    assert "Idempotency-Key" in entry.get("detail", "") or "key" in entry.get("detail", "").lower()
    assert _after_marker(client, server, handset) == [first.id]


@pytest.mark.parametrize("key", ["", "has space", "semi;colon", "dot.ted", "k" * 256])
def test_malformed_key_is_refused(client: telnyx.Telnyx, server: Server, key: str) -> None:
    handset = new_handset()

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messages.send(from_=server.long_code, to=handset, text="bad key", extra_headers={"Idempotency-Key": key})

    assert_error(caught.value, status=422, code="10015")
    assert _after_marker(client, server, handset) == []


def test_longest_allowed_key_is_accepted(client: telnyx.Telnyx, server: Server) -> None:
    key = "A1_:-" * 51

    message = client.messages.send(from_=server.long_code, to=new_handset(), text="long key", idempotency_key=key).data

    assert len(key) == 255
    assert message is not None and message.to is not None and message.to[0].status == "queued"


def test_keys_are_scoped_by_endpoint(client: telnyx.Telnyx, server: Server) -> None:
    handset = new_handset()
    key = _key()

    generic = client.messages.send(from_=server.long_code, to=handset, text="scoped", idempotency_key=key).data
    long_code = client.messages.send_long_code(
        from_=server.long_code, to=handset, text="scoped", idempotency_key=key
    ).data

    assert generic is not None and long_code is not None
    assert generic.id != long_code.id
    assert sorted(_after_marker(client, server, handset)) == sorted([generic.id, long_code.id])


def test_dedicated_send_endpoints_replay_too(client: telnyx.Telnyx, server: Server) -> None:
    key = _key()
    to = new_handset()

    first = client.messages.send_long_code(from_=server.toll_free, to=to, text="again", idempotency_key=key).data
    second = client.messages.send_long_code(from_=server.toll_free, to=to, text="again", idempotency_key=key).data

    assert first is not None and second is not None and first.id == second.id


def test_failed_request_can_be_retried_with_the_same_key(
    client: telnyx.Telnyx,
    server: Server,
    make_profile,
    order_numbers,
) -> None:
    number = new_long_code()
    order_numbers(number)  # not on a profile yet: sending from it fails
    handset = new_handset()
    key = _key()

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send(from_=number, to=handset, text="retry me", idempotency_key=key)
    client.phone_numbers.messaging.update(number, messaging_profile_id=make_profile().id)
    retried = client.messages.send(from_=number, to=handset, text="retry me", idempotency_key=key).data

    assert_error(caught.value, status=400, code="40305")
    assert retried is not None and retried.to is not None and retried.to[0].status == "queued"
    assert _after_marker(client, server, handset) == [retried.id]


def test_concurrent_duplicates_create_one_message(client: telnyx.Telnyx, server: Server) -> None:
    handset = new_handset()
    key = _key()
    body = {"from": server.long_code, "to": handset, "text": "racing"}

    def post(_: int) -> Any:
        with server.http() as http:
            return http.post("/v2/messages", json=body, headers={"Idempotency-Key": key})

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(post, range(8)))

    accepted = {r.json()["data"]["id"] for r in responses if r.status_code == 200}
    assert len(accepted) == 1, [r.text for r in responses]
    for response in responses:
        if response.status_code != 200:
            assert_error(response, status=422, code="10036")
    assert _after_marker(client, server, handset) == list(accepted)


def test_other_endpoints_ignore_the_header(client: telnyx.Telnyx) -> None:
    key = _key()
    name = f"idempotency-{uuid.uuid4().hex[:8]}"

    first = client.messaging_profiles.create(
        name=name, whitelisted_destinations=["US"], extra_headers={"Idempotency-Key": key}
    ).data
    second = client.messaging_profiles.create(
        name=name, whitelisted_destinations=["US"], extra_headers={"Idempotency-Key": key}
    ).data

    assert first.id != second.id
    assert {p.id for p in client.messaging_profiles.list(filter_name_eq=name)} == {first.id, second.id}


def test_keys_are_scoped_by_organization(
    client: telnyx.Telnyx, other_client: telnyx.Telnyx, other_org: dict, server: Server
) -> None:
    theirs = new_long_code()
    other_client.number_orders.create(
        phone_numbers=[{"phone_number": theirs}], messaging_profile_id=other_org["messaging_profile_id"]
    )
    key = _key()
    handset = new_handset()

    ours = client.messages.send(from_=server.long_code, to=handset, text="same key", idempotency_key=key).data
    foreign = other_client.messages.send(from_=theirs, to=handset, text="same key", idempotency_key=key).data

    assert ours is not None and foreign is not None
    assert ours.id != foreign.id
    assert foreign.organization_id == other_org["organization_id"]

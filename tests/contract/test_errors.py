"""Authentication and request-level errors (spec README §2, §5, §6; errors.md §1).

Raw httpx is used only where the SDK cannot express the request (no key at all, malformed JSON,
oversized or non-JSON bodies, unknown routes and methods).

Tenancy (README §2, DESIGN invariant 4): a second organization made with `heliograph accounts create`
must get 404 for every id of the first, as if it did not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import telnyx
from contract_support import assert_error, error_entry, new_handset, new_long_code, unique_name
from support import Server

# --- authentication ------------------------------------------------------------------------------


def test_wrong_key_is_refused(server: Server) -> None:
    intruder = server.client(api_key="KEYWRONG0000000000000000000000000")

    with pytest.raises(telnyx.AuthenticationError) as caught:
        intruder.messaging_profiles.list()

    assert_error(caught.value, status=401, code="10009")


def test_no_key_is_refused(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELNYX_API_KEY", raising=False)
    anonymous = telnyx.Telnyx(api_key=None, base_url=server.base_url, max_retries=0, _strict_response_validation=True)

    with pytest.raises(telnyx.AuthenticationError) as caught:
        anonymous.messages.send(from_=server.long_code, to=new_handset(), text="who am I?")

    assert "authorization" not in {k.lower() for k in caught.value.response.request.headers}
    assert_error(caught.value, status=401, code="10009")


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Basic a2V5OnNlY3JldA==", "KEYTESTSUITE0000000000000000000000"],
)
def test_malformed_authorization_is_refused(server: Server, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = httpx.get(server.base_url + "/messaging_profiles", headers=headers)

    assert_error(response, status=401, code="10009")


def test_refused_send_creates_nothing(server: Server) -> None:
    to = new_handset()
    intruder = server.client(api_key="KEYWRONG0000000000000000000000000")

    with pytest.raises(telnyx.AuthenticationError):
        intruder.messages.send(from_=server.long_code, to=to, text="sneaky")

    assert server.http().get(f"/sandbox/v1/handsets/{to}/messages").json()["data"] == []


# --- malformed requests --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v2/messages", "/v2/messaging_profiles", "/v2/number_orders"])
def test_malformed_json_is_refused(server: Server, path: str) -> None:
    response = server.http().post(
        path, content=b'{"to": "+14155550100", "text": ', headers={"Content-Type": "application/json"}
    )

    assert_error(response, status=400, code="10023")


def test_malformed_json_on_patch_is_refused(server: Server) -> None:
    response = server.http().patch(
        f"/v2/messaging_profiles/{server.profile_id}",
        content=b"{name: 'x'}",
        headers={"Content-Type": "application/json"},
    )

    assert_error(response, status=400, code="10023")


def test_body_that_is_not_an_object_is_refused(server: Server) -> None:
    response = server.http().post("/v2/messages", json=["+14155550100", "hello"])

    assert response.status_code == 422
    assert error_entry(response)["code"] == "10026"


def test_body_over_one_mebibyte_is_refused(server: Server) -> None:
    body = b'{"to": "+14155550100", "text": "' + b"a" * (1024 * 1024) + b'"}'

    response = server.http().post("/v2/messages", content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    error_entry(response)


def test_streamed_body_over_one_mebibyte_is_refused(server: Server) -> None:
    def chunks():  # no Content-Length: the server must count as it reads
        yield b'{"to": "+14155550100", "text": "'
        for _ in range(17):
            yield b"a" * 65536
        yield b'"}'

    response = server.http().post("/v2/messages", content=chunks(), headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    error_entry(response)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_body_that_is_not_json_is_refused(server: Server, content_type: str) -> None:
    response = server.http().post(
        "/v2/messages", content=b"to=%2B14155550100&text=hi", headers={"Content-Type": content_type}
    )

    assert response.status_code == 415
    assert error_entry(response)["code"] in ("10014", "10024", "10029")


def test_json_with_charset_is_accepted(server: Server) -> None:
    response = server.http().post(
        "/v2/messaging_profiles",
        content=b'{"name": "charset", "whitelisted_destinations": ["US"]}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )

    assert response.status_code == 200
    assert response.json()["data"]["record_type"] == "messaging_profile"


def test_body_that_is_not_utf8_is_refused(server: Server) -> None:
    response = server.http().post(
        "/v2/messages",
        content=b'{"to": "+14155550100", "text": "\xff\xfe"}',
        headers={"Content-Type": "application/json"},
    )

    assert_error(response, status=400, code="10028")


# --- routes and methods --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v2/nothing_here", "/v2/messages/a/b/c", "/v2/messaging_profiles/x/y/z"])
def test_unknown_route_is_not_found(server: Server, path: str) -> None:
    response = server.http().get(path)

    assert_error(response, status=404, code="10005")


def test_unknown_route_through_the_sdk(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.NotFoundError) as caught:
        client.get("/no_such_resource", cast_to=object)

    assert_error(caught.value, status=404, code="10005")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/v2/messaging_profiles"),
        ("DELETE", "/v2/messages"),
        ("POST", "/v2/phone_numbers/messaging"),
        ("PATCH", "/v2/short_codes"),
    ],
)
def test_wrong_method_is_not_allowed(server: Server, method: str, path: str) -> None:
    response = server.http().request(method, path, json={} if method in ("PUT", "POST", "PATCH") else None)

    assert_error(response, status=405, code="10030")


def test_error_bodies_are_never_html_or_stack_traces(server: Server) -> None:
    http = server.http()
    responses = [
        http.get("/v2/messages/00000000-0000-4000-8000-000000000000"),
        http.post("/v2/messages", json={}),
        http.post("/v2/messages", content=b"[", headers={"Content-Type": "application/json"}),
        http.get("/v2/messaging_profiles", params={"page[size]": "many"}),
        httpx.get(server.base_url + "/messages/x"),
    ]

    for response in responses:
        assert 400 <= response.status_code < 500, response.text
        entry = error_entry(response)
        assert "Traceback" not in response.text
        assert set(entry) <= {"code", "title", "detail", "source", "meta"}


def test_non_integer_page_parameter_is_refused(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messaging_profiles.list(extra_query={"page[size]": "many"})

    assert_error(caught.value, status=422, code="10026", parameter="page[size]")


# --- tenancy -------------------------------------------------------------------------------------

MISSING = "00000000-0000-4000-8000-000000000000"


def test_each_organization_sees_its_own_default_profile(
    client: telnyx.Telnyx, other_client: telnyx.Telnyx, other_org: dict, server: Server
) -> None:
    theirs = other_client.messaging_profiles.retrieve(other_org["messaging_profile_id"]).data

    assert theirs.organization_id == other_org["organization_id"]
    with pytest.raises(telnyx.NotFoundError) as caught:
        client.messaging_profiles.retrieve(other_org["messaging_profile_id"])
    assert_error(caught.value, status=404, code="10005")
    assert server.profile_id not in {p.id for p in other_client.messaging_profiles.list(page_size=250)}


def test_foreign_profile_is_not_found(client: telnyx.Telnyx, other_client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile()
    attempts = [
        lambda: other_client.messaging_profiles.retrieve(profile.id),
        lambda: other_client.messaging_profiles.update(profile.id, name="stolen"),
        lambda: other_client.messaging_profiles.delete(profile.id),
        lambda: other_client.messaging_profiles.list_phone_numbers(profile.id),
        lambda: other_client.messaging_profiles.list_short_codes(profile.id),
    ]

    for attempt in attempts:
        with pytest.raises(telnyx.NotFoundError) as caught:
            attempt()
        assert_error(caught.value, status=404, code="10005")
    assert other_client.messaging_profiles.list(filter_name_eq=profile.name).data == []
    assert client.messaging_profiles.retrieve(profile.id).data.model_dump() == profile.model_dump()


def test_foreign_phone_number_is_not_found(client: telnyx.Telnyx, other_client: telnyx.Telnyx, server: Server) -> None:
    ours = client.phone_numbers.messaging.retrieve(server.long_code).data
    assert ours.id is not None

    for number_id in (server.long_code, ours.id):
        with pytest.raises(telnyx.NotFoundError) as caught:
            other_client.phone_numbers.messaging.retrieve(number_id)
        assert_error(caught.value, status=404, code="10005")
        with pytest.raises(telnyx.NotFoundError) as caught:
            other_client.phone_numbers.messaging.update(number_id, messaging_profile_id="")
        assert_error(caught.value, status=404, code="10005")
    assert other_client.phone_numbers.messaging.list(filter_phone_number=server.long_code).data == []
    assert client.phone_numbers.messaging.retrieve(server.long_code).data.messaging_profile_id == server.profile_id


def test_foreign_profile_cannot_be_assigned(
    client: telnyx.Telnyx, other_client: telnyx.Telnyx, other_org: dict, server: Server
) -> None:
    theirs = new_long_code()
    other_client.number_orders.create(phone_numbers=[{"phone_number": theirs}])

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        other_client.phone_numbers.messaging.update(theirs, messaging_profile_id=server.profile_id)
    assigned = other_client.phone_numbers.messaging.update(
        theirs, messaging_profile_id=other_org["messaging_profile_id"]
    ).data

    assert_error(caught.value, status=422, code="10017", pointer="/messaging_profile_id")
    assert assigned.messaging_profile_id == other_org["messaging_profile_id"]
    assert assigned.organization_id == other_org["organization_id"]
    with pytest.raises(telnyx.NotFoundError):
        client.phone_numbers.messaging.retrieve(theirs)


def test_foreign_short_code_is_not_found(other_client: telnyx.Telnyx, make_profile, add_short_code) -> None:
    code = add_short_code(make_profile().id)

    with pytest.raises(telnyx.NotFoundError) as caught:
        other_client.short_codes.retrieve(code["id"])
    assert_error(caught.value, status=404, code="10005")
    with pytest.raises(telnyx.NotFoundError) as caught:
        other_client.short_codes.update(code["id"], messaging_profile_id="")
    assert_error(caught.value, status=404, code="10005")
    assert code["id"] not in {c.id for c in other_client.short_codes.list(page_size=250)}


def test_foreign_number_order_is_not_found(other_client: telnyx.Telnyx, order_numbers) -> None:
    order = order_numbers(new_long_code(), customer_reference=unique_name("private"))
    assert order.id is not None

    with pytest.raises(telnyx.NotFoundError) as caught:
        other_client.number_orders.retrieve(order.id)
    assert_error(caught.value, status=404, code="10005")
    with pytest.raises(telnyx.NotFoundError) as caught:
        other_client.number_orders.update(order.id, customer_reference="mine now")
    assert_error(caught.value, status=404, code="10005")
    assert other_client.number_orders.list(filter={"customer_reference": order.customer_reference}).data == []


def test_foreign_message_is_not_found(
    client: telnyx.Telnyx, other_client: telnyx.Telnyx, lax_client: telnyx.Telnyx, server: Server
) -> None:
    sent = client.messages.send(from_=server.long_code, to=new_handset(), text="private").data
    later = datetime.now(UTC) + timedelta(minutes=20)
    scheduled = lax_client.messages.send(from_=server.long_code, to=new_handset(), text="later", send_at=later).data
    assert sent is not None and sent.id is not None and scheduled is not None and scheduled.id is not None

    with pytest.raises(telnyx.NotFoundError) as caught:
        other_client.messages.retrieve(sent.id)
    assert_error(caught.value, status=404, code="40303")
    with pytest.raises(telnyx.NotFoundError) as caught:
        other_client.messages.cancel_scheduled(scheduled.id)
    assert_error(caught.value, status=404, code="40303")
    assert lax_client.messages.retrieve(scheduled.id).data.to[0].status == "scheduled"  # type: ignore[union-attr,index]


def test_foreign_sender_cannot_be_used(other_client: telnyx.Telnyx, server: Server) -> None:
    with pytest.raises(telnyx.BadRequestError) as caught:
        other_client.messages.send(from_=server.long_code, to=new_handset(), text="spoof")
    assert_error(caught.value, status=400, code="40305", pointer="/from")

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        other_client.messages.send(to=new_handset(), text="spoof", messaging_profile_id=server.profile_id)
    assert_error(caught.value, status=422, code="10017", pointer="/messaging_profile_id")

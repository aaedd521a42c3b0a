"""Senders through the official SDK in strict mode: alphanumeric sender IDs (the resource and sending
from them), long and short codes, the number pool, group MMS, scheduling, smart encoding and MMS media.

Spec: profiles-and-numbers.md §5; messages.md §3, §4, §8, §10–§14; README §11 (scheduling answers
with statuses the SDK models do not list, so those calls use a non-strict client).
"""

from __future__ import annotations

import hashlib
import random
import struct
import threading
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import telnyx
from contract_support import UUID, assert_error, new_handset, new_long_code, new_toll_free, unique_name
from support import Server, eventually

MISSING = "00000000-0000-4000-8000-000000000000"
_rng = random.SystemRandom()
_handed_out: set[str] = set()


def _fresh(make: Any) -> str:
    while True:
        value = make()
        if value not in _handed_out:
            _handed_out.add(value)
            return value


def german_mobile() -> str:
    """A destination outside +1 (Germany, T-Mobile range): alphanumeric senders may reach it."""
    return _fresh(lambda: f"+49151{_rng.randint(0, 99_999_999):08d}")


def nanp(npa: str) -> str:
    return _fresh(lambda: f"+1{npa}{_rng.randint(2, 9)}{_rng.randint(0, 999_999):06d}")


def sender_name() -> str:
    """A valid alphanumeric sender ID (1–11 characters, letters and digits, at least one letter)."""
    return _fresh(lambda: "Hg" + "".join(_rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(7)))


def _status_of(client: telnyx.Telnyx, message_id: str) -> Any:
    message = client.messages.retrieve(message_id).data
    assert message is not None and message.to
    return message


def final(client: telnyx.Telnyx, message_id: str, wanted: str) -> Any:
    """Poll GET /messages/{id} until the recipient reaches `wanted`."""

    def reached() -> Any:
        message = _status_of(client, message_id)
        return message if message.to[0].status == wanted else None

    return eventually(reached, timeout=30, message=f"message {message_id} never became {wanted}")


def _in(minutes: float) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)


# --- alphanumeric sender IDs: the resource -------------------------------------------------------


def test_create_retrieve_list_and_delete_a_sender_id(client: telnyx.Telnyx, server: Server, make_profile) -> None:
    profile = make_profile()
    name = sender_name()

    created = client.alphanumeric_sender_ids.create(alphanumeric_sender_id=name, messaging_profile_id=profile.id).data
    assert created is not None and created.id is not None
    fetched = client.alphanumeric_sender_ids.retrieve(created.id).data
    listed = list(client.alphanumeric_sender_ids.list(filter_messaging_profile_id=profile.id))
    on_profile = list(client.messaging_profiles.list_alphanumeric_sender_ids(profile.id))

    assert created.record_type == "alphanumeric_sender_id"
    assert UUID.match(created.id)
    assert created.alphanumeric_sender_id == name
    assert created.messaging_profile_id == profile.id
    assert created.organization_id == server.info["organization_id"]
    assert created.us_long_code_fallback is None
    assert fetched == created
    assert listed == [created]
    assert on_profile == [created]

    deleted = client.alphanumeric_sender_ids.delete(created.id).data

    assert deleted == created
    with pytest.raises(telnyx.NotFoundError) as caught:
        client.alphanumeric_sender_ids.retrieve(created.id)
    assert_error(caught.value, status=404, code="10005")
    assert list(client.alphanumeric_sender_ids.list(filter_messaging_profile_id=profile.id)) == []
    assert list(client.messaging_profiles.list_alphanumeric_sender_ids(profile.id)) == []
    with pytest.raises(telnyx.NotFoundError):
        client.alphanumeric_sender_ids.delete(created.id)


def test_list_filters_by_profile(client: telnyx.Telnyx, make_profile) -> None:
    mine, other = make_profile(), make_profile()
    a = client.alphanumeric_sender_ids.create(alphanumeric_sender_id=sender_name(), messaging_profile_id=mine.id).data
    b = client.alphanumeric_sender_ids.create(alphanumeric_sender_id=sender_name(), messaging_profile_id=mine.id).data
    c = client.alphanumeric_sender_ids.create(alphanumeric_sender_id=sender_name(), messaging_profile_id=other.id).data
    assert a is not None and b is not None and c is not None

    mine_listed = {s.id for s in client.alphanumeric_sender_ids.list(filter_messaging_profile_id=mine.id)}
    other_listed = {s.id for s in client.messaging_profiles.list_alphanumeric_sender_ids(other.id)}
    everything = {s.id for s in client.alphanumeric_sender_ids.list(page_size=250)}

    assert mine_listed == {a.id, b.id}
    assert other_listed == {c.id}
    assert {a.id, b.id, c.id} <= everything


def test_create_with_us_long_code_fallback(client: telnyx.Telnyx, sender) -> None:
    profile, number = sender()

    created = client.alphanumeric_sender_ids.create(
        alphanumeric_sender_id="Fallback Co", messaging_profile_id=profile.id, us_long_code_fallback=number
    ).data

    assert created is not None and created.id is not None
    assert created.alphanumeric_sender_id == "Fallback Co"
    assert created.us_long_code_fallback == number
    assert client.alphanumeric_sender_ids.retrieve(created.id).data.us_long_code_fallback == number  # type: ignore[union-attr]


@pytest.mark.parametrize("value", ["TwelveChars1", "12345", "bad_sender!", "Ünicode"])
def test_invalid_sender_id_format_is_refused(client: telnyx.Telnyx, make_profile, value: str) -> None:
    profile = make_profile()

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.alphanumeric_sender_ids.create(alphanumeric_sender_id=value, messaging_profile_id=profile.id)

    assert_error(caught.value, status=422, code="40325", pointer="/alphanumeric_sender_id")
    assert list(client.alphanumeric_sender_ids.list(filter_messaging_profile_id=profile.id)) == []


def test_sender_id_on_unknown_profile_is_refused(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.alphanumeric_sender_ids.create(alphanumeric_sender_id=sender_name(), messaging_profile_id=MISSING)

    assert_error(caught.value, status=422, code="10017", pointer="/messaging_profile_id")


def test_duplicate_sender_id_on_a_profile_is_refused(client: telnyx.Telnyx, make_profile) -> None:
    profile, other = make_profile(), make_profile()
    name = sender_name()
    first = client.alphanumeric_sender_ids.create(alphanumeric_sender_id=name, messaging_profile_id=profile.id).data

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.alphanumeric_sender_ids.create(alphanumeric_sender_id=name, messaging_profile_id=profile.id)
    elsewhere = client.alphanumeric_sender_ids.create(alphanumeric_sender_id=name, messaging_profile_id=other.id).data

    assert_error(caught.value, status=422, code="40326")
    assert [s.id for s in client.alphanumeric_sender_ids.list(filter_messaging_profile_id=profile.id)] == [first.id]  # type: ignore[union-attr]
    # the rule is per profile: another profile may register the same ID
    assert elsewhere is not None and elsewhere.messaging_profile_id == other.id


@pytest.mark.parametrize("fallback", ["+12065550142", "not-a-number"])
def test_fallback_that_is_not_a_long_code_of_the_account_is_refused(
    client: telnyx.Telnyx,
    make_profile,
    fallback: str,
) -> None:
    profile = make_profile()

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.alphanumeric_sender_ids.create(
            alphanumeric_sender_id=sender_name(),
            messaging_profile_id=profile.id,
            us_long_code_fallback=fallback,
        )

    entry = assert_error(caught.value, status=422, code=caught.value.body["errors"][0]["code"])  # type: ignore[index]
    assert entry.get("source", {}).get("pointer") == "/us_long_code_fallback", entry
    assert list(client.alphanumeric_sender_ids.list(filter_messaging_profile_id=profile.id)) == []


def test_sender_ids_of_unknown_profile_are_not_found(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.NotFoundError) as caught:
        client.messaging_profiles.list_alphanumeric_sender_ids(MISSING)

    assert_error(caught.value, status=404, code="10005")


@pytest.mark.parametrize("sender_id", [MISSING, "not-an-id"])
def test_retrieve_unknown_sender_id_is_not_found(client: telnyx.Telnyx, sender_id: str) -> None:
    with pytest.raises(telnyx.NotFoundError) as caught:
        client.alphanumeric_sender_ids.retrieve(sender_id)

    assert_error(caught.value, status=404, code="10005")


# --- sending from an alphanumeric sender ID (messages.md §12) ------------------------------------


def test_alphanumeric_send_abroad_keeps_the_id_as_sender(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile()
    name = sender_name()
    client.alphanumeric_sender_ids.create(alphanumeric_sender_id=name, messaging_profile_id=profile.id)
    to = german_mobile()

    message = client.messages.send_with_alphanumeric_sender(
        from_=name, to=to, text="Hallo", messaging_profile_id=profile.id
    ).data

    assert message is not None and message.id is not None
    assert message.type == "SMS"
    assert message.direction == "outbound"
    assert message.messaging_profile_id == profile.id
    assert message.from_ is not None
    assert (message.from_.phone_number, message.from_.carrier, message.from_.line_type) == (name, "", "")
    assert message.to is not None and message.to[0].phone_number == to
    assert message.to[0].status == "queued"
    assert message.text == "Hallo"
    delivered = final(client, message.id, "delivered")
    assert delivered.from_.phone_number == name


def test_alphanumeric_send_to_plus_one_uses_the_us_fallback(client: telnyx.Telnyx, sender) -> None:
    profile, number = sender()
    name = sender_name()
    client.alphanumeric_sender_ids.create(
        alphanumeric_sender_id=name, messaging_profile_id=profile.id, us_long_code_fallback=number
    )

    message = client.messages.send_with_alphanumeric_sender(
        from_=name, to=new_handset(), text="Hello US", messaging_profile_id=profile.id
    ).data

    assert message is not None and message.id is not None
    assert message.from_ is not None and message.from_.phone_number == number
    assert message.messaging_profile_id == profile.id
    final(client, message.id, "delivered")


def test_alphanumeric_send_to_plus_one_without_fallback_is_refused(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile()
    name = sender_name()
    client.alphanumeric_sender_ids.create(alphanumeric_sender_id=name, messaging_profile_id=profile.id)

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send_with_alphanumeric_sender(
            from_=name, to=new_handset(), text="Hello US", messaging_profile_id=profile.id
        )

    assert_error(caught.value, status=400, code="40319")


def test_profile_without_any_sender_id_is_refused(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile()

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send_with_alphanumeric_sender(
            from_="Nobody", to=german_mobile(), text="x", messaging_profile_id=profile.id
        )

    assert_error(caught.value, status=400, code="40306")


def test_id_other_than_the_profile_alpha_sender_is_refused(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile(alpha_sender="Legacy")

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send_with_alphanumeric_sender(
            from_="Imposter", to=german_mobile(), text="x", messaging_profile_id=profile.id
        )
    allowed = client.messages.send_with_alphanumeric_sender(
        from_="Legacy", to=german_mobile(), text="x", messaging_profile_id=profile.id
    ).data

    assert_error(caught.value, status=400, code="40307")
    assert allowed is not None and allowed.from_ is not None and allowed.from_.phone_number == "Legacy"


def test_unregistered_id_on_a_profile_with_sender_ids_is_refused(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile()
    client.alphanumeric_sender_ids.create(alphanumeric_sender_id=sender_name(), messaging_profile_id=profile.id)

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send_with_alphanumeric_sender(
            from_="Stranger", to=german_mobile(), text="x", messaging_profile_id=profile.id
        )

    assert_error(caught.value, status=400, code="40305", pointer="/from")


def test_sender_id_of_another_profile_is_refused(client: telnyx.Telnyx, make_profile) -> None:
    mine, other = make_profile(), make_profile()
    client.alphanumeric_sender_ids.create(alphanumeric_sender_id=sender_name(), messaging_profile_id=mine.id)
    theirs = sender_name()
    client.alphanumeric_sender_ids.create(alphanumeric_sender_id=theirs, messaging_profile_id=other.id)

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send_with_alphanumeric_sender(
            from_=theirs, to=german_mobile(), text="x", messaging_profile_id=mine.id
        )

    assert_error(caught.value, status=400, code="40305", pointer="/from")


def test_deleted_sender_id_can_no_longer_send(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile()
    keep, gone = sender_name(), sender_name()
    client.alphanumeric_sender_ids.create(alphanumeric_sender_id=keep, messaging_profile_id=profile.id)
    record = client.alphanumeric_sender_ids.create(alphanumeric_sender_id=gone, messaging_profile_id=profile.id).data
    assert record is not None and record.id is not None
    client.alphanumeric_sender_ids.delete(record.id)

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send_with_alphanumeric_sender(
            from_=gone, to=german_mobile(), text="x", messaging_profile_id=profile.id
        )

    assert_error(caught.value, status=400, code="40305", pointer="/from")


def test_alphanumeric_sender_through_post_messages(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile()
    name = sender_name()
    client.alphanumeric_sender_ids.create(alphanumeric_sender_id=name, messaging_profile_id=profile.id)

    message = client.messages.send(
        from_=name, to=german_mobile(), text="via /messages", messaging_profile_id=profile.id
    ).data

    assert message is not None and message.from_ is not None
    assert message.from_.phone_number == name
    assert message.messaging_profile_id == profile.id


def test_alphanumeric_sender_cannot_send_mms(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile()
    name = sender_name()
    client.alphanumeric_sender_ids.create(alphanumeric_sender_id=name, messaging_profile_id=profile.id)

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send(
            from_=name,
            to=german_mobile(),
            text="picture",
            media_urls=["https://example.com/a.png"],
            messaging_profile_id=profile.id,
        )

    assert_error(caught.value, status=400, code="40308")


def test_alphanumeric_send_with_a_malformed_id_is_refused(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile()
    client.alphanumeric_sender_ids.create(alphanumeric_sender_id=sender_name(), messaging_profile_id=profile.id)

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send_with_alphanumeric_sender(
            from_="Far Too Long Name", to=german_mobile(), text="x", messaging_profile_id=profile.id
        )

    assert_error(caught.value, status=400, code="40325")


@pytest.mark.parametrize("missing", ["text", "messaging_profile_id", "from"])
def test_alphanumeric_send_without_a_required_field_is_refused(server: Server, make_profile, missing: str) -> None:
    profile = make_profile()
    body = {"from": "Acme", "to": german_mobile(), "text": "x", "messaging_profile_id": profile.id}
    del body[missing]

    response = server.http().post("/v2/messages/alphanumeric_sender_id", json=body)

    assert_error(response, status=422, code="10004", pointer=f"/{missing}")


def test_deleting_a_profile_deletes_its_sender_ids(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile()
    record = client.alphanumeric_sender_ids.create(
        alphanumeric_sender_id=sender_name(), messaging_profile_id=profile.id
    ).data
    assert record is not None and record.id is not None

    client.messaging_profiles.delete(profile.id)

    with pytest.raises(telnyx.NotFoundError):
        client.alphanumeric_sender_ids.retrieve(record.id)
    assert record.id not in {s.id for s in client.alphanumeric_sender_ids.list(page_size=250)}


# --- long codes and short codes ------------------------------------------------------------------


@pytest.fixture(scope="module")
def short_code(server: Server) -> dict[str, Any]:
    """One short code on its own profile, shared by the short-code tests of this module."""
    profile = server.client().messaging_profiles.create(name=unique_name("sc"), whitelisted_destinations=["*"]).data
    assert profile is not None
    code = str(_rng.randint(100_000, 999_999))
    created = server.cli_json("numbers", "add", code, "--type", "short-code", "--profile", profile.id)
    assert created["number"] == code
    return {"code": code, "profile_id": profile.id}


def test_send_long_code_refuses_a_short_code(client: telnyx.Telnyx, short_code: dict[str, Any]) -> None:
    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send_long_code(from_=short_code["code"], to=new_handset(), text="nope")

    assert_error(caught.value, status=400, code="40305", pointer="/from")


def test_send_short_code_refuses_a_long_code(client: telnyx.Telnyx, sender) -> None:
    _, number = sender()

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send_short_code(from_=number, to=new_handset(), text="nope")

    assert_error(caught.value, status=400, code="40305", pointer="/from")


def test_send_short_code_from_a_real_short_code(client: telnyx.Telnyx, short_code: dict[str, Any]) -> None:
    to = new_handset()

    message = client.messages.send_short_code(from_=short_code["code"], to=to, text="From a short code").data

    assert message is not None and message.id is not None
    assert message.from_ is not None and message.from_.phone_number == short_code["code"]
    assert message.messaging_profile_id == short_code["profile_id"]
    assert message.to is not None and message.to[0].phone_number == to
    delivered = final(client, message.id, "delivered")
    assert delivered.from_.phone_number == short_code["code"]


def test_send_long_code_from_a_toll_free_number(client: telnyx.Telnyx, make_profile, order_numbers) -> None:
    profile = make_profile()
    number = new_toll_free()
    order_numbers(number, profile_id=profile.id)

    message = client.messages.send_long_code(from_=number, to=new_handset(), text="toll-free").data

    assert message is not None and message.from_ is not None
    assert message.from_.phone_number == number
    assert message.messaging_profile_id == profile.id


# --- number pool (messages.md §11) ---------------------------------------------------------------


def _pool_profile(make_profile, order_numbers, numbers: list[str], **settings: Any) -> Any:
    pool = {"long_code_weight": 1, "toll_free_weight": 1, "skip_unhealthy": False, **settings}
    profile = make_profile(number_pool_settings=pool)
    order_numbers(*numbers, profile_id=profile.id)
    return profile


def _pool_senders(client: telnyx.Telnyx, profile_id: str, recipients: list[str]) -> list[str]:
    chosen = []
    for to in recipients:
        message = client.messages.send_number_pool(messaging_profile_id=profile_id, to=to, text="pool").data
        assert message is not None and message.from_ is not None and message.from_.phone_number
        assert message.messaging_profile_id == profile_id
        chosen.append(message.from_.phone_number)
    return chosen


def test_number_pool_on_a_profile_without_pool_is_refused(client: telnyx.Telnyx, sender) -> None:
    profile, _ = sender()

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send_number_pool(messaging_profile_id=profile.id, to=new_handset(), text="pool")

    assert_error(caught.value, status=400, code="40321")


def test_number_pool_with_no_numbers_is_refused(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile(number_pool_settings={"long_code_weight": 1, "toll_free_weight": 1, "skip_unhealthy": False})

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send_number_pool(messaging_profile_id=profile.id, to=new_handset(), text="pool")

    assert_error(caught.value, status=400, code="40321")


def test_toll_free_weight_zero_always_picks_a_long_code(client: telnyx.Telnyx, make_profile, order_numbers) -> None:
    long_code, toll_free = new_long_code(), [new_toll_free(), new_toll_free()]
    profile = _pool_profile(
        make_profile, order_numbers, [long_code, *toll_free], long_code_weight=1, toll_free_weight=0
    )

    chosen = _pool_senders(client, profile.id, [new_handset() for _ in range(6)])

    assert chosen == [long_code] * 6


def test_long_code_weight_zero_always_picks_toll_free(client: telnyx.Telnyx, make_profile, order_numbers) -> None:
    long_codes, toll_free = [new_long_code(), new_long_code()], new_toll_free()
    profile = _pool_profile(
        make_profile, order_numbers, [*long_codes, toll_free], long_code_weight=0, toll_free_weight=1
    )

    chosen = _pool_senders(client, profile.id, [new_handset() for _ in range(6)])

    assert chosen == [toll_free] * 6


def test_sticky_sender_keeps_the_same_number_for_a_recipient(
    client: telnyx.Telnyx, make_profile, order_numbers
) -> None:
    numbers = [new_long_code(), new_long_code(), new_toll_free(), new_toll_free()]
    profile = _pool_profile(make_profile, order_numbers, numbers, sticky_sender=True)
    recipient = new_handset()

    chosen = _pool_senders(client, profile.id, [recipient] * 6)

    assert chosen[0] in numbers
    # four candidates: without stickiness six equal picks would be a 1-in-1024 accident
    assert chosen == [chosen[0]] * 6


def test_sticky_sender_applies_to_post_messages_without_from(
    client: telnyx.Telnyx, make_profile, order_numbers
) -> None:
    numbers = [new_long_code(), new_long_code(), new_long_code(), new_long_code()]
    profile = _pool_profile(make_profile, order_numbers, numbers, sticky_sender=True)
    recipient = new_handset()

    first = _pool_senders(client, profile.id, [recipient])[0]
    again = [
        client.messages.send(to=recipient, text="sticky", messaging_profile_id=profile.id).data.from_.phone_number  # type: ignore[union-attr]
        for _ in range(5)
    ]

    assert again == [first] * 5


def test_sticky_sender_moves_on_when_its_number_leaves_the_profile(
    client: telnyx.Telnyx,
    make_profile,
    order_numbers,
) -> None:
    numbers = [new_long_code(), new_long_code(), new_long_code()]
    profile = _pool_profile(make_profile, order_numbers, numbers, sticky_sender=True)
    recipient = new_handset()
    first = _pool_senders(client, profile.id, [recipient])[0]

    client.phone_numbers.messaging.update(first, messaging_profile_id="")
    after = _pool_senders(client, profile.id, [recipient] * 4)

    assert after[0] != first and after[0] in numbers
    assert after == [after[0]] * 4  # and the new choice sticks


def test_skip_unhealthy_avoids_a_number_whose_messages_fail(
    client: telnyx.Telnyx,
    make_profile,
    order_numbers,
) -> None:
    failing, healthy = new_long_code(), new_long_code()
    profile = _pool_profile(make_profile, order_numbers, [failing, healthy], toll_free_weight=0, skip_unhealthy=True)
    doomed = [
        client.messages.send(from_=failing, to="+15005550001", text="will fail").data.id  # type: ignore[union-attr]
        for _ in range(3)
    ]
    for message_id in doomed:
        final(client, message_id, "delivery_failed")  # type: ignore[arg-type]

    chosen = _pool_senders(client, profile.id, [new_handset() for _ in range(5)])

    assert chosen == [healthy] * 5


def test_number_health_reports_what_skip_unhealthy_acts_on(client: telnyx.Telnyx, sender) -> None:
    """profiles-and-numbers.md §3: `health` is computed from the number's recent messages, and is what
    the pool's `skip_unhealthy` uses; a user must be able to see why a number was skipped."""
    _, number = sender()
    doomed = [
        client.messages.send(from_=number, to="+15005550001", text="will fail").data.id  # type: ignore[union-attr]
        for _ in range(3)
    ]
    for message_id in doomed:
        final(client, message_id, "delivery_failed")  # type: ignore[arg-type]

    health = client.phone_numbers.messaging.retrieve(number).data.health  # type: ignore[union-attr]

    assert health is not None
    assert health.message_count == 3
    assert health.success_ratio < 0.25


def test_geomatch_prefers_the_recipients_area_code(client: telnyx.Telnyx, make_profile, order_numbers) -> None:
    chicago, san_francisco, new_york = nanp("312"), nanp("415"), nanp("646")
    profile = _pool_profile(
        make_profile,
        order_numbers,
        [chicago, san_francisco, new_york],
        long_code_weight=1,
        toll_free_weight=0,
        geomatch=True,
    )

    to_sf = _pool_senders(client, profile.id, [nanp("415") for _ in range(4)])
    to_ny = _pool_senders(client, profile.id, [nanp("646") for _ in range(4)])
    to_elsewhere = _pool_senders(client, profile.id, [nanp("206") for _ in range(3)])

    assert to_sf == [san_francisco] * 4
    assert to_ny == [new_york] * 4
    # no local number for Seattle: any long code of the pool will do
    assert set(to_elsewhere) <= {chicago, san_francisco, new_york}


# --- group MMS (messages.md §13) -----------------------------------------------------------------


def test_group_mms_to_eight_recipients(client: telnyx.Telnyx, sender) -> None:
    profile, number = sender()
    recipients = [new_handset() for _ in range(8)]

    group = client.messages.send_group_mms(from_=number, to=recipients, text="Hello group", subject="Party").data

    assert group is not None and group.id is not None
    assert UUID.match(group.id)
    assert group.type == "MMS"
    assert group.messaging_profile_id == profile.id
    assert group.from_ is not None and group.from_.phone_number == number
    assert [t.phone_number for t in group.to or []] == recipients
    assert {t.status for t in group.to or []} == {"queued"}
    assert (group.model_extra or {}).get("group_message_id") == group.id

    children = client.messages.retrieve_group_messages(group.id).data or []

    assert len(children) == 8
    assert sorted(c.to[0].phone_number for c in children) == sorted(recipients)  # type: ignore[index]
    assert len({c.id for c in children}) == 8 and group.id not in {c.id for c in children}
    for child in children:
        assert (child.model_extra or {}).get("group_message_id") == group.id
        assert child.type == "MMS"
        assert child.text == "Hello group" and child.subject == "Party"
        assert child.to is not None and len(child.to) == 1
        assert child.from_ is not None and child.from_.phone_number == number
        assert client.messages.retrieve(child.id).data.id == child.id  # type: ignore[arg-type,union-attr]

    def all_delivered() -> bool:
        return all(c.to[0].status == "delivered" for c in client.messages.retrieve_group_messages(group.id).data)  # type: ignore[index,union-attr]

    eventually(all_delivered, timeout=30, message="not every group member got the message")


def test_group_mms_to_a_single_recipient(client: telnyx.Telnyx, sender) -> None:
    _, number = sender()
    to = new_handset()

    group = client.messages.send_group_mms(from_=number, to=[to], text="Just you").data

    assert group is not None and group.id is not None
    assert [t.phone_number for t in group.to or []] == [to]
    children = client.messages.retrieve_group_messages(group.id).data or []
    assert [c.to[0].phone_number for c in children] == [to]  # type: ignore[index]


def test_group_mms_to_nine_recipients_is_refused(client: telnyx.Telnyx, sender) -> None:
    _, number = sender()

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messages.send_group_mms(from_=number, to=[new_handset() for _ in range(9)], text="too many")

    assert_error(caught.value, status=422, code="10033", pointer="/to")


def test_group_mms_outside_us_and_canada_is_refused(client: telnyx.Telnyx, sender) -> None:
    _, number = sender()

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send_group_mms(from_=number, to=[new_handset(), german_mobile()], text="abroad")

    entry = assert_error(caught.value, status=400, code=caught.value.body["errors"][0]["code"])  # type: ignore[index]
    assert entry["code"] in ("40309", "40319"), entry


def test_retrieve_group_of_unknown_id_is_not_found(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.NotFoundError) as caught:
        client.messages.retrieve_group_messages(MISSING)

    assert_error(caught.value, status=404, code="40303")


# --- scheduling (README §11 items 1–2: non-strict client for the scheduled/cancelled answers) -----


def test_schedule_then_cancel(client: telnyx.Telnyx, lax_client: telnyx.Telnyx, sender) -> None:
    _, number = sender()
    when = _in(30).replace(microsecond=0)

    scheduled = lax_client.messages.schedule(from_=number, to=new_handset(), text="later", send_at=when).data

    assert scheduled is not None and scheduled.id is not None and scheduled.to is not None
    assert scheduled.to[0].status == "scheduled"
    assert scheduled.sent_at is None
    fetched = lax_client.messages.retrieve(scheduled.id).data
    assert fetched is not None and fetched.to is not None and fetched.to[0].status == "scheduled"

    cancelled = client.messages.cancel_scheduled(scheduled.id)

    assert cancelled.id == scheduled.id
    assert cancelled.to is not None and cancelled.to[0].status == "cancelled"
    after = lax_client.messages.retrieve(scheduled.id).data
    assert after is not None and after.to is not None and after.to[0].status == "cancelled"


@pytest.mark.parametrize("minutes", [4, 0.5])
def test_schedule_less_than_five_minutes_ahead_is_refused(
    lax_client: telnyx.Telnyx,
    sender,
    minutes: float,
) -> None:
    _, number = sender()

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        lax_client.messages.schedule(from_=number, to=new_handset(), text="soon", send_at=_in(minutes))

    assert_error(caught.value, status=422, code="10033", pointer="/send_at")


def test_cancelling_a_sent_message_is_forbidden(client: telnyx.Telnyx, sender) -> None:
    _, number = sender()
    sent = client.messages.send(from_=number, to=new_handset(), text="gone already").data
    assert sent is not None and sent.id is not None
    final(client, sent.id, "delivered")

    with pytest.raises(telnyx.PermissionDeniedError) as caught:
        client.messages.cancel_scheduled(sent.id)

    assert_error(caught.value, status=403, code="10015")
    assert _status_of(client, sent.id).to[0].status == "delivered"


# --- smart encoding (messages.md §8.3–§8.4) ------------------------------------------------------

CURLY = "\u201cHello\u201d \u2014 it\u2019s me"


def test_smart_encoding_sends_curly_quotes_as_gsm7(client: telnyx.Telnyx, sender) -> None:
    _, number = sender(smart_encoding=True)

    message = client.messages.send(from_=number, to=new_handset(), text=CURLY).data

    assert message is not None and message.id is not None
    assert message.encoding == "GSM-7"
    assert message.parts == 1
    assert message.smart_encoding_applied is True
    assert message.text == CURLY
    assert client.messages.retrieve(message.id).data.text == CURLY  # type: ignore[union-attr]


def test_without_smart_encoding_curly_quotes_need_ucs2(client: telnyx.Telnyx, sender) -> None:
    _, number = sender(smart_encoding=False)

    message = client.messages.send(from_=number, to=new_handset(), text=CURLY).data

    assert message is not None
    assert message.encoding == "UCS-2"
    assert message.smart_encoding_applied is False
    assert message.text == CURLY


def test_encoding_ucs2_overrides_smart_encoding(client: telnyx.Telnyx, sender) -> None:
    _, number = sender(smart_encoding=True)

    message = client.messages.send(from_=number, to=new_handset(), text=CURLY, encoding="ucs2").data

    assert message is not None
    assert message.encoding == "UCS-2"
    assert message.smart_encoding_applied is False
    assert message.text == CURLY


def test_smart_encoding_counts_parts_after_substitution(client: telnyx.Telnyx, sender) -> None:
    _, number = sender(smart_encoding=True)
    text = "\u2019" * 160  # 160 right quotes: 3 UCS-2 parts as written, one GSM-7 part after substitution

    message = client.messages.send(from_=number, to=new_handset(), text=text).data

    assert message is not None
    assert (message.encoding, message.parts, message.smart_encoding_applied) == ("GSM-7", 1, True)
    assert message.text == text


def test_encoding_gsm7_substitutes_even_without_smart_encoding(client: telnyx.Telnyx, sender) -> None:
    _, number = sender(smart_encoding=False)

    message = client.messages.send(from_=number, to=new_handset(), text=CURLY, encoding="gsm7").data

    assert message is not None
    assert (message.encoding, message.smart_encoding_applied) == ("GSM-7", True)
    assert message.text == CURLY


def test_encoding_gsm7_with_characters_gsm7_cannot_carry_is_refused(client: telnyx.Telnyx, sender) -> None:
    _, number = sender(smart_encoding=True)

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send(from_=number, to=new_handset(), text="Hi \N{GRINNING FACE}", encoding="gsm7")

    assert_error(caught.value, status=400, code="10015", pointer="/text")


def test_text_empty_after_smart_encoding_is_refused(client: telnyx.Telnyx, sender) -> None:
    _, number = sender(smart_encoding=True)

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send(from_=number, to=new_handset(), text="\u200b\u2060")

    assert_error(caught.value, status=400, code="40316", pointer="/text")


def test_smart_encoding_leaves_mms_text_alone(client: telnyx.Telnyx, sender) -> None:
    _, number = sender(smart_encoding=True)

    message = client.messages.send(from_=number, to=new_handset(), text=CURLY, type="MMS").data

    assert message is not None
    assert message.type == "MMS"
    assert message.smart_encoding_applied is False
    assert message.text == CURLY


# --- MMS media fetched from a local server (messages.md §14) -------------------------------------


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)  # 2x2 RGB
    pixels = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b"")


PNG = _png()


@pytest.fixture(scope="module")
def media_server() -> Iterator[str]:
    """A local web server: /pixel.png is a small PNG, everything else is 404."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/pixel.png":
                self.send_response(200)
                self.send_header("content-type", "image/png")
                self.send_header("content-length", str(len(PNG)))
                self.end_headers()
                self.wfile.write(PNG)
            else:
                self.send_response(404)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", "9")
                self.end_headers()
                self.wfile.write(b"not found")

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_mms_media_is_fetched_and_described(client: telnyx.Telnyx, sender, media_server: str) -> None:
    _, number = sender()
    url = media_server + "/pixel.png"

    message = client.messages.send(from_=number, to=new_handset(), text="a pixel", media_urls=[url]).data
    assert message is not None and message.id is not None
    assert message.type == "MMS"
    assert [m.url for m in message.media or []] == [url]

    delivered = final(client, message.id, "delivered")

    media = delivered.media[0]
    assert media.url == url
    assert media.size == len(PNG)
    assert media.sha256 == hashlib.sha256(PNG).hexdigest()
    assert media.content_type == "image/png"
    assert delivered.errors == []


def test_mms_with_missing_media_fails_with_40009(client: telnyx.Telnyx, sender, media_server: str) -> None:
    _, number = sender()

    message = client.messages.send(
        from_=number, to=new_handset(), text="nothing there", media_urls=[media_server + "/missing.png"]
    ).data
    assert message is not None and message.id is not None

    failed = final(client, message.id, "sending_failed")

    assert [e.code for e in failed.errors or []] == ["40009"]
    assert all(e.title for e in failed.errors or [])
    assert failed.completed_at is not None

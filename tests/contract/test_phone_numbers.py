"""Phone-number messaging settings through the official SDK (spec profiles-and-numbers.md §3)."""

from __future__ import annotations

import pytest
import telnyx
from contract_support import DIGITS, assert_error, new_handset, new_long_code, new_toll_free
from support import Server


def test_list_shows_the_bootstrapped_numbers_with_their_settings(client: telnyx.Telnyx, server: Server) -> None:
    page = client.phone_numbers.messaging.list(filter_messaging_profile_id=server.profile_id)
    by_number = {n.phone_number: n for n in page.data}

    assert {server.long_code, server.toll_free} <= set(by_number)
    long_code, toll_free = by_number[server.long_code], by_number[server.toll_free]
    assert (long_code.type, toll_free.type) == ("longcode", "tollfree")
    for number in (long_code, toll_free):
        assert number.record_type == "messaging_settings"
        assert DIGITS.match(number.id or "")
        assert number.messaging_profile_id == server.profile_id
        assert number.organization_id == server.info["organization_id"]
        assert number.country_code == "US"
        assert number.messaging_product in (number.eligible_messaging_products or [])
        assert number.traffic_type
        assert number.tags == []
        assert number.features is not None and number.features.sms is not None
        assert number.features.sms.domestic_two_way is True
        assert number.health is not None and number.health.message_count >= 0
        assert number.created_at is not None and number.updated_at is not None


def test_filter_by_type(client: telnyx.Telnyx, make_profile, order_numbers) -> None:
    profile = make_profile()
    long_code, toll_free = new_long_code(), new_toll_free()
    order_numbers(long_code, toll_free, profile_id=profile.id)

    toll_free_only = client.phone_numbers.messaging.list(filter_messaging_profile_id=profile.id, filter_type="tollfree")
    long_code_only = client.phone_numbers.messaging.list(filter_messaging_profile_id=profile.id, filter_type="longcode")
    everything = client.phone_numbers.messaging.list(filter_type="tollfree", page_size=250)

    assert [n.phone_number for n in toll_free_only.data] == [toll_free]
    assert [n.phone_number for n in long_code_only.data] == [long_code]
    assert all(n.type == "tollfree" for n in everything.data)


def test_filter_by_unknown_type_is_refused(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.phone_numbers.messaging.list(extra_query={"filter[type]": "landline"})

    assert_error(caught.value, status=422, code="10032", parameter="filter[type]")


def test_filter_by_exact_phone_number_and_list(client: telnyx.Telnyx, order_numbers) -> None:
    first, second, third = new_long_code(), new_long_code(), new_long_code()
    order_numbers(first, second, third)

    one = client.phone_numbers.messaging.list(filter_phone_number=first)
    two = client.phone_numbers.messaging.list(filter_phone_number=f"{first},{third}")

    assert [n.phone_number for n in one.data] == [first]
    assert one.meta is not None and one.meta.total_pages == 1
    assert sorted(n.phone_number for n in two.data) == sorted([first, third])


def test_filter_by_phone_number_substring(client: telnyx.Telnyx, order_numbers) -> None:
    number = new_long_code()
    order_numbers(number)

    page = client.phone_numbers.messaging.list(filter_phone_number_contains=number[-8:])

    assert number in [n.phone_number for n in page.data]
    assert all(number[-8:] in n.phone_number for n in page.data)


def test_sort_by_phone_number(client: telnyx.Telnyx, make_profile, order_numbers) -> None:
    profile = make_profile()
    numbers = [new_long_code(), new_toll_free(), new_long_code()]
    order_numbers(*numbers, profile_id=profile.id)

    ascending = client.phone_numbers.messaging.list(filter_messaging_profile_id=profile.id, sort_phone_number="asc")
    descending = client.phone_numbers.messaging.list(filter_messaging_profile_id=profile.id, sort_phone_number="desc")

    assert [n.phone_number for n in ascending.data] == sorted(numbers)
    assert [n.phone_number for n in descending.data] == sorted(numbers, reverse=True)


def test_list_pages_by_page_size(client: telnyx.Telnyx, make_profile, order_numbers) -> None:
    profile = make_profile()
    numbers = [new_long_code() for _ in range(5)]
    order_numbers(*numbers, profile_id=profile.id)

    first = client.phone_numbers.messaging.list(filter_messaging_profile_id=profile.id, page_size=2)
    walked = list(client.phone_numbers.messaging.list(filter_messaging_profile_id=profile.id, page_size=2))

    assert len(first.data) == 2
    assert first.meta is not None and (first.meta.page_number, first.meta.total_pages) == (1, 3)
    assert sorted(n.phone_number for n in walked) == sorted(numbers)


def test_retrieve_by_e164_and_by_id(client: telnyx.Telnyx, server: Server) -> None:
    by_number = client.phone_numbers.messaging.retrieve(server.long_code).data
    assert by_number.id is not None

    by_id = client.phone_numbers.messaging.retrieve(by_number.id).data

    assert by_number.phone_number == server.long_code
    assert by_id.model_dump() == by_number.model_dump()


@pytest.mark.parametrize("number_id", ["+12065550000", "1234567890123456789", "garbage"])
def test_retrieve_unknown_number_is_not_found(client: telnyx.Telnyx, number_id: str) -> None:
    with pytest.raises(telnyx.NotFoundError) as caught:
        client.phone_numbers.messaging.retrieve(number_id)

    assert_error(caught.value, status=404, code="10005")


def test_assign_and_unassign_a_profile(client: telnyx.Telnyx, make_profile, order_numbers) -> None:
    profile = make_profile()
    number = new_long_code()
    before = order_numbers(number)
    assert client.phone_numbers.messaging.retrieve(number).data.messaging_profile_id is None
    assert before.phone_numbers is not None

    assigned = client.phone_numbers.messaging.update(number, messaging_profile_id=profile.id).data
    listed = [n.phone_number for n in client.messaging_profiles.list_phone_numbers(profile.id).data]
    unassigned = client.phone_numbers.messaging.update(number, messaging_profile_id="").data

    assert assigned.messaging_profile_id == profile.id
    assert listed == [number]
    assert unassigned.messaging_profile_id is None
    assert client.phone_numbers.messaging.retrieve(number).data.messaging_profile_id is None
    assert client.messaging_profiles.list_phone_numbers(profile.id).data == []


def test_update_by_id_keeps_omitted_fields(client: telnyx.Telnyx, make_profile, order_numbers) -> None:
    profile = make_profile()
    number = new_long_code()
    order_numbers(number, profile_id=profile.id)
    current = client.phone_numbers.messaging.retrieve(number).data
    assert current.id is not None

    updated = client.phone_numbers.messaging.update(current.id, tags=["sales", "east"]).data
    retagged = client.phone_numbers.messaging.update(current.id, tags=["west"]).data

    assert updated.messaging_profile_id == profile.id
    assert updated.tags == ["sales", "east"]
    assert retagged.tags == ["west"]
    assert retagged.messaging_profile_id == profile.id
    assert updated.updated_at is not None and current.updated_at is not None
    assert updated.updated_at > current.updated_at


def test_null_profile_keeps_the_assignment(client: telnyx.Telnyx, make_profile, order_numbers) -> None:
    profile = make_profile()
    number = new_long_code()
    order_numbers(number, profile_id=profile.id)

    updated = client.phone_numbers.messaging.update(number, extra_body={"messaging_profile_id": None}).data

    assert updated.messaging_profile_id == profile.id


def test_number_tags_travel_on_its_messages(client: telnyx.Telnyx, sender) -> None:
    _, number = sender()
    client.phone_numbers.messaging.update(number, tags=["campaign-7"])

    message = client.messages.send(from_=number, to=new_handset(), text="tagged").data

    assert message is not None and message.tags == ["campaign-7"]


def test_update_messaging_product(client: telnyx.Telnyx, order_numbers) -> None:
    number = new_long_code()
    order_numbers(number)

    updated = client.phone_numbers.messaging.update(number, messaging_product="P2P").data

    assert updated.messaging_product == "P2P"
    assert client.phone_numbers.messaging.retrieve(number).data.messaging_product == "P2P"


def test_update_to_an_ineligible_messaging_product_is_refused(client: telnyx.Telnyx, order_numbers) -> None:
    number = new_long_code()
    order_numbers(number)

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.phone_numbers.messaging.update(number, messaging_product="NOT-A-PRODUCT")

    assert_error(caught.value, status=422, code="40324", pointer="/messaging_product")


def test_assigning_an_unknown_profile_is_refused(client: telnyx.Telnyx, make_profile, order_numbers) -> None:
    profile = make_profile()
    number = new_long_code()
    order_numbers(number, profile_id=profile.id)

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.phone_numbers.messaging.update(number, messaging_profile_id="00000000-0000-4000-8000-000000000000")

    assert_error(caught.value, status=422, code="10017", pointer="/messaging_profile_id")
    assert client.phone_numbers.messaging.retrieve(number).data.messaging_profile_id == profile.id


def test_update_with_wrong_types_is_refused(client: telnyx.Telnyx, order_numbers) -> None:
    number = new_long_code()
    order_numbers(number)

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.phone_numbers.messaging.update(number, extra_body={"tags": "vip"})

    assert_error(caught.value, status=422, code="10026", pointer="/tags")


def test_update_unknown_number_is_not_found(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.NotFoundError) as caught:
        client.phone_numbers.messaging.update("+12065550000", tags=["x"])

    assert_error(caught.value, status=404, code="10005")

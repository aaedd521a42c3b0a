"""Number orders through the official SDK (spec profiles-and-numbers.md §6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import telnyx
from contract_support import UUID, assert_error, new_long_code, new_toll_free, unique_name
from support import Server, eventually


def test_create_hands_out_the_numbers(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile()
    long_code, toll_free = new_long_code(), new_toll_free()
    reference = unique_name("ref")

    order = client.number_orders.create(
        phone_numbers=[{"phone_number": long_code}, {"phone_number": toll_free, "bundle_id": "bundle-1"}],
        messaging_profile_id=profile.id,
        customer_reference=reference,
        billing_group_id="billing-1",
        connection_id="connection-1",
    ).data

    assert order.record_type == "number_order"
    assert UUID.match(order.id or "")
    assert order.status in ("pending", "success")
    assert order.phone_numbers_count == 2
    assert order.messaging_profile_id == profile.id
    assert order.customer_reference == reference
    assert order.billing_group_id == "billing-1"
    assert order.connection_id == "connection-1"
    assert order.requirements_met is True
    assert order.sub_number_orders_ids
    assert order.created_at is not None and order.updated_at is not None
    entries = {n.phone_number: n for n in order.phone_numbers or []}
    assert set(entries) == {long_code, toll_free}
    assert entries[long_code].phone_number_type == "local"
    assert entries[toll_free].phone_number_type == "toll_free"
    assert entries[toll_free].bundle_id == "bundle-1"
    for entry in entries.values():
        assert UUID.match(entry.id or "")
        assert entry.record_type == "number_order_phone_number"
        assert entry.status in ("pending", "success")
        assert entry.country_code == "US" and entry.country_iso_alpha2 == "US"
        assert entry.regulatory_requirements == []
        assert entry.requirements_met is True
        assert entry.requirements_status == "approved"


def test_completed_order_numbers_are_yours_and_on_the_profile(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile()
    number = new_long_code()
    order = client.number_orders.create(phone_numbers=[{"phone_number": number}], messaging_profile_id=profile.id).data
    assert order.id is not None

    done = eventually(lambda: (o := client.number_orders.retrieve(order.id).data).status == "success" and o)
    settings = client.phone_numbers.messaging.retrieve(number).data

    assert all(n.status == "success" for n in done.phone_numbers or [])
    assert settings.messaging_profile_id == profile.id
    assert settings.type == "longcode"
    assert [n.phone_number for n in client.messaging_profiles.list_phone_numbers(profile.id).data] == [number]


def test_order_without_profile_leaves_numbers_unassigned(client: telnyx.Telnyx) -> None:
    number = new_toll_free()

    order = client.number_orders.create(phone_numbers=[{"phone_number": number}]).data

    assert order.messaging_profile_id is None
    assert client.phone_numbers.messaging.retrieve(number).data.messaging_profile_id is None


def test_retrieve_returns_the_order(client: telnyx.Telnyx, order_numbers) -> None:
    order = order_numbers(new_long_code(), customer_reference=unique_name("ref"))
    assert order.id is not None

    fetched = client.number_orders.retrieve(order.id).data

    assert fetched.id == order.id
    assert fetched.customer_reference == order.customer_reference
    assert fetched.created_at == order.created_at
    assert [n.phone_number for n in fetched.phone_numbers or []] == [n.phone_number for n in order.phone_numbers or []]


@pytest.mark.parametrize("order_id", ["00000000-0000-4000-8000-000000000000", "not-an-order"])
def test_retrieve_unknown_order_is_not_found(client: telnyx.Telnyx, order_id: str) -> None:
    with pytest.raises(telnyx.NotFoundError) as caught:
        client.number_orders.retrieve(order_id)

    assert_error(caught.value, status=404, code="10005")


def test_list_filters_by_customer_reference_and_pages(client: telnyx.Telnyx, server: Server, order_numbers) -> None:
    reference = unique_name("batch")
    orders = [order_numbers(new_long_code(), customer_reference=reference) for _ in range(3)]
    two_numbers = order_numbers(new_long_code(), new_toll_free(), customer_reference=reference)
    ids = [o.id for o in [*orders, two_numbers]]

    first = client.number_orders.list(filter={"customer_reference": reference}, page_size=3)
    walked = {o.id: o for o in client.number_orders.list(filter={"customer_reference": reference}, page_size=3)}
    raw = server.http().get("/v2/number_orders", params={"filter[customer_reference]": reference, "page[size]": 3})

    assert sorted(walked) == sorted(ids)
    assert len(first.data) == 3
    assert raw.json()["meta"] == {"page_number": 1, "page_size": 3, "total_pages": 2, "total_results": 4}
    item = walked[two_numbers.id]
    assert item.record_type == "number_order"
    assert item.phone_numbers_count == 2
    assert {n.phone_number for n in item.phone_numbers or []} == {
        n.phone_number for n in two_numbers.phone_numbers or []
    }


def test_list_items_carry_only_id_and_number(server: Server, order_numbers) -> None:
    reference = unique_name("shape")
    order = order_numbers(new_long_code(), customer_reference=reference)

    raw = server.http().get("/v2/number_orders", params={"filter[customer_reference]": reference}).json()

    assert [o["id"] for o in raw["data"]] == [order.id]
    assert [set(n) for n in raw["data"][0]["phone_numbers"]] == [{"id", "phone_number"}]


def test_list_filters_by_status_and_created_at(client: telnyx.Telnyx, order_numbers) -> None:
    reference = unique_name("when")
    order = order_numbers(new_long_code(), customer_reference=reference)
    eventually(lambda: client.number_orders.retrieve(order.id).data.status == "success")
    hour = timedelta(hours=1)
    now = datetime.now(UTC)

    def ids(**filters: object) -> list[str | None]:
        return [o.id for o in client.number_orders.list(filter={"customer_reference": reference, **filters})]

    assert ids(status="success") == [order.id]
    assert ids(status="failure") == []
    assert ids(created_at={"gt": (now - hour).isoformat()}) == [order.id]
    assert ids(created_at={"lt": (now - hour).isoformat()}) == []


def test_list_filters_by_phone_numbers_count(client: telnyx.Telnyx, server: Server, order_numbers) -> None:
    reference = unique_name("count")
    single = [order_numbers(new_long_code(), customer_reference=reference) for _ in range(3)]
    double = order_numbers(new_long_code(), new_long_code(), customer_reference=reference)

    pairs = client.number_orders.list(filter={"customer_reference": reference, "phone_numbers_count": "2"})
    ones = client.number_orders.list(filter={"customer_reference": reference, "phone_numbers_count": "1"}, page_size=2)
    raw = server.http().get(
        "/v2/number_orders",
        params={"filter[customer_reference]": reference, "filter[phone_numbers_count]": "1"},
    )

    assert [o.id for o in pairs.data] == [double.id]
    assert pairs.meta is not None and pairs.meta.total_pages == 1
    assert len(ones.data) == 2
    assert sorted(
        o.id
        for o in client.number_orders.list(
            filter={"customer_reference": reference, "phone_numbers_count": "1"}, page_size=2
        )
    ) == sorted(o.id for o in single)
    assert raw.json()["meta"]["total_results"] == 3


def test_update_customer_reference(client: telnyx.Telnyx, order_numbers) -> None:
    order = order_numbers(new_long_code(), customer_reference="before")
    assert order.id is not None
    reference = unique_name("after")

    updated = client.number_orders.update(order.id, customer_reference=reference).data

    assert updated.id == order.id
    assert updated.customer_reference == reference
    assert updated.phone_numbers_count == 1
    assert client.number_orders.retrieve(order.id).data.customer_reference == reference
    assert [o.id for o in client.number_orders.list(filter={"customer_reference": reference})] == [order.id]


def test_update_unknown_order_is_not_found(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.NotFoundError) as caught:
        client.number_orders.update("00000000-0000-4000-8000-000000000000", customer_reference="x")

    assert_error(caught.value, status=404, code="10005")


# --- refusals ------------------------------------------------------------------------------------


def test_number_already_held_is_not_available(client: telnyx.Telnyx, server: Server) -> None:
    fresh = new_long_code()

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.number_orders.create(phone_numbers=[{"phone_number": fresh}, {"phone_number": server.long_code}])

    assert_error(caught.value, status=422, code="85001")
    # the order is all or nothing: the available number was not handed out either
    with pytest.raises(telnyx.NotFoundError):
        client.phone_numbers.messaging.retrieve(fresh)


def test_number_held_by_another_organization_is_not_available(
    client: telnyx.Telnyx, other_client: telnyx.Telnyx, server: Server
) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        other_client.number_orders.create(phone_numbers=[{"phone_number": server.toll_free}])

    assert_error(caught.value, status=422, code="85001", pointer="/phone_numbers/0/phone_number")
    assert client.phone_numbers.messaging.retrieve(server.toll_free).data.messaging_profile_id == server.profile_id


def test_ordering_the_same_number_twice_is_refused(client: telnyx.Telnyx, order_numbers) -> None:
    number = new_long_code()
    order_numbers(number)

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.number_orders.create(phone_numbers=[{"phone_number": number}])

    assert_error(caught.value, status=422, code="85001")


@pytest.mark.parametrize("number", ["3125550123", "+1312", "+1-312-555-0123", "not a number"])
def test_invalid_phone_number_is_refused(client: telnyx.Telnyx, number: str) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.number_orders.create(phone_numbers=[{"phone_number": new_long_code()}, {"phone_number": number}])

    assert_error(caught.value, status=422, code="10016", pointer="/phone_numbers/1/phone_number")


@pytest.mark.parametrize("phone_numbers", [telnyx.omit, []])
def test_order_without_numbers_is_refused(client: telnyx.Telnyx, phone_numbers: object) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.number_orders.create(phone_numbers=phone_numbers)  # type: ignore[arg-type]

    assert_error(caught.value, status=422, code="10004", pointer="/phone_numbers")


def test_order_onto_unknown_profile_is_refused(client: telnyx.Telnyx) -> None:
    number = new_long_code()

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.number_orders.create(
            phone_numbers=[{"phone_number": number}],
            messaging_profile_id="00000000-0000-4000-8000-000000000000",
        )

    assert_error(caught.value, status=422, code="85005", pointer="/messaging_profile_id")
    with pytest.raises(telnyx.NotFoundError):
        client.phone_numbers.messaging.retrieve(number)


def test_order_with_wrong_types_is_refused(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.number_orders.create(phone_numbers=[{"phone_number": new_long_code()}], customer_reference=12)  # type: ignore[arg-type]

    assert_error(caught.value, status=422, code="10026", pointer="/customer_reference")

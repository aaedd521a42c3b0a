"""Short codes through the official SDK (spec profiles-and-numbers.md §4). They are provisioned with
`heliograph numbers add`, since the API has no create endpoint."""

from __future__ import annotations

import pytest
import telnyx
from contract_support import UUID, assert_error
from support import Server


def test_retrieve_a_short_code(client: telnyx.Telnyx, make_profile, add_short_code) -> None:
    profile = make_profile()
    added = add_short_code(profile.id)

    code = client.short_codes.retrieve(added["id"]).data

    assert code.record_type == "short_code"
    assert UUID.match(code.id or "")
    assert code.id == added["id"]
    assert code.short_code == added["number"]
    assert code.country_code == "US"
    assert code.messaging_profile_id == profile.id
    assert code.tags == []
    assert code.created_at is not None and code.updated_at is not None


def test_unassigned_short_code_reports_null_profile(client: telnyx.Telnyx, server: Server, add_short_code) -> None:
    added = add_short_code()

    raw = server.http().get(f"/v2/short_codes/{added['id']}").json()["data"]

    assert "messaging_profile_id" in raw and raw["messaging_profile_id"] is None
    assert client.short_codes.retrieve(added["id"]).data.messaging_profile_id is None


@pytest.mark.parametrize("code_id", ["00000000-0000-4000-8000-000000000000", "12345"])
def test_retrieve_unknown_short_code_is_not_found(client: telnyx.Telnyx, code_id: str) -> None:
    with pytest.raises(telnyx.NotFoundError) as caught:
        client.short_codes.retrieve(code_id)

    assert_error(caught.value, status=404, code="10005")


def test_list_and_filter_by_profile(client: telnyx.Telnyx, make_profile, add_short_code) -> None:
    profile = make_profile()
    mine = add_short_code(profile.id)
    unassigned = add_short_code()

    everything = {c.id for c in client.short_codes.list(page_size=250)}
    by_profile = client.short_codes.list(filter={"messaging_profile_id": profile.id})
    without_profile = list(client.short_codes.list(filter={"messaging_profile_id": "null"}, page_size=250))

    assert {mine["id"], unassigned["id"]} <= everything
    assert [c.id for c in by_profile.data] == [mine["id"]]
    assert by_profile.meta is not None and (by_profile.meta.page_number, by_profile.meta.total_pages) == (
        1,
        1,
    )
    assert unassigned["id"] in {c.id for c in without_profile}
    assert all(c.messaging_profile_id is None for c in without_profile)


def test_list_pages(client: telnyx.Telnyx, make_profile, add_short_code) -> None:
    profile = make_profile()
    added = {add_short_code(profile.id)["id"] for _ in range(3)}

    first = client.short_codes.list(filter={"messaging_profile_id": profile.id}, page_size=2)
    walked = {c.id for c in client.short_codes.list(filter={"messaging_profile_id": profile.id}, page_size=2)}

    assert len(first.data) == 2
    assert first.meta is not None and first.meta.total_pages == 2
    assert walked == added


def test_update_moves_a_short_code_between_profiles(client: telnyx.Telnyx, make_profile, add_short_code) -> None:
    old, new = make_profile(), make_profile()
    added = add_short_code(old.id)

    moved = client.short_codes.update(added["id"], messaging_profile_id=new.id).data

    assert moved.messaging_profile_id == new.id
    assert client.short_codes.retrieve(added["id"]).data.messaging_profile_id == new.id
    assert [c.id for c in client.messaging_profiles.list_short_codes(new.id).data] == [added["id"]]
    assert client.messaging_profiles.list_short_codes(old.id).data == []


@pytest.mark.parametrize("unbind", ["", None])
def test_update_with_empty_or_null_profile_unbinds(
    client: telnyx.Telnyx,
    make_profile,
    add_short_code,
    unbind: str | None,
) -> None:
    profile = make_profile()
    added = add_short_code(profile.id)

    unbound = client.short_codes.update(added["id"], messaging_profile_id=unbind).data  # type: ignore[arg-type]

    assert unbound.messaging_profile_id is None
    assert client.messaging_profiles.list_short_codes(profile.id).data == []


def test_update_replaces_tags(client: telnyx.Telnyx, make_profile, add_short_code) -> None:
    profile = make_profile()
    added = add_short_code(profile.id)

    tagged = client.short_codes.update(added["id"], messaging_profile_id=profile.id, tags=["promo", "q3"]).data
    retagged = client.short_codes.update(added["id"], messaging_profile_id=profile.id, tags=["q4"]).data

    assert tagged.tags == ["promo", "q3"]
    assert retagged.tags == ["q4"]
    assert client.short_codes.retrieve(added["id"]).data.tags == ["q4"]


def test_update_to_unknown_profile_is_refused(client: telnyx.Telnyx, make_profile, add_short_code) -> None:
    profile = make_profile()
    added = add_short_code(profile.id)

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.short_codes.update(added["id"], messaging_profile_id="00000000-0000-4000-8000-000000000000")

    assert_error(caught.value, status=422, code="10017", pointer="/messaging_profile_id")
    assert client.short_codes.retrieve(added["id"]).data.messaging_profile_id == profile.id


def test_update_without_profile_field_is_refused(client: telnyx.Telnyx, make_profile, add_short_code) -> None:
    profile = make_profile()
    added = add_short_code(profile.id)

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.short_codes.update(added["id"], messaging_profile_id=telnyx.omit, tags=["x"])

    assert_error(caught.value, status=422, code="10004", pointer="/messaging_profile_id")


def test_update_unknown_short_code_is_not_found(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile()

    with pytest.raises(telnyx.NotFoundError) as caught:
        client.short_codes.update("00000000-0000-4000-8000-000000000000", messaging_profile_id=profile.id)

    assert_error(caught.value, status=404, code="10005")

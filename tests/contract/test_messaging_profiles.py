"""Messaging profiles through the official SDK (spec profiles-and-numbers.md §2)."""

from __future__ import annotations

import re

import pytest
import telnyx
from contract_support import UUID, assert_error, new_long_code, new_toll_free, unique_name
from support import Server


def test_create_fills_in_the_documented_defaults(client: telnyx.Telnyx, server: Server) -> None:
    name = unique_name()
    profile = client.messaging_profiles.create(name=name, whitelisted_destinations=["US", "CA"]).data

    assert profile.record_type == "messaging_profile"
    assert UUID.match(profile.id)
    assert profile.name == name
    assert profile.whitelisted_destinations == ["US", "CA"]
    assert profile.enabled is True
    assert profile.webhook_url is None
    assert profile.webhook_failover_url is None
    assert profile.webhook_api_version == "2"
    assert profile.number_pool_settings is None
    assert profile.url_shortener_settings is None
    assert profile.alpha_sender is None
    assert profile.daily_spend_limit == "0.00"
    assert profile.daily_spend_limit_enabled is False
    assert profile.mms_fall_back_to_sms is False
    assert profile.mms_transcoding is False
    assert profile.mobile_only is False
    assert profile.smart_encoding is False
    assert profile.redaction_enabled is False
    assert profile.redaction_level == 2
    assert profile.health_webhook_url is None
    assert profile.ai_assistant_id is None
    assert profile.resource_group_id is None
    assert re.fullmatch(r"[A-Za-z0-9]{24}", profile.v1_secret or "")
    assert profile.organization_id == server.info["organization_id"]
    assert profile.created_at is not None and profile.created_at == profile.updated_at


def test_timestamps_are_utc_with_milliseconds(server: Server) -> None:
    raw = (
        server.http()
        .post("/v2/messaging_profiles", json={"name": unique_name(), "whitelisted_destinations": ["US"]})
        .json()["data"]
    )

    for field in ("created_at", "updated_at"):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", raw[field]), raw[field]


def test_create_keeps_every_field_given(client: telnyx.Telnyx) -> None:
    profile = client.messaging_profiles.create(
        name=unique_name(),
        whitelisted_destinations=["*"],
        enabled=False,
        webhook_url="https://example.com/hooks",
        webhook_failover_url="https://backup.example.com/hooks",
        webhook_api_version="1",
        number_pool_settings={"long_code_weight": 5, "toll_free_weight": 0, "skip_unhealthy": True},
        alpha_sender="Heliograph",
        daily_spend_limit="12.50",
        daily_spend_limit_enabled=True,
        mms_fall_back_to_sms=True,
        mms_transcoding=True,
        mobile_only=True,
        smart_encoding=True,
        health_webhook_url="https://example.com/health",
        ai_assistant_id="assistant-1",
        resource_group_id="group-1",
    ).data

    fetched = client.messaging_profiles.retrieve(profile.id).data
    for seen in (profile, fetched):
        assert seen.enabled is False
        assert seen.webhook_url == "https://example.com/hooks"
        assert seen.webhook_failover_url == "https://backup.example.com/hooks"
        assert seen.webhook_api_version == "1"
        assert seen.number_pool_settings is not None
        assert seen.number_pool_settings.long_code_weight == 5
        assert seen.number_pool_settings.toll_free_weight == 0
        assert seen.number_pool_settings.skip_unhealthy is True
        assert seen.alpha_sender == "Heliograph"
        assert seen.daily_spend_limit == "12.50"
        assert seen.daily_spend_limit_enabled is True
        assert seen.mms_fall_back_to_sms is True
        assert seen.mms_transcoding is True
        assert seen.mobile_only is True
        assert seen.smart_encoding is True
        assert seen.health_webhook_url == "https://example.com/health"
        assert seen.ai_assistant_id == "assistant-1"
        assert seen.resource_group_id == "group-1"
    assert fetched.model_dump() == profile.model_dump()


def test_partial_number_pool_settings_get_defaults_for_the_rest(client: telnyx.Telnyx) -> None:
    profile = client.messaging_profiles.create(
        name=unique_name(), whitelisted_destinations=["*"], number_pool_settings={"long_code_weight": 3}
    ).data

    pool = profile.number_pool_settings
    assert pool is not None
    assert (pool.long_code_weight, pool.toll_free_weight, pool.skip_unhealthy) == (3, 1, False)
    assert pool.sticky_sender is False and pool.geomatch is False


def test_empty_webhook_url_reads_back_as_null(client: telnyx.Telnyx) -> None:
    profile = client.messaging_profiles.create(
        name=unique_name(), whitelisted_destinations=["*"], webhook_url="", webhook_failover_url=""
    ).data

    assert profile.webhook_url is None
    assert profile.webhook_failover_url is None


# --- create: validation --------------------------------------------------------------------------


def test_create_without_whitelisted_destinations_is_refused(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messaging_profiles.create(name=unique_name(), whitelisted_destinations=telnyx.omit)

    assert_error(caught.value, status=422, code="10004", pointer="/whitelisted_destinations")


def test_create_without_name_is_refused(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messaging_profiles.create(name=telnyx.omit, whitelisted_destinations=["US"])

    assert_error(caught.value, status=422, code="10004", pointer="/name")


@pytest.mark.parametrize("destinations", [["us"], ["USA"], ["US", "1"], [""]])
def test_bad_country_code_in_whitelist_is_refused(client: telnyx.Telnyx, destinations: list[str]) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messaging_profiles.create(name=unique_name(), whitelisted_destinations=destinations)

    entry = assert_error(caught.value, status=422, code="10032")
    assert entry["source"]["pointer"].startswith("/whitelisted_destinations")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("webhook_url", "not a url"),
        ("webhook_url", "ftp://example.com/hook"),
        ("webhook_failover_url", "example.com/hook"),
        ("webhook_url", "https://example.com/" + "a" * 2000),
    ],
)
def test_bad_webhook_url_is_refused(client: telnyx.Telnyx, field: str, value: str) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messaging_profiles.create(name=unique_name(), whitelisted_destinations=["US"], **{field: value})

    assert_error(caught.value, status=422, code="10003", pointer=f"/{field}")


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"name": 42}, "/name"),
        ({"enabled": "yes"}, "/enabled"),
        ({"whitelisted_destinations": "US"}, "/whitelisted_destinations"),
        ({"smart_encoding": 1}, "/smart_encoding"),
        ({"number_pool_settings": {"long_code_weight": "heavy"}}, "/number_pool_settings/long_code_weight"),
        ({"number_pool_settings": "on"}, "/number_pool_settings"),
    ],
)
def test_wrong_json_type_is_refused_with_a_pointer(client: telnyx.Telnyx, body: dict, pointer: str) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messaging_profiles.create(name=unique_name(), whitelisted_destinations=["US"], extra_body=body)

    assert_error(caught.value, status=422, code="10026", pointer=pointer)


def test_unknown_webhook_api_version_is_refused(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messaging_profiles.create(
            name=unique_name(), whitelisted_destinations=["US"], extra_body={"webhook_api_version": "3"}
        )

    assert_error(caught.value, status=422, code="10032", pointer="/webhook_api_version")


def test_negative_pool_weight_is_out_of_range(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messaging_profiles.create(
            name=unique_name(),
            whitelisted_destinations=["US"],
            number_pool_settings={"long_code_weight": -1, "toll_free_weight": 1, "skip_unhealthy": False},
        )

    assert_error(caught.value, status=422, code="10033", pointer="/number_pool_settings/long_code_weight")


def test_bad_alpha_sender_is_refused(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messaging_profiles.create(
            name=unique_name(), whitelisted_destinations=["US"], alpha_sender="way-too-long-sender"
        )

    assert_error(caught.value, status=422, code="40325", pointer="/alpha_sender")


def test_bad_daily_spend_limit_is_refused(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messaging_profiles.create(
            name=unique_name(), whitelisted_destinations=["US"], daily_spend_limit="ten dollars"
        )

    assert_error(caught.value, status=422, code="10015", pointer="/daily_spend_limit")


@pytest.mark.parametrize("field", ["ai_assistant_id", "resource_group_id"])
def test_identifier_longer_than_64_characters_is_refused(client: telnyx.Telnyx, field: str) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messaging_profiles.create(name=unique_name(), whitelisted_destinations=["US"], **{field: "x" * 65})

    assert_error(caught.value, status=422, code="10025", pointer=f"/{field}")


def test_unknown_fields_are_ignored(client: telnyx.Telnyx) -> None:
    profile = client.messaging_profiles.create(
        name=unique_name(), whitelisted_destinations=["US"], extra_body={"not_a_field": {"nested": True}}
    ).data

    assert profile.record_type == "messaging_profile"
    assert "not_a_field" not in (profile.model_extra or {})


def test_refused_create_leaves_nothing_behind(client: telnyx.Telnyx) -> None:
    name = unique_name()
    with pytest.raises(telnyx.UnprocessableEntityError):
        client.messaging_profiles.create(name=name, whitelisted_destinations=["nowhere"])

    assert client.messaging_profiles.list(filter_name_eq=name).data == []


def test_camel_case_field_is_named_in_a_warning_header(client: telnyx.Telnyx) -> None:
    raw = client.messaging_profiles.with_raw_response.create(
        name=unique_name(),
        whitelisted_destinations=["US"],
        extra_body={"webhookUrl": "https://example.com/x"},
    )

    warning = raw.headers.get("x-heliograph-warning", "")
    assert "webhookUrl" in warning and "webhook_url" in warning
    assert raw.parse().data.webhook_url is None


def test_camel_case_hint_comes_with_the_error_it_causes(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messaging_profiles.create(
            name=unique_name(),
            whitelisted_destinations=telnyx.omit,
            extra_body={"whitelistedDestinations": ["US"]},
        )

    assert_error(caught.value, status=422, code="10004", pointer="/whitelisted_destinations")
    warning = caught.value.response.headers.get("x-heliograph-warning", "")
    assert "whitelistedDestinations" in warning and "whitelisted_destinations" in warning


# --- retrieve ------------------------------------------------------------------------------------


def test_retrieve_returns_the_created_profile(client: telnyx.Telnyx, make_profile) -> None:
    created = make_profile(whitelisted_destinations=["GB"], webhook_url="https://example.com/a")

    fetched = client.messaging_profiles.retrieve(created.id).data

    assert fetched.model_dump() == created.model_dump()


@pytest.mark.parametrize("profile_id", ["00000000-0000-4000-8000-000000000000", "not-a-uuid"])
def test_retrieve_unknown_profile_is_not_found(client: telnyx.Telnyx, profile_id: str) -> None:
    with pytest.raises(telnyx.NotFoundError) as caught:
        client.messaging_profiles.retrieve(profile_id)

    assert_error(caught.value, status=404, code="10005")


def test_bootstrapped_default_profile_is_retrievable(client: telnyx.Telnyx, server: Server) -> None:
    profile = client.messaging_profiles.retrieve(server.profile_id).data

    assert profile.id == server.profile_id
    assert profile.whitelisted_destinations == ["*"]
    assert profile.enabled is True


# --- list ----------------------------------------------------------------------------------------


def test_list_filters_by_exact_name(client: telnyx.Telnyx, make_profile) -> None:
    name = unique_name()
    wanted = make_profile(name=name)
    make_profile(name=name + "-other")

    by_eq = client.messaging_profiles.list(filter_name_eq=name)
    by_filter = client.messaging_profiles.list(filter={"name": name})

    for page in (by_eq, by_filter):
        assert [p.id for p in page.data] == [wanted.id]
        assert page.meta is not None and (page.meta.page_number, page.meta.total_pages) == (1, 1)


def test_list_filters_by_name_substring_ignoring_case(client: telnyx.Telnyx, make_profile) -> None:
    marker = unique_name("Needle")
    first = make_profile(name=f"alpha {marker} one")
    second = make_profile(name=f"beta {marker.upper()} two")
    make_profile(name=unique_name("hay"))

    page = client.messaging_profiles.list(filter_name_contains=marker.lower())

    assert {p.id for p in page.data} == {first.id, second.id}


def test_list_with_no_match_has_complete_empty_meta(client: telnyx.Telnyx, server: Server) -> None:
    response = server.http().get("/v2/messaging_profiles", params={"filter[name][eq]": unique_name("none")})

    assert response.status_code == 200
    assert response.json() == {
        "data": [],
        "meta": {"page_number": 1, "page_size": 20, "total_pages": 0, "total_results": 0},
    }


def test_list_pages_through_every_profile(
    client: telnyx.Telnyx,
    server: Server,
    make_profile,
) -> None:
    prefix = unique_name("paged")
    created = [make_profile(name=f"{prefix}-{i}").id for i in range(5)]

    first = client.messaging_profiles.list(filter_name_contains=prefix, page_size=2)
    raw = server.http().get(
        "/v2/messaging_profiles",
        params={"filter[name][contains]": prefix, "page[size]": 2, "page[number]": 2},
    )
    walked = [p.id for p in client.messaging_profiles.list(filter_name_contains=prefix, page_size=2)]

    assert len(first.data) == 2
    assert first.meta is not None and (first.meta.page_number, first.meta.total_pages) == (1, 3)
    assert raw.json()["meta"] == {"page_number": 2, "page_size": 2, "total_pages": 3, "total_results": 5}
    assert [p["id"] for p in raw.json()["data"]] == walked[2:4]
    assert sorted(walked) == sorted(created) and len(walked) == 5


def test_list_is_oldest_first(client: telnyx.Telnyx, make_profile) -> None:
    """docs/decisions.md: lists are oldest first, so rows created while a client pages land on the last
    page (the spec's newest-first order for profiles is only inferred)."""
    prefix = unique_name("order")
    created = [make_profile(name=f"{prefix}-{i}").id for i in range(3)]

    listed = [p.id for p in client.messaging_profiles.list(filter_name_contains=prefix)]

    assert listed == created


def test_list_page_beyond_the_last_is_empty_with_meta(client: telnyx.Telnyx, server: Server, make_profile) -> None:
    prefix = unique_name("beyond")
    make_profile(name=f"{prefix}-1")

    page = client.messaging_profiles.list(filter_name_contains=prefix, page_number=5, page_size=10)
    raw = server.http().get("/v2/messaging_profiles", params={"filter[name][contains]": prefix, "page[number]": 5})

    assert page.data == []
    assert raw.json()["meta"] == {"page_number": 5, "page_size": 20, "total_pages": 1, "total_results": 1}


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"page_size": 251}, "page[size]"),
        ({"page_size": 0}, "page[size]"),
        ({"page_number": 0}, "page[number]"),
    ],
)
def test_list_page_parameters_out_of_range(client: telnyx.Telnyx, params: dict, name: str) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messaging_profiles.list(**params)

    assert_error(caught.value, status=422, code="10033", parameter=name)


# --- update --------------------------------------------------------------------------------------


def test_update_changes_only_the_fields_sent(client: telnyx.Telnyx, make_profile) -> None:
    created = make_profile(webhook_url="https://example.com/keep", smart_encoding=True)
    client.messaging_profiles.retrieve(created.id)
    new_name = unique_name("renamed")

    updated = client.messaging_profiles.update(created.id, name=new_name).data

    assert updated.name == new_name
    assert updated.webhook_url == "https://example.com/keep"
    assert updated.smart_encoding is True
    assert updated.whitelisted_destinations == created.whitelisted_destinations
    assert updated.v1_secret == created.v1_secret
    assert updated.created_at == created.created_at
    assert updated.updated_at is not None and created.updated_at is not None
    assert updated.updated_at > created.updated_at
    assert client.messaging_profiles.retrieve(created.id).data.model_dump() == updated.model_dump()


def test_update_sets_v1_secret(client: telnyx.Telnyx, make_profile) -> None:
    created = make_profile()

    updated = client.messaging_profiles.update(created.id, v1_secret="ChosenSecret0123456789ab").data

    assert updated.v1_secret == "ChosenSecret0123456789ab"
    assert client.messaging_profiles.retrieve(created.id).data.v1_secret == "ChosenSecret0123456789ab"


def test_update_with_null_clears_webhook_url(client: telnyx.Telnyx, make_profile) -> None:
    created = make_profile(webhook_url="https://example.com/a", webhook_failover_url="https://example.com/b")

    updated = client.messaging_profiles.update(created.id, webhook_url=None).data

    assert updated.webhook_url is None
    assert updated.webhook_failover_url == "https://example.com/b"
    assert client.messaging_profiles.retrieve(created.id).data.webhook_url is None


def test_update_replaces_whitelist_and_toggles(client: telnyx.Telnyx, make_profile) -> None:
    created = make_profile(whitelisted_destinations=["US"])

    updated = client.messaging_profiles.update(
        created.id, whitelisted_destinations=["CA", "MX"], enabled=False, mobile_only=True
    ).data

    assert updated.whitelisted_destinations == ["CA", "MX"]
    assert updated.enabled is False
    assert updated.mobile_only is True


def test_update_merges_number_pool_settings(client: telnyx.Telnyx, make_profile) -> None:
    created = make_profile(number_pool_settings={"long_code_weight": 2, "toll_free_weight": 3, "skip_unhealthy": True})

    merged = client.messaging_profiles.update(created.id, number_pool_settings={"sticky_sender": True}).data
    reweighted = client.messaging_profiles.update(created.id, number_pool_settings={"toll_free_weight": 7}).data

    pool = merged.number_pool_settings
    assert pool is not None
    assert (pool.long_code_weight, pool.toll_free_weight, pool.skip_unhealthy, pool.sticky_sender) == (
        2,
        3,
        True,
        True,
    )
    pool = reweighted.number_pool_settings
    assert pool is not None
    assert (pool.long_code_weight, pool.toll_free_weight, pool.skip_unhealthy, pool.sticky_sender) == (
        2,
        7,
        True,
        True,
    )


@pytest.mark.parametrize("disable", [None, {}])
def test_update_disables_number_pool_with_null_or_empty_object(
    client: telnyx.Telnyx,
    make_profile,
    disable: dict | None,
) -> None:
    created = make_profile(number_pool_settings={"long_code_weight": 1, "toll_free_weight": 1, "skip_unhealthy": False})

    updated = client.messaging_profiles.update(created.id, number_pool_settings=disable).data

    assert updated.number_pool_settings is None
    assert client.messaging_profiles.retrieve(created.id).data.number_pool_settings is None


def test_update_enables_number_pool_from_partial_object(client: telnyx.Telnyx, make_profile) -> None:
    created = make_profile()

    pool = client.messaging_profiles.update(
        created.id, number_pool_settings={"geomatch": True}
    ).data.number_pool_settings

    assert pool is not None
    assert (pool.long_code_weight, pool.toll_free_weight, pool.skip_unhealthy, pool.geomatch) == (
        1,
        1,
        False,
        True,
    )


def test_update_unknown_profile_is_not_found(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.NotFoundError) as caught:
        client.messaging_profiles.update("00000000-0000-4000-8000-000000000000", name="x")

    assert_error(caught.value, status=404, code="10005")


@pytest.mark.parametrize(
    ("fields", "code", "pointer"),
    [
        ({"enabled": "no"}, "10026", "/enabled"),
        ({"whitelisted_destinations": ["usa"]}, "10032", None),
        ({"webhook_url": "nope"}, "10003", "/webhook_url"),
    ],
)
def test_update_validates_like_create(
    client: telnyx.Telnyx,
    make_profile,
    fields: dict,
    code: str,
    pointer: str | None,
) -> None:
    created = make_profile()

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messaging_profiles.update(created.id, extra_body=fields)

    entry = assert_error(caught.value, status=422, code=code)
    assert entry["source"]["pointer"].startswith(pointer or "/whitelisted_destinations")
    assert client.messaging_profiles.retrieve(created.id).data.model_dump() == created.model_dump()


# --- delete --------------------------------------------------------------------------------------


def test_delete_returns_the_profile_and_unassigns_its_numbers(
    client: telnyx.Telnyx,
    make_profile,
    order_numbers,
    add_short_code,
) -> None:
    profile = make_profile()
    number = new_long_code()
    order_numbers(number, profile_id=profile.id)
    short_code = add_short_code(profile.id)

    deleted = client.messaging_profiles.delete(profile.id).data

    assert deleted.model_dump() == profile.model_dump()
    with pytest.raises(telnyx.NotFoundError):
        client.messaging_profiles.retrieve(profile.id)
    assert client.messaging_profiles.list(filter_name_eq=profile.name).data == []
    assert client.phone_numbers.messaging.retrieve(number).data.messaging_profile_id is None
    assert client.short_codes.retrieve(short_code["id"]).data.messaging_profile_id is None


def test_delete_unknown_profile_is_not_found(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile()
    client.messaging_profiles.delete(profile.id)

    with pytest.raises(telnyx.NotFoundError) as caught:
        client.messaging_profiles.delete(profile.id)

    assert_error(caught.value, status=404, code="10005")


# --- the profile's numbers and short codes -------------------------------------------------------


def test_list_phone_numbers_of_a_profile(client: telnyx.Telnyx, make_profile, order_numbers) -> None:
    profile = make_profile()
    other = make_profile()
    long_code, toll_free = new_long_code(), new_toll_free()
    order_numbers(long_code, toll_free, profile_id=profile.id)
    order_numbers(new_long_code(), profile_id=other.id)

    page = client.messaging_profiles.list_phone_numbers(profile.id)

    assert {(n.phone_number, n.type) for n in page.data} == {(long_code, "longcode"), (toll_free, "tollfree")}
    assert all(n.messaging_profile_id == profile.id and n.record_type == "messaging_settings" for n in page.data)
    assert page.meta is not None and (page.meta.page_number, page.meta.total_pages) == (1, 1)


def test_list_phone_numbers_pages(client: telnyx.Telnyx, make_profile, order_numbers) -> None:
    profile = make_profile()
    numbers = [new_long_code() for _ in range(3)]
    order_numbers(*numbers, profile_id=profile.id)

    first = client.messaging_profiles.list_phone_numbers(profile.id, page_size=2)
    walked = [n.phone_number for n in client.messaging_profiles.list_phone_numbers(profile.id, page_size=2)]

    assert len(first.data) == 2
    assert first.meta is not None and first.meta.total_pages == 2
    assert sorted(walked) == sorted(numbers)


def test_list_phone_numbers_of_unknown_profile_is_not_found(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.NotFoundError) as caught:
        client.messaging_profiles.list_phone_numbers("00000000-0000-4000-8000-000000000000")

    assert_error(caught.value, status=404, code="10005")


def test_list_short_codes_of_a_profile(client: telnyx.Telnyx, make_profile, add_short_code) -> None:
    profile = make_profile()
    mine = add_short_code(profile.id)
    add_short_code(make_profile().id)

    page = client.messaging_profiles.list_short_codes(profile.id)

    assert [(c.id, c.short_code, c.messaging_profile_id) for c in page.data] == [
        (mine["id"], mine["number"], profile.id)
    ]
    assert page.meta is not None and page.meta.total_pages == 1


def test_list_short_codes_of_unknown_profile_is_not_found(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.NotFoundError) as caught:
        client.messaging_profiles.list_short_codes("00000000-0000-4000-8000-000000000000")

    assert_error(caught.value, status=404, code="10005")

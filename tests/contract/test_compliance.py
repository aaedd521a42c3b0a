"""Opt-outs and auto-response configs through the official SDK with strict validation
(spec compliance.md §1–§3).

Opt-outs are made the way users make them: a handset texts a keyword to one of the profile's numbers
(POST /sandbox/v1/inbound). Every test uses its own profiles, numbers and handsets.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import telnyx
from contract_support import UUID, assert_error, new_handset, new_long_code
from support import Server

MISSING_ID = "00000000-0000-4000-8000-000000000000"
REPLY = "Thanks! You will hear from us again soon."


@pytest.fixture
def handset_texts(server: Server) -> Callable[..., dict[str, Any]]:
    """`handset_texts(handset, number, keyword="STOP")`: the handset texts the keyword to your number."""

    def send_keyword(handset: str, number: str, keyword: str = "STOP") -> dict[str, Any]:
        with server.http() as http:
            response = http.post("/sandbox/v1/inbound", json={"from": handset, "to": number, "text": keyword})
        assert response.status_code == 200, response.text
        return response.json()["data"]

    return send_keyword


def by_to(page: Any) -> dict[str, Any]:
    return {item.to: item for item in page}


# --- GET /messaging_optouts ---------------------------------------------------------------------------


def test_opt_out_list_item(client: telnyx.Telnyx, sender, handset_texts) -> None:
    profile, number = sender()
    handset = new_handset()
    handset_texts(handset, number, "stop")

    page = client.messaging_optouts.list(filter={"messaging_profile_id": profile.id})

    [rule] = page.data
    assert rule.from_ == number
    assert rule.to == handset
    assert rule.messaging_profile_id == profile.id
    assert rule.keyword == "STOP"
    assert rule.created_at is not None and rule.created_at.tzinfo is not None
    assert abs((datetime.now(UTC) - rule.created_at).total_seconds()) < 300


def test_filter_by_messaging_profile(client: telnyx.Telnyx, sender, handset_texts) -> None:
    first, first_number = sender()
    second, second_number = sender()
    one, two = new_handset(), new_handset()
    handset_texts(one, first_number, "STOP")
    handset_texts(two, second_number, "Unsubscribe")

    mine = client.messaging_optouts.list(filter={"messaging_profile_id": first.id}).data
    theirs = client.messaging_optouts.list(filter={"messaging_profile_id": second.id}).data

    assert [(r.to, r.from_, r.keyword, r.messaging_profile_id) for r in mine] == [(one, first_number, "STOP", first.id)]
    assert [(r.to, r.from_, r.keyword, r.messaging_profile_id) for r in theirs] == [
        (two, second_number, "UNSUBSCRIBE", second.id)
    ]
    everything = by_to(client.messaging_optouts.list(page_size=250))
    assert {one, two} <= set(everything)


def test_filter_by_from(client: telnyx.Telnyx, sender, order_numbers, handset_texts) -> None:
    profile, number = sender()
    other_number = new_long_code()
    order_numbers(other_number, profile_id=profile.id)
    one, two = new_handset(), new_handset()
    handset_texts(one, number)
    handset_texts(two, other_number)

    via_number = client.messaging_optouts.list(filter={"from": number}).data
    via_other = client.messaging_optouts.list(filter={"from": other_number, "messaging_profile_id": profile.id}).data

    assert [(r.to, r.from_) for r in via_number] == [(one, number)]
    assert [(r.to, r.from_) for r in via_other] == [(two, other_number)]
    assert {r.to for r in client.messaging_optouts.list(filter={"messaging_profile_id": profile.id})} == {
        one,
        two,
    }


def test_filter_by_created_at(client: telnyx.Telnyx, sender, handset_texts) -> None:
    profile, number = sender()
    early, late = new_handset(), new_handset()
    handset_texts(early, number)
    between = datetime.now(UTC)
    time.sleep(0.002)  # an lte bound covers its whole millisecond (times are shown to the millisecond)
    handset_texts(late, number)
    scope = {"messaging_profile_id": profile.id}

    after = client.messaging_optouts.list(filter=scope, created_at={"gte": between}).data
    before = client.messaging_optouts.list(filter=scope, created_at={"lte": between}).data
    window = client.messaging_optouts.list(
        filter=scope, created_at={"gte": "2000-01-01T00:00:00Z", "lte": between.isoformat()}
    ).data
    future = client.messaging_optouts.list(filter=scope, created_at={"gte": "2999-01-01T00:00:00Z"}).data

    assert [r.to for r in after] == [late]
    assert [r.to for r in before] == [early]
    assert [r.to for r in window] == [early]
    assert future == []


def test_redaction_masks_the_last_four_digits(client: telnyx.Telnyx, sender, handset_texts) -> None:
    profile, number = sender()
    handset = new_handset()
    handset_texts(handset, number)
    scope = {"messaging_profile_id": profile.id}

    [redacted] = client.messaging_optouts.list(filter=scope, redaction_enabled="true").data
    [plain] = client.messaging_optouts.list(filter=scope, redaction_enabled="false").data
    [default] = client.messaging_optouts.list(filter=scope).data

    assert redacted.to == handset[:-4] + "****"
    # the SDK types the flag as a string; a Python bool goes out as "true" too
    [as_bool] = client.messaging_optouts.list(filter=scope, redaction_enabled=True).data  # type: ignore[arg-type]
    assert as_bool.to == redacted.to
    assert plain.to == handset
    assert default.to == handset
    assert redacted.from_ == number  # only the recipient is masked


def test_pagination(client: telnyx.Telnyx, sender, handset_texts) -> None:
    profile, number = sender()
    handsets = {new_handset() for _ in range(3)}
    for handset in handsets:
        handset_texts(handset, number)
    scope = {"messaging_profile_id": profile.id}

    first = client.messaging_optouts.list(filter=scope, page_size=2)
    second = client.messaging_optouts.list(filter=scope, page_size=2, page_number=2)

    assert first.meta is not None and second.meta is not None
    assert (
        first.meta.page_number,
        first.meta.page_size,
        first.meta.total_pages,
        first.meta.total_results,
    ) == (
        1,
        2,
        2,
        3,
    )
    assert (second.meta.page_number, second.meta.total_pages, second.meta.total_results) == (2, 2, 3)
    assert len(first.data) == 2 and len(second.data) == 1
    assert {r.to for r in first.data} | {r.to for r in second.data} == handsets
    # the SDK's auto-pagination walks both pages
    assert sorted(r.to for r in first) == sorted(handsets)


def test_start_removes_the_rule(client: telnyx.Telnyx, sender, handset_texts) -> None:
    profile, number = sender()
    stays, leaves = new_handset(), new_handset()
    handset_texts(stays, number)
    handset_texts(leaves, number)
    handset_texts(leaves, number, "START")

    assert [r.to for r in client.messaging_optouts.list(filter={"messaging_profile_id": profile.id})] == [stays]


# --- /messaging_profiles/{id}/autoresp_configs ----------------------------------------------------------


def test_create_retrieve_and_list(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile()
    configs = client.messaging_profiles.autoresp_configs

    created = configs.create(profile.id, op="start", keywords=["Subscribe", "join"], country_code="US", resp_text=REPLY)

    data = created.data
    assert UUID.match(data.id)
    assert data.op == "start"
    assert data.keywords == ["SUBSCRIBE", "JOIN"]
    assert data.country_code == "US"
    assert data.resp_text == REPLY
    assert data.created_at is not None and data.created_at == data.updated_at

    fetched = configs.retrieve(data.id, profile_id=profile.id).data
    assert fetched == data

    listed = configs.list(profile.id)
    assert listed.data == [data]
    meta = listed.meta
    assert (meta.page_number, meta.total_pages, meta.total_results) == (1, 1, 1)
    assert isinstance(meta.page_size, int) and meta.page_size >= 1


def test_list_meta_and_country_filter(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile()
    configs = client.messaging_profiles.autoresp_configs

    empty = configs.list(profile.id)
    assert empty.data == []
    assert (empty.meta.page_number, empty.meta.total_pages, empty.meta.total_results) == (1, 0, 0)
    assert isinstance(empty.meta.page_size, int)

    us = configs.create(profile.id, op="info", keywords=["HELP"], country_code="US", resp_text=REPLY).data
    anywhere = configs.create(profile.id, op="info", keywords=["HELP"], country_code="*", resp_text=REPLY).data

    assert {c.id for c in configs.list(profile.id).data} == {us.id, anywhere.id}
    assert configs.list(profile.id).meta.total_results == 2
    assert [c.id for c in configs.list(profile.id, country_code="US").data] == [us.id]
    assert [c.id for c in configs.list(profile.id, country_code="*").data] == [anywhere.id]


def test_update_replaces_the_whole_config(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile()
    configs = client.messaging_profiles.autoresp_configs
    created = configs.create(profile.id, op="stop", keywords=["BASTA", "ALTO"], country_code="IT", resp_text=REPLY).data

    updated = configs.update(created.id, profile_id=profile.id, op="start", keywords=["avanti"], country_code="*").data

    assert updated.id == created.id
    assert updated.op == "start"
    assert updated.keywords == ["AVANTI"]
    assert updated.country_code == "*"
    assert updated.resp_text is None  # not given: gone
    assert updated.created_at == created.created_at
    assert updated.updated_at > created.updated_at
    assert configs.retrieve(created.id, profile_id=profile.id).data == updated
    # the old keyword is free again
    configs.create(profile.id, op="stop", keywords=["BASTA"], country_code="IT", resp_text=REPLY)


def test_delete(client: telnyx.Telnyx, server: Server, make_profile) -> None:
    profile = make_profile()
    configs = client.messaging_profiles.autoresp_configs
    created = configs.create(profile.id, op="info", keywords=["INFO"], country_code="US", resp_text=REPLY).data
    kept = configs.create(profile.id, op="stop", keywords=["ARRET"], country_code="US").data

    # the wire body is the JSON string "OK"; the SDK (cast_to=str) hands back the raw body text
    assert json.loads(configs.delete(created.id, profile_id=profile.id)) == "OK"

    with pytest.raises(telnyx.NotFoundError) as caught:
        configs.retrieve(created.id, profile_id=profile.id)
    assert_error(caught.value, status=404, code="10005")
    assert [c.id for c in configs.list(profile.id).data] == [kept.id]
    with pytest.raises(telnyx.NotFoundError):
        configs.delete(created.id, profile_id=profile.id)
    again = configs.create(profile.id, op="info", keywords=["INFO"], country_code="US", resp_text=REPLY).data
    with server.http() as http:
        raw = http.delete(f"/v2/messaging_profiles/{profile.id}/autoresp_configs/{again.id}")
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("application/json")
    assert raw.json() == "OK"


def test_bad_op_is_10032(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile()
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messaging_profiles.autoresp_configs.create(
            profile.id,
            op="unsubscribe",  # type: ignore[arg-type]
            keywords=["BYE"],
            country_code="US",
        )
    assert_error(caught.value, status=422, code="10032", pointer="/op")


def test_missing_fields_are_10004(server: Server, make_profile) -> None:
    profile = make_profile()
    url = f"/v2/messaging_profiles/{profile.id}/autoresp_configs"
    full = {"op": "stop", "keywords": ["BYE"], "country_code": "US"}
    with server.http() as http:
        for missing in ("keywords", "op", "country_code"):
            body = {k: v for k, v in full.items() if k != missing}
            assert_error(http.post(url, json=body), status=422, code="10004", pointer=f"/{missing}")
        assert http.get(url).json()["data"] == []


def test_range_violations_are_10033(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile()
    configs = client.messaging_profiles.autoresp_configs
    too_many = [f"WORD{i}" for i in range(21)]

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        configs.create(profile.id, op="stop", keywords=too_many, country_code="US")
    assert_error(caught.value, status=422, code="10033")
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        configs.create(profile.id, op="stop", keywords=[], country_code="US")
    assert_error(caught.value, status=422, code="10033")
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        configs.create(profile.id, op="info", keywords=["HELP"], country_code="US", resp_text="x" * 19)
    assert_error(caught.value, status=422, code="10033")
    assert configs.list(profile.id).data == []

    # the limits themselves are fine
    twenty = configs.create(profile.id, op="stop", keywords=too_many[:20], country_code="US").data
    assert len(twenty.keywords) == 20
    exact = configs.create(profile.id, op="info", keywords=["HELP"], country_code="US", resp_text="y" * 20).data
    assert exact.resp_text == "y" * 20


def test_keyword_used_twice_for_one_country_is_10012(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile()
    configs = client.messaging_profiles.autoresp_configs
    first = configs.create(profile.id, op="stop", keywords=["BASTA"], country_code="IT").data

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        configs.create(profile.id, op="stop", keywords=["Basta", "FINE"], country_code="IT")
    assert_error(caught.value, status=422, code="10012")
    second = configs.create(profile.id, op="stop", keywords=["FINE"], country_code="IT").data
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        configs.update(second.id, profile_id=profile.id, op="stop", keywords=["BASTA"], country_code="IT")
    assert_error(caught.value, status=422, code="10012")

    # another country, or another profile, may use it
    configs.create(profile.id, op="stop", keywords=["BASTA"], country_code="SM")
    configs.create(make_profile().id, op="stop", keywords=["BASTA"], country_code="IT")
    # a config may keep its own keywords on update
    configs.update(first.id, profile_id=profile.id, op="stop", keywords=["BASTA"], country_code="IT", resp_text=REPLY)


@pytest.mark.parametrize(("op", "keyword"), [("info", "STOP"), ("stop", "start"), ("start", "HELP")])
def test_reserved_keyword_under_another_op_is_422(client: telnyx.Telnyx, make_profile, op: str, keyword: str) -> None:
    profile = make_profile()
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messaging_profiles.autoresp_configs.create(
            profile.id,
            op=op,  # type: ignore[arg-type]
            keywords=[keyword],
            country_code="US",
            resp_text=REPLY,
        )
    assert_error(caught.value, status=422, code="10015")
    assert client.messaging_profiles.autoresp_configs.list(profile.id).data == []


def test_unknown_profile_or_config_is_404(client: telnyx.Telnyx, make_profile) -> None:
    configs = client.messaging_profiles.autoresp_configs
    profile = make_profile()
    other = make_profile()
    mine = configs.create(profile.id, op="info", keywords=["HELP"], country_code="US", resp_text=REPLY).data
    calls: list[Callable[[], Any]] = [
        lambda: configs.list(MISSING_ID),
        lambda: configs.create(MISSING_ID, op="info", keywords=["HELP"], country_code="US"),
        lambda: configs.retrieve(mine.id, profile_id=MISSING_ID),
        lambda: configs.retrieve(MISSING_ID, profile_id=profile.id),
        lambda: configs.retrieve(mine.id, profile_id=other.id),  # someone else's profile
        lambda: configs.update(MISSING_ID, profile_id=profile.id, op="info", keywords=["HELP"], country_code="US"),
        lambda: configs.delete(MISSING_ID, profile_id=profile.id),
        lambda: configs.delete(mine.id, profile_id=other.id),
        lambda: configs.retrieve("not-a-uuid", profile_id=profile.id),
    ]
    for call in calls:
        with pytest.raises(telnyx.NotFoundError) as caught:
            call()
        assert_error(caught.value, status=404, code="10005")
    assert configs.retrieve(mine.id, profile_id=profile.id).data == mine


def test_list_filters_by_created_and_updated_at(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile()
    configs = client.messaging_profiles.autoresp_configs
    old = configs.create(profile.id, op="stop", keywords=["ALTO"], country_code="ES").data
    between = datetime.now(UTC).isoformat()
    time.sleep(0.002)  # an lte bound covers its whole millisecond (times are shown to the millisecond)
    new = configs.create(profile.id, op="stop", keywords=["PARA"], country_code="ES").data

    assert [c.id for c in configs.list(profile.id, created_at={"gte": between}).data] == [new.id]
    assert [c.id for c in configs.list(profile.id, created_at={"lte": between}).data] == [old.id]

    configs.update(old.id, profile_id=profile.id, op="stop", keywords=["ALTO", "BAJA"], country_code="ES")
    assert {c.id for c in configs.list(profile.id, updated_at={"gte": between}).data} == {old.id, new.id}
    assert configs.list(profile.id, updated_at={"lte": between}).data == []


def test_repeated_opt_out_keeps_one_rule(client: telnyx.Telnyx, sender, handset_texts) -> None:
    profile, number = sender()
    handset = new_handset()
    handset_texts(handset, number, "STOP")
    handset_texts(handset, number, "quit")
    handset_texts(handset, number, "Stop All")

    rules = client.messaging_optouts.list(filter={"messaging_profile_id": profile.id}).data
    assert [r.to for r in rules] == [handset]
    assert rules[0].keyword in {"STOP", "QUIT", "STOP ALL"}


def test_text_that_only_contains_a_keyword_does_not_opt_out(client: telnyx.Telnyx, sender, handset_texts) -> None:
    profile, number = sender()
    received = handset_texts(new_handset(), number, "Please stop texting me")

    assert "autoresponse_type" not in received
    assert client.messaging_optouts.list(filter={"messaging_profile_id": profile.id}).data == []

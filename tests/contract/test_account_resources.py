"""Account resources through the official SDK in strict mode: messaging hosted numbers, v1 secret
rotation, messaging profile metrics and webhook delivery records.

Spec: profiles-and-numbers.md §2.3, §3; metrics.md; webhooks.md §5–§6; README §3–§4.
Metrics and webhook deliveries run on a server of their own, so every count is known exactly.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import telnyx
from contract_support import DIGITS, assert_error, new_handset, new_long_code, unique_name
from support import Server, WebhookReceiver, eventually

MISSING = "00000000-0000-4000-8000-000000000000"
SECRET = re.compile(r"^[A-Za-z0-9]{24}$")
_rng = random.SystemRandom()


def _number(npa: str = "872") -> str:
    return f"+1{npa}{_rng.randint(2, 9)}{_rng.randint(0, 999_999):06d}"


# --- messaging hosted numbers --------------------------------------------------------------------


@pytest.fixture(scope="module")
def hosted(server: Server) -> dict[str, dict[str, str]]:
    """Three hosted numbers, each on a profile of its own (CLI `numbers add --hosted`, run in parallel)."""
    sdk = server.client()
    out: dict[str, dict[str, str]] = {}
    for name in ("listed", "updated", "deleted"):
        profile = sdk.messaging_profiles.create(name=unique_name("hosted"), whitelisted_destinations=["*"]).data
        assert profile is not None
        out[name] = {"number": _number(), "profile_id": profile.id}

    def add(entry: dict[str, str]) -> dict[str, Any]:
        return server.cli_json("numbers", "add", entry["number"], "--profile", entry["profile_id"], "--hosted")

    with ThreadPoolExecutor(3) as pool:
        for entry, created in zip(out.values(), pool.map(add, out.values()), strict=True):
            assert created["number"] == entry["number"]
            entry["id"] = created["id"]
    return out


def test_hosted_numbers_list_and_filters(
    client: telnyx.Telnyx,
    server: Server,
    hosted: dict[str, dict[str, str]],
    order_numbers,
) -> None:
    mine = hosted["listed"]
    plain = new_long_code()  # a number of the account that is not hosted, on the same profile
    order_numbers(plain, profile_id=mine["profile_id"])

    by_profile = list(client.messaging_hosted_numbers.list(filter_messaging_profile_id=mine["profile_id"]))
    by_number = list(client.messaging_hosted_numbers.list(filter_phone_number=mine["number"]))
    by_digits = client.messaging_hosted_numbers.list(filter_phone_number_contains=mine["number"][-7:])
    not_hosted = client.messaging_hosted_numbers.list(filter_phone_number=plain)
    everything = [n.phone_number for n in client.messaging_hosted_numbers.list(page_size=250)]
    all_numbers = {
        n.phone_number for n in client.phone_numbers.messaging.list(filter_messaging_profile_id=mine["profile_id"])
    }

    assert [n.phone_number for n in by_profile] == [mine["number"]]
    assert by_number == by_profile
    item = by_number[0]
    assert item.id == mine["id"] and DIGITS.match(item.id or "")
    assert item.record_type == "messaging_settings"
    assert item.messaging_profile_id == mine["profile_id"]
    assert item.organization_id == server.info["organization_id"]
    assert item.type == "longcode"
    assert item.country_code == "US"
    assert [n.phone_number for n in by_digits] == [mine["number"]]
    assert not_hosted.data == []
    assert not_hosted.meta is not None and not_hosted.meta.total_pages == 0
    assert mine["number"] in everything and plain not in everything
    # a hosted number is still one of the account's numbers
    assert all_numbers == {mine["number"], plain}


def test_hosted_number_retrieve_by_id_and_by_e164(
    client: telnyx.Telnyx,
    hosted: dict[str, dict[str, str]],
    order_numbers,
) -> None:
    mine = hosted["listed"]
    plain = new_long_code()
    order_numbers(plain)

    by_id = client.messaging_hosted_numbers.retrieve(mine["id"]).data
    by_e164 = client.messaging_hosted_numbers.retrieve(mine["number"]).data

    assert by_id is not None and by_id.phone_number == mine["number"]
    assert by_e164 == by_id
    for unknown in (plain, "+19995550100", "1234567890123456789"):
        with pytest.raises(telnyx.NotFoundError) as caught:
            client.messaging_hosted_numbers.retrieve(unknown)
        assert_error(caught.value, status=404, code="10005")


def test_hosted_number_update_takes_effect(
    client: telnyx.Telnyx,
    hosted: dict[str, dict[str, str]],
    make_profile,
) -> None:
    mine = hosted["updated"]
    before = client.messages.send(from_=mine["number"], to=new_handset(), text="before").data
    assert before is not None and before.messaging_profile_id == mine["profile_id"]
    other = make_profile()

    tagged = client.messaging_hosted_numbers.update(mine["id"], tags=["vip", "east"]).data
    moved = client.messaging_hosted_numbers.update(mine["number"], messaging_profile_id=other.id).data

    assert tagged is not None and tagged.tags == ["vip", "east"]
    assert moved is not None and moved.messaging_profile_id == other.id and moved.tags == ["vip", "east"]
    assert moved.updated_at is not None and tagged.updated_at is not None and moved.updated_at >= tagged.updated_at
    assert client.messaging_hosted_numbers.retrieve(mine["id"]).data == moved
    assert [n.id for n in client.messaging_hosted_numbers.list(filter_messaging_profile_id=other.id)] == [mine["id"]]
    assert list(client.messaging_hosted_numbers.list(filter_messaging_profile_id=mine["profile_id"])) == []
    after_move = client.messages.send(from_=mine["number"], to=new_handset(), text="moved").data
    assert after_move is not None and after_move.messaging_profile_id == other.id
    assert after_move.tags == ["vip", "east"]

    unassigned = client.messaging_hosted_numbers.update(mine["id"], messaging_profile_id="").data

    assert unassigned is not None and unassigned.messaging_profile_id is None
    assert unassigned.tags == ["vip", "east"]
    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send(from_=mine["number"], to=new_handset(), text="no profile")
    assert_error(caught.value, status=400, code="40305", pointer="/from")


def test_hosted_number_update_to_unknown_profile_is_refused(
    client: telnyx.Telnyx, hosted: dict[str, dict[str, str]]
) -> None:
    mine = hosted["listed"]

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messaging_hosted_numbers.update(mine["id"], messaging_profile_id=MISSING)

    assert_error(caught.value, status=422, code="10017", pointer="/messaging_profile_id")
    assert client.messaging_hosted_numbers.retrieve(mine["id"]).data.messaging_profile_id == mine["profile_id"]  # type: ignore[union-attr]


def test_update_of_a_number_that_is_not_hosted_is_not_found(client: telnyx.Telnyx, order_numbers) -> None:
    plain = new_long_code()
    order_numbers(plain)

    with pytest.raises(telnyx.NotFoundError) as caught:
        client.messaging_hosted_numbers.update(plain, tags=["x"])

    assert_error(caught.value, status=404, code="10005")
    assert client.phone_numbers.messaging.retrieve(plain).data.tags == []  # type: ignore[union-attr]


def test_hosted_number_delete(client: telnyx.Telnyx, hosted: dict[str, dict[str, str]]) -> None:
    mine = hosted["deleted"]

    order = client.messaging_hosted_numbers.delete(mine["id"]).data

    assert order is not None
    assert order.status == "deleted"
    assert [(n.phone_number, n.status) for n in order.phone_numbers or []] == [(mine["number"], "deleted")]
    assert order.messaging_profile_id == mine["profile_id"]
    with pytest.raises(telnyx.NotFoundError):
        client.messaging_hosted_numbers.retrieve(mine["id"])
    with pytest.raises(telnyx.NotFoundError):
        client.messaging_hosted_numbers.delete(mine["number"])
    assert list(client.messaging_hosted_numbers.list(filter_phone_number=mine["number"])) == []
    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send(from_=mine["number"], to=new_handset(), text="gone")
    assert_error(caught.value, status=400, code="40305", pointer="/from")


# --- v1 secret rotation (profiles-and-numbers.md §2.3) -------------------------------------------


def test_regenerate_secret(client: telnyx.Telnyx, make_profile) -> None:
    profile = make_profile()
    assert SECRET.match(profile.v1_secret or "")

    rotated = client.messaging_profiles.actions.regenerate_secret(profile.id).data

    assert rotated is not None and rotated.id == profile.id
    assert SECRET.match(rotated.v1_secret or ""), rotated.v1_secret
    assert rotated.v1_secret != profile.v1_secret
    assert rotated.updated_at is not None and profile.updated_at is not None
    assert rotated.updated_at > profile.updated_at
    assert rotated.created_at == profile.created_at
    assert rotated.name == profile.name
    fetched = client.messaging_profiles.retrieve(profile.id).data
    assert fetched is not None
    assert (fetched.v1_secret, fetched.updated_at) == (rotated.v1_secret, rotated.updated_at)

    again = client.messaging_profiles.actions.regenerate_secret(profile.id).data

    assert again is not None and again.v1_secret not in (profile.v1_secret, rotated.v1_secret)
    assert again.updated_at > rotated.updated_at  # type: ignore[operator]


@pytest.mark.parametrize("profile_id", [MISSING, "not-a-profile"])
def test_regenerate_secret_of_unknown_profile_is_not_found(client: telnyx.Telnyx, profile_id: str) -> None:
    with pytest.raises(telnyx.NotFoundError) as caught:
        client.messaging_profiles.actions.regenerate_secret(profile_id)

    assert_error(caught.value, status=404, code="10005")


# --- a server of our own for exact metrics and webhook records -----------------------------------


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """No retries after Telnyx's three attempts per URL, fast receipts, no sender throttling."""
    srv = Server(
        tmp_path_factory.mktemp("accounts"),
        env={
            "HELIOGRAPH_SIMULATOR_DLR_DELAY_MS": "50",
            "HELIOGRAPH_WEBHOOK_RETRY_HOURS": "0",
            "HELIOGRAPH_MPS_LONG_CODE": "1000",
        },
    ).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def own_client(own: Server) -> telnyx.Telnyx:
    return own.client(strict=True)


def _profile_with_number(sdk: telnyx.Telnyx, **fields: Any) -> tuple[Any, str]:
    profile = sdk.messaging_profiles.create(name=unique_name("own"), whitelisted_destinations=["*"], **fields).data
    assert profile is not None
    number = new_long_code()
    sdk.number_orders.create(phone_numbers=[{"phone_number": number}], messaging_profile_id=profile.id)
    return profile, number


def _wait_final(sdk: telnyx.Telnyx, message_ids: list[str]) -> dict[str, str]:
    def finals() -> dict[str, str] | None:
        statuses = {i: sdk.messages.retrieve(i).data.to[0].status for i in message_ids}  # type: ignore[union-attr,index]
        done = all(s in ("delivered", "delivery_failed", "sending_failed") for s in statuses.values())
        return statuses if done else None

    return eventually(finals, timeout=30, message="messages did not reach a final status")


# --- messaging profile metrics (metrics.md) ------------------------------------------------------


@pytest.fixture(scope="module")
def traffic(own: Server, own_client: telnyx.Telnyx) -> dict[str, Any]:
    """3 delivered, 1 delivery_failed (+15005550001), 1 inbound — on one profile of the own server."""
    profile, number = _profile_with_number(own_client)
    quiet, _ = _profile_with_number(own_client)
    sent = [own_client.messages.send(from_=number, to=new_handset(), text=f"m{i}").data for i in range(3)]
    sent.append(own_client.messages.send(from_=number, to="+15005550001", text="fails").data)
    statuses = _wait_final(own_client, [m.id for m in sent])  # type: ignore[union-attr,misc]
    assert sorted(statuses.values()) == ["delivered", "delivered", "delivered", "delivery_failed"]
    inbound = own.http().post("/sandbox/v1/inbound", json={"from": new_handset(), "to": number, "text": "hello"})
    assert inbound.status_code == 200, inbound.text
    assert inbound.json()["data"]["messaging_profile_id"] == profile.id
    return {"profile_id": profile.id, "quiet_id": quiet.id}


EXPECTED_OUTBOUND = {"sent": 4, "delivered": 3, "error_ratio": 0.25}


def _outbound(overview: dict[str, Any]) -> dict[str, Any]:
    outbound = overview["outbound"]
    return {k: outbound[k] for k in EXPECTED_OUTBOUND}


def test_metrics_list_counts_the_traffic(own_client: telnyx.Telnyx, traffic: dict[str, Any]) -> None:
    def mine() -> dict[str, Any] | None:
        page = own_client.messaging_profile_metrics.list(time_frame="1h")
        found = [m for m in page.data or [] if m.get("messaging_profile_id") == traffic["profile_id"]]
        assert len(found) == 1, page.data
        return found[0] if _outbound(found[0]) == EXPECTED_OUTBOUND else None

    item = eventually(mine, timeout=15, message="metrics never showed 4 sent, 3 delivered, error ratio 0.25")
    page = own_client.messaging_profile_metrics.list(time_frame="1h")

    assert item["record_type"] == "messaging_profile_metrics"
    assert item["phone_numbers"] == 1
    assert item["inbound"] == {"received": 1}
    assert item["outbound"]["errors"] == 0.25  # the newer name of the same figure (metrics.md §3)
    quiet = next(m for m in page.data or [] if m.get("messaging_profile_id") == traffic["quiet_id"])
    assert _outbound(quiet) == {"sent": 0, "delivered": 0, "error_ratio": 0}
    assert quiet["inbound"] == {"received": 0}
    assert page.meta is not None
    assert page.meta.total_results == len(page.data or []) >= 3  # bootstrapped profile + ours
    assert (page.meta.page_number, page.meta.total_pages) == (1, 1)


def test_metrics_list_default_time_frame_includes_recent_traffic(
    own_client: telnyx.Telnyx, traffic: dict[str, Any]
) -> None:
    def mine() -> dict[str, Any] | None:
        page = own_client.messaging_profile_metrics.list()
        found = next(m for m in page.data or [] if m.get("messaging_profile_id") == traffic["profile_id"])
        return found if _outbound(found) == EXPECTED_OUTBOUND else None

    item = eventually(mine, timeout=15)

    assert item["inbound"] == {"received": 1}


@pytest.mark.parametrize("time_frame", ["1h", "24h", "30d"])
def test_profile_metrics_overview_and_series(
    own_client: telnyx.Telnyx, traffic: dict[str, Any], time_frame: str
) -> None:
    def detail() -> dict[str, Any] | None:
        data = own_client.messaging_profiles.retrieve_metrics(traffic["profile_id"], time_frame=time_frame).data
        assert data is not None
        return data if _outbound(data["overview"]) == EXPECTED_OUTBOUND else None  # type: ignore[arg-type]

    data = eventually(detail, timeout=15)

    overview = data["overview"]
    assert overview["messaging_profile_id"] == traffic["profile_id"]
    assert overview["phone_numbers"] == 1
    assert overview["inbound"] == {"received": 1}
    series = data["detailed"]
    assert isinstance(series, list) and series
    stamps = [bucket["timestamp"] for bucket in series]
    assert stamps == sorted(stamps)  # oldest first
    metrics = [m for bucket in series for m in bucket["metrics"]]
    assert {m["label"] for m in metrics} == {"longcode"}
    assert sum(m["sent"] for m in metrics) == 4
    assert sum(m["delivered"] for m in metrics) == 3
    assert sum(m["received"] for m in metrics) == 1


def test_profile_metrics_of_a_quiet_profile_are_zero(own_client: telnyx.Telnyx, traffic: dict[str, Any]) -> None:
    data = own_client.messaging_profiles.retrieve_metrics(traffic["quiet_id"], time_frame="1h").data

    assert data is not None
    assert _outbound(data["overview"]) == {"sent": 0, "delivered": 0, "error_ratio": 0}  # type: ignore[arg-type]
    assert data["overview"]["inbound"] == {"received": 0}  # type: ignore[index]


def test_metrics_with_unknown_time_frame_are_refused(own_client: telnyx.Telnyx, traffic: dict[str, Any]) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as listed:
        own_client.messaging_profile_metrics.list(time_frame="2h")  # type: ignore[arg-type]
    with pytest.raises(telnyx.UnprocessableEntityError) as detailed:
        own_client.messaging_profiles.retrieve_metrics(traffic["profile_id"], time_frame="week")  # type: ignore[arg-type]

    assert_error(listed.value, status=422, code="10032", parameter="time_frame")
    assert_error(detailed.value, status=422, code="10032", parameter="time_frame")


def test_metrics_list_accepts_page_parameters(own_client: telnyx.Telnyx, traffic: dict[str, Any]) -> None:
    everything = own_client.messaging_profile_metrics.list(time_frame="1h")
    total = len(everything.data or [])

    second = own_client.messaging_profile_metrics.list(
        time_frame="1h", extra_query={"page[size]": 1, "page[number]": 2}
    )

    assert second.meta is not None
    assert (
        second.meta.page_number,
        second.meta.page_size,
        second.meta.total_pages,
        second.meta.total_results,
    ) == (
        2,
        1,
        total,
        total,
    )
    assert second.data == (everything.data or [])[1:2]


@pytest.mark.parametrize("profile_id", [MISSING, "not-a-profile"])
def test_metrics_of_unknown_profile_are_not_found(own_client: telnyx.Telnyx, profile_id: str) -> None:
    with pytest.raises(telnyx.NotFoundError) as caught:
        own_client.messaging_profiles.retrieve_metrics(profile_id, time_frame="1h")

    assert_error(caught.value, status=404, code="10005")


# --- webhook deliveries (webhooks.md §6) ---------------------------------------------------------


@pytest.fixture(scope="module")
def webhook_traffic(own: Server, own_client: telnyx.Telnyx) -> Iterator[dict[str, Any]]:
    """One message whose webhooks go to a URL answering 200, one whose URL answers 500."""
    with WebhookReceiver(lambda path, n: 500 if path == "/fail" else 200) as receiver:
        _, number = _profile_with_number(own_client)
        ok_url, fail_url = receiver.url("/ok"), receiver.url("/fail")
        ok = own_client.messages.send(from_=number, to=new_handset(), text="ok", webhook_url=ok_url).data
        bad = own_client.messages.send(from_=number, to=new_handset(), text="bad", webhook_url=fail_url).data
        assert ok is not None and bad is not None

        def settled() -> bool:
            ok_done = _deliveries_of(own_client, ok.id)  # type: ignore[arg-type]
            bad_done = _deliveries_of(own_client, bad.id)  # type: ignore[arg-type]
            return (
                len(ok_done) == 2
                and all(d.status == "delivered" for d in ok_done)
                and len(bad_done) == 2
                and all(len(d.attempts or []) == 3 for d in bad_done)
            )

        eventually(settled, timeout=30, message="webhook attempts did not settle")
        yield {"ok": ok, "bad": bad, "ok_url": ok_url, "fail_url": fail_url, "receiver": receiver}


def _deliveries_of(sdk: telnyx.Telnyx, message_id: str, **params: Any) -> list[Any]:
    flt = {"webhook": {"contains": message_id}, **params.pop("filter", {})}
    return list(sdk.webhook_deliveries.list(filter=flt, **params))  # type: ignore[arg-type]


def test_successful_webhook_deliveries(own: Server, own_client: telnyx.Telnyx, webhook_traffic: dict[str, Any]) -> None:
    ok = webhook_traffic["ok"]

    deliveries = _deliveries_of(own_client, ok.id)

    assert sorted(d.webhook.event_type for d in deliveries) == ["message.finalized", "message.sent"]
    received = {r.json()["data"]["id"] for r in webhook_traffic["receiver"].events("/ok")}
    for d in deliveries:
        assert d.record_type == "webhook_delivery"
        assert d.status == "delivered"
        assert d.user_id == own.info["organization_id"]
        assert d.webhook.record_type == "event"
        assert d.webhook.id in received
        assert d.webhook.payload["id"] == ok.id
        assert len(d.attempts) == 1
        attempt = d.attempts[0]
        assert attempt.status == "delivered"
        assert attempt.errors in (None, [])
        assert attempt.http.request.url == webhook_traffic["ok_url"]
        assert attempt.http.response.status == 200
        assert attempt.http.response.body == "ok"
        assert d.started_at == attempt.started_at
        assert d.finished_at == attempt.finished_at
        assert attempt.started_at <= attempt.finished_at


def test_failed_webhook_deliveries_record_every_attempt(
    own_client: telnyx.Telnyx, webhook_traffic: dict[str, Any]
) -> None:
    bad = webhook_traffic["bad"]
    posts: dict[str, int] = {}
    for r in webhook_traffic["receiver"].events("/fail"):
        event_id = r.json()["data"]["id"]
        posts[event_id] = posts.get(event_id, 0) + 1

    deliveries = _deliveries_of(own_client, bad.id)

    assert sorted(d.webhook.event_type for d in deliveries) == ["message.finalized", "message.sent"]
    for d in deliveries:
        assert d.status == "failed"
        assert d.webhook.payload["id"] == bad.id
        assert len(d.attempts) == 3 == posts[d.webhook.id]
        for attempt in d.attempts:
            assert attempt.status == "failed"
            assert attempt.errors == [75500]
            assert attempt.http.request.url == webhook_traffic["fail_url"]
            assert attempt.http.response.status == 500
        starts = [a.started_at for a in d.attempts]
        assert starts == sorted(starts, reverse=True) and len(set(starts)) == 3  # most recent first
        assert d.started_at == d.attempts[-1].started_at
        assert d.finished_at == d.attempts[0].finished_at


def test_retrieve_a_webhook_delivery(own_client: telnyx.Telnyx, webhook_traffic: dict[str, Any]) -> None:
    listed = _deliveries_of(own_client, webhook_traffic["bad"].id) + _deliveries_of(
        own_client, webhook_traffic["ok"].id
    )

    for d in listed:
        fetched = own_client.webhook_deliveries.retrieve(d.id).data
        assert fetched == d


@pytest.mark.parametrize("delivery_id", [MISSING, "not-a-delivery"])
def test_retrieve_unknown_webhook_delivery_is_not_found(own_client: telnyx.Telnyx, delivery_id: str) -> None:
    with pytest.raises(telnyx.NotFoundError) as caught:
        own_client.webhook_deliveries.retrieve(delivery_id)

    assert_error(caught.value, status=404, code="10005")


def test_filter_webhook_deliveries_by_status(own_client: telnyx.Telnyx, webhook_traffic: dict[str, Any]) -> None:
    ok_ids = {d.id for d in _deliveries_of(own_client, webhook_traffic["ok"].id)}
    bad_ids = {d.id for d in _deliveries_of(own_client, webhook_traffic["bad"].id)}

    failed = list(own_client.webhook_deliveries.list(filter={"status": {"eq": "failed"}}, page_size=250))
    delivered = list(own_client.webhook_deliveries.list(filter={"status": {"eq": "delivered"}}, page_size=250))

    assert {d.status for d in failed} == {"failed"}
    assert {d.status for d in delivered} == {"delivered"}
    assert bad_ids <= {d.id for d in failed}
    assert not ok_ids & {d.id for d in failed}
    assert ok_ids <= {d.id for d in delivered}
    assert not bad_ids & {d.id for d in delivered}


def test_filter_webhook_deliveries_by_event_type(own_client: telnyx.Telnyx, webhook_traffic: dict[str, Any]) -> None:
    ok = _deliveries_of(own_client, webhook_traffic["ok"].id)
    sent_id = next(d.id for d in ok if d.webhook.event_type == "message.sent")
    finalized_id = next(d.id for d in ok if d.webhook.event_type == "message.finalized")

    only_sent = list(own_client.webhook_deliveries.list(filter={"event_type": "message.sent"}, page_size=250))
    both = list(
        own_client.webhook_deliveries.list(
            filter={
                "event_type": "message.sent,message.finalized",
                "webhook": {"contains": webhook_traffic["ok"].id},
            }
        )
    )

    assert {d.webhook.event_type for d in only_sent} == {"message.sent"}
    assert sent_id in {d.id for d in only_sent}
    assert finalized_id not in {d.id for d in only_sent}
    assert {d.id for d in both} == {sent_id, finalized_id}


def test_filter_webhook_deliveries_by_attempted_url(own_client: telnyx.Telnyx, webhook_traffic: dict[str, Any]) -> None:
    bad_ids = {d.id for d in _deliveries_of(own_client, webhook_traffic["bad"].id)}

    by_url = list(own_client.webhook_deliveries.list(filter={"attempts": {"contains": "/fail"}}, page_size=250))

    assert {d.id for d in by_url} == bad_ids


def test_unknown_status_filter_is_refused(own_client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        own_client.webhook_deliveries.list(filter={"status": {"eq": "lost"}})  # type: ignore[typeddict-item]

    assert_error(caught.value, status=422, code="10031")


def test_filter_webhook_deliveries_by_start_time(own_client: telnyx.Telnyx, webhook_traffic: dict[str, Any]) -> None:
    message_id = webhook_traffic["ok"].id
    ours = _deliveries_of(own_client, message_id)
    earliest = min(d.started_at for d in ours)
    latest = max(d.started_at for d in ours)

    def listed(**bounds: str) -> set[str]:
        flt = {"started_at": bounds, "webhook": {"contains": message_id}}
        return {d.id for d in own_client.webhook_deliveries.list(filter=flt)}  # type: ignore[arg-type]

    assert listed(gte=(latest + timedelta(seconds=1)).isoformat()) == set()
    assert listed(lte=(earliest - timedelta(seconds=1)).isoformat()) == set()
    assert listed(gte=(earliest - timedelta(seconds=1)).isoformat()) == {d.id for d in ours}
    # the bounds are inclusive: a delivery's own started_at, exactly as the API reports it, selects it
    for d in ours:
        assert d.id in listed(gte=d.started_at.isoformat(), lte=d.started_at.isoformat()), d.started_at
        assert d.id in listed(lte=d.started_at.isoformat()), d.started_at


def test_filter_webhook_deliveries_by_finish_time(own_client: telnyx.Telnyx, webhook_traffic: dict[str, Any]) -> None:
    message_id = webhook_traffic["bad"].id
    ours = _deliveries_of(own_client, message_id)

    def listed(**bounds: str) -> set[str]:
        flt = {"finished_at": bounds, "webhook": {"contains": message_id}}
        return {d.id for d in own_client.webhook_deliveries.list(filter=flt)}  # type: ignore[arg-type]

    assert listed(gte=(max(d.finished_at for d in ours) + timedelta(seconds=1)).isoformat()) == set()
    for d in ours:
        assert d.id in listed(lte=d.finished_at.isoformat()), d.finished_at

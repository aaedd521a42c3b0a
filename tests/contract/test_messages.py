"""Sending and reading messages through the official SDK (spec messages.md §1–§10)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import telnyx
from contract_support import MONEY, UUID, assert_error, new_handset, new_long_code, new_toll_free
from support import Server, eventually

MISSING_PROFILE = "00000000-0000-4000-8000-000000000000"
EMOJI = "\N{GRINNING FACE}"


def _amount(money: Any) -> Decimal:
    assert money is not None and money.currency == "USD"
    assert MONEY.match(money.amount or ""), money.amount
    return Decimal(money.amount)


def _final_status(client: telnyx.Telnyx, message_id: str, wanted: str) -> Any:
    def reached() -> Any:
        message = client.messages.retrieve(message_id).data
        assert message is not None and message.to
        return message if message.to[0].status == wanted else None

    # a generous deadline: the simulator answers in ~50 ms, but CI machines can be very busy
    return eventually(reached, timeout=60, message=f"message {message_id} never became {wanted}")


# --- the happy path ------------------------------------------------------------------------------


def test_send_answers_with_the_queued_message(client: telnyx.Telnyx, server: Server, sender) -> None:
    # a sender of its own: the shared numbers are paced by everyone's traffic (wait_seconds > 0)
    profile, number = sender()
    to = new_handset()

    message = client.messages.send(from_=number, to=to, text="Hello from the contract suite").data

    assert message is not None
    assert message.record_type == "message"
    assert message.direction == "outbound"
    assert UUID.match(message.id or "")
    assert message.type == "SMS"
    assert message.messaging_profile_id == profile.id
    assert message.organization_id == server.info["organization_id"]
    assert message.from_ is not None and message.from_.phone_number == number
    assert message.to is not None and len(message.to) == 1
    assert message.to[0].phone_number == to
    assert message.to[0].status == "queued"
    assert message.cc == []
    assert message.text == "Hello from the contract suite"
    assert message.subject is None
    assert message.media == []
    assert message.encoding == "GSM-7"
    assert message.parts == 1
    assert message.num_chars == len("Hello from the contract suite")
    assert message.errors == []
    assert message.smart_encoding_applied is False
    assert message.wait_seconds == 0.0
    assert message.received_at is not None
    assert message.sent_at is None and message.completed_at is None
    assert message.valid_until is not None
    assert message.valid_until - message.received_at == timedelta(hours=4)
    assert message.tcr_campaign_billable is False
    breakdown = message.cost_breakdown
    assert breakdown is not None
    assert _amount(message.cost) == _amount(breakdown.rate) + _amount(breakdown.carrier_fee)
    assert _amount(message.cost) > 0


def test_sent_message_is_eventually_delivered(client: telnyx.Telnyx, server: Server) -> None:
    sent = client.messages.send(from_=server.toll_free, to=new_handset(), text="deliver me").data
    assert sent is not None and sent.id is not None

    delivered = _final_status(client, sent.id, "delivered")

    assert delivered.id == sent.id
    assert delivered.direction == "outbound"
    assert delivered.text == "deliver me"
    assert delivered.sent_at is not None and delivered.completed_at is not None
    assert delivered.sent_at <= delivered.completed_at
    assert delivered.valid_until is None
    assert delivered.errors == []
    assert delivered.cost is not None and delivered.cost.amount == sent.cost.amount  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("to", "status", "code"),
    [
        ("+15005550001", "delivery_failed", "40008"),
        ("+15005550002", "sending_failed", "40012"),
        ("+15005550003", "delivery_unconfirmed", None),
    ],
)
def test_sandbox_test_numbers_reach_their_documented_outcome(
    client: telnyx.Telnyx, server: Server, to: str, status: str, code: str | None
) -> None:
    sent = client.messages.send(from_=server.long_code, to=to, text="outcome").data
    assert sent is not None and sent.id is not None

    final = _final_status(client, sent.id, status)

    assert final.completed_at is not None
    if code is not None:
        assert [e.code for e in final.errors or []] == [code]
        assert all(e.title for e in final.errors or [])


def test_long_text_is_split_into_parts_and_priced_per_part(client: telnyx.Telnyx, server: Server) -> None:
    one = client.messages.send(from_=server.long_code, to=new_handset(), text="a" * 160).data
    two = client.messages.send(from_=server.long_code, to=new_handset(), text="a" * 161).data
    assert one is not None and two is not None

    assert (one.parts, one.encoding, one.num_chars) == (1, "GSM-7", 160)
    assert (two.parts, two.encoding, two.num_chars) == (2, "GSM-7", 161)
    assert _amount(two.cost) == 2 * _amount(one.cost)


def test_non_gsm_text_is_sent_as_ucs2(client: telnyx.Telnyx, server: Server) -> None:
    short = client.messages.send(from_=server.long_code, to=new_handset(), text="Hi " + EMOJI).data
    long = client.messages.send(from_=server.long_code, to=new_handset(), text=EMOJI + "x" * 69).data
    assert short is not None and long is not None

    assert (short.encoding, short.parts, short.num_chars) == ("UCS-2", 1, 4)
    # the emoji counts two UTF-16 units: 71 units no longer fit one 70-unit part
    assert (long.encoding, long.parts) == ("UCS-2", 2)


def test_encoding_ucs2_forces_ucs2(client: telnyx.Telnyx, server: Server) -> None:
    message = client.messages.send(from_=server.long_code, to=new_handset(), text="x" * 71, encoding="ucs2").data

    assert message is not None
    assert (message.encoding, message.parts) == ("UCS-2", 2)


def test_mms_with_media(client: telnyx.Telnyx, server: Server) -> None:
    urls = ["https://example.com/a.png", "https://example.com/b.jpg"]

    message = client.messages.send(
        from_=server.long_code, to=new_handset(), text="look", subject="Pictures", media_urls=urls
    ).data

    assert message is not None
    assert message.type == "MMS"
    assert message.parts == 1
    assert message.subject == "Pictures"
    assert [m.url for m in message.media or []] == urls
    assert _amount(message.cost) > 0


def test_unknown_fields_are_ignored(client: telnyx.Telnyx, server: Server) -> None:
    raw = client.messages.with_raw_response.send(
        from_=server.long_code,
        to=new_handset(),
        text="extra",
        extra_body={"priority": "high", "metadata": {"a": 1}},
    )

    message = raw.parse().data
    assert message is not None and message.to is not None and message.to[0].status == "queued"
    assert "x-heliograph-warning" not in raw.headers


def test_send_echoes_per_message_webhook_urls(client: telnyx.Telnyx, server: Server) -> None:
    message = client.messages.send(
        from_=server.long_code,
        to=new_handset(),
        text="hooks",
        webhook_url="https://example.com/primary",
        webhook_failover_url="https://example.com/failover",
    ).data

    assert message is not None
    assert message.webhook_url == "https://example.com/primary"
    assert message.webhook_failover_url == "https://example.com/failover"


def test_send_from_a_freshly_ordered_number(client: telnyx.Telnyx, sender) -> None:
    profile, number = sender()

    message = client.messages.send(from_=number, to=new_handset(), text="new number").data

    assert message is not None
    assert message.from_ is not None and message.from_.phone_number == number
    assert message.messaging_profile_id == profile.id


def test_profile_of_the_from_number_wins_over_the_body(client: telnyx.Telnyx, sender, make_profile) -> None:
    profile, number = sender()
    other = make_profile()

    message = client.messages.send(from_=number, to=new_handset(), text="whose?", messaging_profile_id=other.id).data

    assert message is not None and message.messaging_profile_id == profile.id


def test_send_long_code(client: telnyx.Telnyx, server: Server) -> None:
    to = new_handset()

    for number in (server.long_code, server.toll_free):
        message = client.messages.send_long_code(from_=number, to=to, text="long code").data
        assert message is not None
        assert message.from_ is not None and message.from_.phone_number == number
        assert message.to is not None and message.to[0].status == "queued"
        assert message.messaging_profile_id == server.profile_id


def test_send_long_code_refuses_a_short_code(client: telnyx.Telnyx, make_profile, add_short_code) -> None:
    code = add_short_code(make_profile().id)

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send_long_code(from_=code["number"], to=new_handset(), text="nope")

    assert_error(caught.value, status=400, code="40305", pointer="/from")


def test_send_short_code(client: telnyx.Telnyx, make_profile, add_short_code) -> None:
    profile = make_profile()
    code = add_short_code(profile.id)

    message = client.messages.send_short_code(from_=code["number"], to=new_handset(), text="short code").data

    assert message is not None
    assert message.from_ is not None and message.from_.phone_number == code["number"]
    assert message.to is not None and message.to[0].status == "queued"
    assert message.messaging_profile_id == profile.id
    assert message.id is not None
    _final_status(client, message.id, "delivered")


def test_send_short_code_refuses_a_long_code(client: telnyx.Telnyx, server: Server) -> None:
    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send_short_code(from_=server.long_code, to=new_handset(), text="nope")

    assert_error(caught.value, status=400, code="40305", pointer="/from")


def test_send_from_unassigned_short_code_is_refused(client: telnyx.Telnyx, add_short_code) -> None:
    code = add_short_code()

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send_short_code(from_=code["number"], to=new_handset(), text="nope")

    assert_error(caught.value, status=400, code="40305", pointer="/from")


# --- retrieve ------------------------------------------------------------------------------------


@pytest.mark.parametrize("message_id", ["00000000-0000-4000-8000-000000000000", "not-a-message"])
def test_retrieve_unknown_message_is_not_found(client: telnyx.Telnyx, message_id: str) -> None:
    with pytest.raises(telnyx.NotFoundError) as caught:
        client.messages.retrieve(message_id)

    assert_error(caught.value, status=404, code="40303")


def test_retrieve_returns_what_send_answered(client: telnyx.Telnyx, server: Server) -> None:
    sent = client.messages.send(from_=server.long_code, to=new_handset(), text="same", subject=None).data
    assert sent is not None and sent.id is not None

    fetched = client.messages.retrieve(sent.id).data

    assert fetched is not None
    assert fetched.id == sent.id
    assert fetched.direction == "outbound"
    assert fetched.received_at == sent.received_at
    assert (fetched.text, fetched.parts, fetched.encoding) == (sent.text, sent.parts, sent.encoding)
    assert fetched.from_ is not None and fetched.from_.phone_number == server.long_code


# --- synchronous rejections (messages.md §3) -----------------------------------------------------


@pytest.mark.parametrize("to", ["not-a-number", "+1", "+15005550004", "0044 7700 900123", "+1 312 555 0199"])
def test_invalid_to_is_refused(client: telnyx.Telnyx, server: Server, to: str) -> None:
    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send(from_=server.long_code, to=to, text="x")

    assert_error(caught.value, status=400, code="40310", pointer="/to")


@pytest.mark.parametrize("content", [{}, {"text": ""}, {"text": "", "media_urls": []}])
def test_message_without_content_is_refused(client: telnyx.Telnyx, server: Server, content: dict) -> None:
    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send(from_=server.long_code, to=new_handset(), **content)

    assert_error(caught.value, status=400, code="40316")


def test_subject_alone_is_content_for_an_mms(client: telnyx.Telnyx, server: Server) -> None:
    message = client.messages.send(from_=server.long_code, to=new_handset(), subject="Only a subject").data

    assert message is not None and message.type == "MMS"


def test_sms_with_media_is_refused(client: telnyx.Telnyx, server: Server) -> None:
    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send(
            from_=server.long_code,
            to=new_handset(),
            type="SMS",
            text="x",
            media_urls=["https://example.com/a.png"],
        )

    assert_error(caught.value, status=400, code="40304")


def test_more_than_ten_media_is_refused(client: telnyx.Telnyx, server: Server) -> None:
    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send(
            from_=server.long_code,
            to=new_handset(),
            media_urls=[f"https://example.com/{i}.png" for i in range(11)],
        )

    assert_error(caught.value, status=400, code="40317", pointer="/media_urls")


def test_ten_media_are_accepted(client: telnyx.Telnyx, server: Server) -> None:
    message = client.messages.send(
        from_=server.long_code,
        to=new_handset(),
        media_urls=[f"https://example.com/{i}.png" for i in range(10)],
    ).data

    assert message is not None and len(message.media or []) == 10


def test_unknown_from_number_is_refused(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send(from_="+12065550000", to=new_handset(), text="not mine")

    assert_error(caught.value, status=400, code="40305", pointer="/from")


def test_from_number_without_profile_is_refused(client: telnyx.Telnyx, order_numbers) -> None:
    number = new_long_code()
    order_numbers(number)

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send(from_=number, to=new_handset(), text="no profile")

    assert_error(caught.value, status=400, code="40305", pointer="/from")


def test_number_unassigned_from_its_profile_can_no_longer_send(client: telnyx.Telnyx, sender) -> None:
    _, number = sender()
    assert client.messages.send(from_=number, to=new_handset(), text="before").data is not None
    client.phone_numbers.messaging.update(number, messaging_profile_id="")

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send(from_=number, to=new_handset(), text="after")

    assert_error(caught.value, status=400, code="40305", pointer="/from")


def test_disabled_profile_cannot_send(client: telnyx.Telnyx, sender) -> None:
    profile, number = sender(enabled=False)

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send(from_=number, to=new_handset(), text="disabled")

    entry = assert_error(caught.value, status=400, code="40312")
    assert profile.id in entry.get("detail", "")


def test_re_enabled_profile_sends_again(client: telnyx.Telnyx, sender) -> None:
    profile, number = sender(enabled=False)
    client.messaging_profiles.update(profile.id, enabled=True)

    message = client.messages.send(from_=number, to=new_handset(), text="enabled again").data

    assert message is not None and message.to is not None and message.to[0].status == "queued"


def test_destination_outside_whitelist_is_refused(client: telnyx.Telnyx, sender) -> None:
    _, number = sender(whitelisted_destinations=["US"])

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send(from_=number, to="+447700900123", text="abroad")
    allowed = client.messages.send(from_=number, to=new_handset(), text="at home").data

    entry = assert_error(caught.value, status=400, code="40309", pointer="/to")
    assert "GB" in entry.get("detail", "")
    assert allowed is not None


def test_empty_whitelist_is_refused(client: telnyx.Telnyx, sender) -> None:
    _, number = sender(whitelisted_destinations=[])

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send(from_=number, to=new_handset(), text="nowhere")

    assert_error(caught.value, status=400, code="40331")


def test_more_than_ten_parts_is_refused(client: telnyx.Telnyx, server: Server) -> None:
    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send(from_=server.long_code, to=new_handset(), text="a" * (153 * 10 + 1))
    longest = client.messages.send(from_=server.long_code, to=new_handset(), text="a" * (153 * 10)).data

    entry = assert_error(caught.value, status=400, code="40302", pointer="/text")
    assert "11" in entry.get("detail", "")
    assert longest is not None and longest.parts == 10


def test_auto_detect_refuses_more_than_the_recommended_parts(client: telnyx.Telnyx, server: Server) -> None:
    seven_parts = "a" * (153 * 6 + 1)

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send(from_=server.long_code, to=new_handset(), text=seven_parts, auto_detect=True)
    without = client.messages.send(from_=server.long_code, to=new_handset(), text=seven_parts).data
    six_parts = client.messages.send(
        from_=server.long_code, to=new_handset(), text="a" * (153 * 6), auto_detect=True
    ).data

    assert_error(caught.value, status=400, code="40328", pointer="/text")
    assert without is not None and without.parts == 7
    assert six_parts is not None and six_parts.parts == 6


def test_gsm7_encoding_with_emoji_is_refused(client: telnyx.Telnyx, server: Server) -> None:
    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send(from_=server.long_code, to=new_handset(), text="party " + EMOJI, encoding="gsm7")

    assert_error(caught.value, status=400, code="10015", pointer="/text")


def test_missing_to_is_refused(client: telnyx.Telnyx, server: Server) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messages.send(from_=server.long_code, to=telnyx.omit, text="to whom?")  # type: ignore[arg-type]

    assert_error(caught.value, status=422, code="10004", pointer="/to")


def test_missing_from_and_profile_is_refused(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messages.send(to=new_handset(), text="from whom?")

    assert_error(caught.value, status=422, code="10004", pointer="/from")


@pytest.mark.parametrize(
    "send",
    [
        lambda c, to: c.messages.send_long_code(from_=telnyx.omit, to=to, text="x"),
        lambda c, to: c.messages.send_short_code(from_=telnyx.omit, to=to, text="x"),
    ],
    ids=["long_code", "short_code"],
)
def test_dedicated_endpoints_require_from(client: telnyx.Telnyx, send: Any) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        send(client, new_handset())

    assert_error(caught.value, status=422, code="10004", pointer="/from")


def test_unknown_messaging_profile_is_refused(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messages.send(to=new_handset(), text="pool", messaging_profile_id=MISSING_PROFILE)

    assert_error(caught.value, status=422, code="10017", pointer="/messaging_profile_id")


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"to": ["+14155550100"]}, "/to"),
        ({"text": 42}, "/text"),
        ({"media_urls": "https://example.com/a.png"}, "/media_urls"),
        ({"media_urls": [42]}, "/media_urls/0"),
        ({"auto_detect": "true"}, "/auto_detect"),
        ({"use_profile_webhooks": 1}, "/use_profile_webhooks"),
        ({"subject": ["a"]}, "/subject"),
        ({"from": 13125550100}, "/from"),
    ],
)
def test_wrong_json_type_is_refused(client: telnyx.Telnyx, server: Server, body: dict, pointer: str) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messages.send(from_=server.long_code, to=new_handset(), text="types", extra_body=body)

    assert_error(caught.value, status=422, code="10026", pointer=pointer)


@pytest.mark.parametrize(("field", "value"), [("type", "TEXT"), ("type", "sms"), ("encoding", "utf8")])
def test_bad_enum_is_refused(client: telnyx.Telnyx, server: Server, field: str, value: str) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messages.send(from_=server.long_code, to=new_handset(), text="enum", extra_body={field: value})

    assert_error(caught.value, status=422, code="10032", pointer=f"/{field}")


@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        ({"webhook_url": "not a url"}, "/webhook_url"),
        ({"webhook_failover_url": "ftp://example.com/hook"}, "/webhook_failover_url"),
        ({"webhook_url": "https://example.com/" + "a" * 2000}, "/webhook_url"),
        ({"media_urls": ["https://example.com/ok.png", "example.com/missing-scheme.png"]}, "/media_urls/1"),
    ],
)
def test_bad_url_is_refused(client: telnyx.Telnyx, server: Server, fields: dict, pointer: str) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messages.send(from_=server.long_code, to=new_handset(), text="urls", **fields)

    assert_error(caught.value, status=422, code="10003", pointer=pointer)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        # row 2 (missing to) before row 4 (bad enum)
        ({"from": "+13125550100", "type": "TEXT", "text": "x"}, "10004"),
        # row 4 (bad enum) before row 5 (bad URL)
        ({"type": "TEXT", "webhook_url": "nope", "text": "x"}, "10032"),
        # row 10 (bad to) before row 11 (no content)
        ({"to": "garbage"}, "40310"),
        # row 11 (no content) before row 14 (unknown sender)
        ({"to": "+14155550100", "from": "+12065550000"}, "40316"),
    ],
)
def test_the_first_failing_check_wins(server: Server, body: dict, code: str) -> None:
    body = {"from": server.long_code, "to": new_handset(), **body}
    if code == "10004":
        del body["to"]

    response = server.http().post("/v2/messages", json=body)

    assert_error(response, status=422 if code.startswith("100") else 400, code=code)


# --- camelCase hints -----------------------------------------------------------------------------


def test_camel_case_send_at_is_ignored_with_a_warning(client: telnyx.Telnyx, server: Server) -> None:
    later = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()

    raw = client.messages.with_raw_response.send(
        from_=server.long_code, to=new_handset(), text="camel", extra_body={"sendAt": later}
    )

    warning = raw.headers.get("x-heliograph-warning", "")
    assert "sendAt" in warning and "send_at" in warning
    message = raw.parse().data
    assert message is not None and message.to is not None and message.to[0].status == "queued"


def test_camel_case_messaging_profile_id_is_named_in_a_warning(client: telnyx.Telnyx, server: Server) -> None:
    raw = client.messages.with_raw_response.send(
        from_=server.long_code,
        to=new_handset(),
        text="camel",
        extra_body={"messagingProfileId": server.profile_id},
    )

    warning = raw.headers.get("x-heliograph-warning", "")
    assert "messagingProfileId" in warning and "messaging_profile_id" in warning
    assert (
        "x-heliograph-warning"
        not in client.messages.with_raw_response.send(from_=server.long_code, to=new_handset(), text="snake").headers
    )


def test_camel_case_hint_comes_with_the_error_it_causes(client: telnyx.Telnyx, server: Server) -> None:
    """The hint matters most when the misspelt field is why the request fails (the key was ignored,
    so neither `from` nor `messaging_profile_id` was given)."""
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messages.send(to=new_handset(), text="camel", extra_body={"messagingProfileId": server.profile_id})

    assert_error(caught.value, status=422, code="10004", pointer="/from")
    assert "messagingProfileId" in caught.value.response.headers.get("x-heliograph-warning", "")


# --- scheduling (known strict-validation exceptions, spec README §11 items 1-2) ------------------


def _in(minutes: float) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)


def test_send_with_send_at_is_scheduled(lax_client: telnyx.Telnyx, server: Server) -> None:
    when = _in(10).replace(microsecond=0)

    message = lax_client.messages.send(from_=server.long_code, to=new_handset(), text="later", send_at=when).data
    assert message is not None and message.id is not None
    fetched = lax_client.messages.retrieve(message.id).data

    assert message.to is not None and message.to[0].status == "scheduled"
    assert datetime.fromisoformat(str(message.model_extra["send_at"]).replace("Z", "+00:00")) == when  # type: ignore[index]
    assert fetched is not None and fetched.to is not None and fetched.to[0].status == "scheduled"
    assert fetched.sent_at is None


def test_schedule_endpoint_schedules(lax_client: telnyx.Telnyx, server: Server) -> None:
    message = lax_client.messages.schedule(
        from_=server.long_code, to=new_handset(), text="scheduled", send_at=_in(30).isoformat()
    ).data

    assert message is not None and message.to is not None
    assert message.to[0].status == "scheduled"


def test_schedule_without_send_at_is_refused(client: telnyx.Telnyx, server: Server) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messages.schedule(from_=server.long_code, to=new_handset(), text="when?")

    assert_error(caught.value, status=422, code="10004", pointer="/send_at")


@pytest.mark.parametrize(
    "send_at",
    [
        lambda: _in(1).isoformat(),
        lambda: _in(-5).isoformat(),
        lambda: _in(6 * 24 * 60).isoformat(),
        lambda: "tomorrow",
    ],
)
def test_send_at_outside_the_window_is_refused(client: telnyx.Telnyx, server: Server, send_at: Any) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messages.send(from_=server.long_code, to=new_handset(), text="when", send_at=send_at())

    assert_error(caught.value, status=422, code="10033", pointer="/send_at")


def test_scheduled_send_is_validated_at_once(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.schedule(from_="+12065550000", to=new_handset(), text="x", send_at=_in(10).isoformat())

    assert_error(caught.value, status=400, code="40305", pointer="/from")


def test_cancel_a_scheduled_message(
    client: telnyx.Telnyx,
    lax_client: telnyx.Telnyx,
    server: Server,
) -> None:
    scheduled = lax_client.messages.send(
        from_=server.long_code, to=new_handset(), text="cancel me", send_at=_in(20)
    ).data
    assert scheduled is not None and scheduled.id is not None

    cancelled = client.messages.cancel_scheduled(scheduled.id)
    fetched = lax_client.messages.retrieve(scheduled.id).data

    assert cancelled.id == scheduled.id
    assert cancelled.to is not None and cancelled.to[0].status == "cancelled"
    assert cancelled.text == "cancel me"
    assert fetched is not None and fetched.to is not None and fetched.to[0].status == "cancelled"


def test_cancelling_twice_is_forbidden(client: telnyx.Telnyx, lax_client: telnyx.Telnyx, server: Server) -> None:
    scheduled = lax_client.messages.send(from_=server.long_code, to=new_handset(), text="once", send_at=_in(20)).data
    assert scheduled is not None and scheduled.id is not None
    client.messages.cancel_scheduled(scheduled.id)

    with pytest.raises(telnyx.PermissionDeniedError) as caught:
        client.messages.cancel_scheduled(scheduled.id)

    assert_error(caught.value, status=403, code="10015")


def test_cancelling_a_message_that_is_not_scheduled_is_forbidden(client: telnyx.Telnyx, server: Server) -> None:
    sent = client.messages.send(from_=server.long_code, to=new_handset(), text="already going").data
    assert sent is not None and sent.id is not None

    with pytest.raises(telnyx.PermissionDeniedError) as caught:
        client.messages.cancel_scheduled(sent.id)

    assert_error(caught.value, status=403, code="10015")
    assert client.messages.retrieve(sent.id).data.to[0].status != "cancelled"  # type: ignore[union-attr,index]


@pytest.mark.parametrize("message_id", ["00000000-0000-4000-8000-000000000000", "nope"])
def test_cancelling_an_unknown_message_is_not_found(client: telnyx.Telnyx, message_id: str) -> None:
    with pytest.raises(telnyx.NotFoundError) as caught:
        client.messages.cancel_scheduled(message_id)

    assert_error(caught.value, status=404, code="40303")


def test_number_pool_picks_one_of_the_profiles_numbers(client: telnyx.Telnyx, sender, order_numbers) -> None:
    """With a number pool and no `from`, the sender is one of the profile's numbers."""
    profile, long_code = sender(
        number_pool_settings={"long_code_weight": 1, "toll_free_weight": 1, "skip_unhealthy": False}
    )
    toll_free = new_toll_free()
    order_numbers(toll_free, profile_id=profile.id)

    message = client.messages.send(to=new_handset(), text="pool", messaging_profile_id=profile.id).data

    assert message is not None and message.from_ is not None
    assert message.from_.phone_number in (long_code, toll_free)
    assert message.messaging_profile_id == profile.id


def test_profile_without_pool_and_no_from_is_refused(client: telnyx.Telnyx, sender) -> None:
    profile, _ = sender()

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.send(to=new_handset(), text="pool", messaging_profile_id=profile.id)

    assert_error(caught.value, status=400, code="40321")

"""Messages as a caller reads them back: POST then GET /v2/messages/{id}, scheduled messages and
cancelling them (spec messages.md). In-process through the ASGI app, workers off and time frozen, so a
message stays as the request left it."""

from __future__ import annotations

from api_support import Api, error_of

SEND_AT = "2027-01-15T09:00:00Z"  # an hour after the frozen clock's now


async def test_a_sent_message_reads_back_as_it_was_answered(api: Api) -> None:
    body = {"from": api.long_code, "to": "+13125550123", "text": "hello", "tags": ["a"]}
    sent = (await api.ok("POST", "/v2/messages", json=body))["data"]
    assert sent["record_type"] == "message" and sent["direction"] == "outbound"
    assert sent["to"] == [
        {
            "phone_number": "+13125550123",
            "carrier": sent["to"][0]["carrier"],
            "line_type": "Wireless",
            "status": "queued",
        }
    ]
    assert (sent["type"], sent["encoding"], sent["parts"], sent["text"]) == ("SMS", "GSM-7", 1, "hello")
    assert sent["messaging_profile_id"] == api.profile_id
    read = (await api.ok("GET", f"/v2/messages/{sent['id']}"))["data"]
    assert read.pop("heliograph") == {"carrier_message_ids": [], "connector": None}  # not yet at a carrier
    assert read == sent


async def test_a_long_unicode_message_counts_its_parts(api: Api) -> None:
    text = "Привет, мир! " * 10  # 130 UCS-2 characters: two parts of 67
    sent = (await api.ok("POST", "/v2/messages", json={"from": api.long_code, "to": "+13125550123", "text": text}))[
        "data"
    ]
    assert (sent["encoding"], sent["parts"]) == ("UCS-2", 2)
    assert (await api.ok("GET", f"/v2/messages/{sent['id']}"))["data"]["parts"] == 2


async def test_an_unknown_message_id_is_40303(api: Api) -> None:
    error_of(await api.http.get(f"/v2/messages/{'0' * 8}-0000-0000-0000-{'0' * 12}"), 404, "40303")


async def test_a_scheduled_message_can_be_cancelled_once(api: Api) -> None:
    body = {"from": api.long_code, "to": "+13125550123", "text": "later", "send_at": SEND_AT}
    sent = (await api.ok("POST", "/v2/messages", json=body))["data"]
    assert sent["to"][0]["status"] == "scheduled"
    assert sent["send_at"].startswith("2027-01-15T09:00:00")
    cancelled = await api.ok("DELETE", f"/v2/messages/{sent['id']}")  # Telnyx answers the bare message here
    assert cancelled["id"] == sent["id"] and cancelled["to"][0]["status"] == "cancelled"
    assert (await api.ok("GET", f"/v2/messages/{sent['id']}"))["data"]["to"][0]["status"] == "cancelled"
    error_of(await api.http.delete(f"/v2/messages/{sent['id']}"), 403, "10015")


async def test_send_at_too_far_ahead_is_refused_with_its_pointer(api: Api) -> None:
    body = {"from": api.long_code, "to": "+13125550123", "text": "x", "send_at": "2099-01-01T00:00:00Z"}
    answer = await api.http.post("/v2/messages", json=body)
    assert error_of(answer, 422, "10033")["source"] == {"pointer": "/send_at"}


async def test_a_sender_that_is_not_yours_is_refused(api: Api) -> None:
    answer = await api.http.post("/v2/messages", json={"from": "+13125559999", "to": "+13125550123", "text": "x"})
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["errors"][0]["source"] == {"pointer": "/from"}

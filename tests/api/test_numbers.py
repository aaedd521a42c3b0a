"""Numbers through the API: a sandbox number order completes at once, and the number then shows in the
messaging settings, can move between profiles and sends (spec number_orders.md, phone_numbers.md).
In-process, through the ASGI app."""

from __future__ import annotations

from api_support import Api, error_of

NUMBER = "+13125550177"


async def _order(api: Api, profile_id: str) -> dict:
    order = {"phone_numbers": [{"phone_number": NUMBER}], "messaging_profile_id": profile_id}
    return (await api.ok("POST", "/v2/number_orders", json=order))["data"]


async def test_an_ordered_number_is_ready_to_send(api: Api) -> None:
    order = await _order(api, api.profile_id)
    assert order["record_type"] == "number_order" and order["status"] == "success"
    assert [(n["phone_number"], n["status"]) for n in order["phone_numbers"]] == [(NUMBER, "success")]
    assert (await api.ok("GET", f"/v2/number_orders/{order['id']}"))["data"] == order
    listed = (await api.ok("GET", "/v2/number_orders"))["data"]
    assert [o["id"] for o in listed] == [order["id"]]

    settings = (await api.ok("GET", f"/v2/phone_numbers/{NUMBER}/messaging"))["data"]
    assert (settings["record_type"], settings["phone_number"]) == ("messaging_settings", NUMBER)
    assert settings["messaging_profile_id"] == api.profile_id
    by_id = (await api.ok("GET", f"/v2/phone_numbers/{settings['id']}/messaging"))["data"]
    assert by_id == settings
    all_numbers = (await api.ok("GET", "/v2/phone_numbers/messaging"))["data"]
    assert NUMBER in {n["phone_number"] for n in all_numbers}

    sent = await api.ok("POST", "/v2/messages", json={"from": NUMBER, "to": "+13125550123", "text": "hi"})
    assert sent["data"]["from"]["phone_number"] == NUMBER


async def test_a_number_moves_to_another_profile(api: Api) -> None:
    await _order(api, api.profile_id)
    other = (await api.ok("POST", "/v2/messaging_profiles", json={"name": "Other", "whitelisted_destinations": ["*"]}))[
        "data"
    ]
    moved = await api.ok("PATCH", f"/v2/phone_numbers/{NUMBER}/messaging", json={"messaging_profile_id": other["id"]})
    assert moved["data"]["messaging_profile_id"] == other["id"]
    on_other = (await api.ok("GET", f"/v2/messaging_profiles/{other['id']}/phone_numbers"))["data"]
    assert [n["phone_number"] for n in on_other] == [NUMBER]
    on_default = (await api.ok("GET", f"/v2/messaging_profiles/{api.profile_id}/phone_numbers"))["data"]
    assert NUMBER not in {n["phone_number"] for n in on_default}
    sent = await api.ok("POST", "/v2/messages", json={"from": NUMBER, "to": "+13125550123", "text": "hi"})
    assert sent["data"]["messaging_profile_id"] == other["id"]


async def test_a_number_you_do_not_have_is_10005(api: Api) -> None:
    error_of(await api.http.get("/v2/phone_numbers/+13125550199/messaging"), 404, "10005")

"""Who may call the API: a key is required, and an organization sees only its own resources
(spec README §2, errors.md §1; DESIGN invariant 4). In-process, through the ASGI app."""

from __future__ import annotations

import pytest
from api_support import Api, error_of


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Basic a2V5OnNlY3JldA==", "KEYAPITESTS00000000000000000000000"],
)
async def test_a_request_without_a_valid_bearer_key_is_401(api: Api, authorization: str | None) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    async with api.client() as anonymous:
        answer = await anonymous.get("/v2/messaging_profiles", headers=headers)
    error_of(answer, 401, "10009")


async def test_a_wrong_key_is_401_and_sends_nothing(api: Api) -> None:
    async with api.client("KEYWRONG" + "0" * 26) as intruder:
        answer = await intruder.post("/v2/messages", json={"from": api.long_code, "to": "+13125550123", "text": "x"})
    error_of(answer, 401, "10009")
    listed = await api.ok("GET", f"/v2/messaging_profiles/{api.profile_id}/phone_numbers")
    assert listed["data"]  # the account is intact; nothing about the refused send is visible anywhere


async def test_health_needs_no_key(api: Api) -> None:
    async with api.client() as anonymous:
        answer = await anonymous.get("/healthz")
    assert answer.status_code == 200


async def test_another_organization_sees_none_of_this_ones_resources(api: Api) -> None:
    sent = (await api.ok("POST", "/v2/messages", json={"from": api.long_code, "to": "+13125550123", "text": "hi"}))[
        "data"
    ]
    async with api.client(await api.other_account()) as other:
        for path in (
            f"/v2/messaging_profiles/{api.profile_id}",
            f"/v2/messaging_profiles/{api.profile_id}/phone_numbers",
            f"/v2/phone_numbers/{api.long_code}/messaging",
        ):
            error_of(await other.get(path), 404, "10005")
        error_of(await other.get(f"/v2/messages/{sent['id']}"), 404, "40303")  # Telnyx's "Message not found"
        error_of(await other.delete(f"/v2/messaging_profiles/{api.profile_id}"), 404, "10005")
        own = (await other.get("/v2/messaging_profiles")).json()["data"]
        assert api.profile_id not in {p["id"] for p in own}
        numbers = (await other.get("/v2/phone_numbers/messaging")).json()["data"]
        assert api.long_code not in {n["phone_number"] for n in numbers}
        refused = await other.post("/v2/messages", json={"from": api.long_code, "to": "+13125550123", "text": "x"})
        assert refused.status_code in (400, 403, 422), refused.text  # not this organization's sender
    assert (await api.http.get(f"/v2/messaging_profiles/{api.profile_id}")).status_code == 200

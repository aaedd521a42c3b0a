"""Messaging profiles through the API: create, read, update, delete, and the numbers on a profile
(spec messaging_profiles.md). In-process, through the ASGI app."""

from __future__ import annotations

from api_support import Api, error_of


async def test_create_read_update_delete(api: Api) -> None:
    made = (
        await api.ok("POST", "/v2/messaging_profiles", json={"name": "Alerts", "whitelisted_destinations": ["US"]})
    )["data"]
    assert made["record_type"] == "messaging_profile"
    assert (made["name"], made["enabled"], made["whitelisted_destinations"]) == ("Alerts", True, ["US"])
    assert made["webhook_url"] is None and made["v1_secret"]
    assert (await api.ok("GET", f"/v2/messaging_profiles/{made['id']}"))["data"] == made

    patch = {"name": "Alerts 2", "webhook_url": "https://example.com/hook"}
    updated = (await api.ok("PATCH", f"/v2/messaging_profiles/{made['id']}", json=patch))["data"]
    assert (updated["name"], updated["webhook_url"]) == ("Alerts 2", "https://example.com/hook")
    assert updated["whitelisted_destinations"] == ["US"]  # what the patch did not name stays
    assert (await api.ok("GET", f"/v2/messaging_profiles/{made['id']}"))["data"] == updated

    deleted = (await api.ok("DELETE", f"/v2/messaging_profiles/{made['id']}"))["data"]
    assert deleted["id"] == made["id"]
    error_of(await api.http.get(f"/v2/messaging_profiles/{made['id']}"), 404, "10005")
    listed = (await api.ok("GET", "/v2/messaging_profiles"))["data"]
    assert made["id"] not in {p["id"] for p in listed}


async def test_regenerating_the_secret_changes_only_the_secret(api: Api) -> None:
    before = (await api.ok("GET", f"/v2/messaging_profiles/{api.profile_id}"))["data"]
    after = (await api.ok("POST", f"/v2/messaging_profiles/{api.profile_id}/actions/regenerate_secret"))["data"]
    assert after["v1_secret"] != before["v1_secret"]
    assert {k: v for k, v in after.items() if k not in ("v1_secret", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("v1_secret", "updated_at")
    }


async def test_a_profile_lists_its_numbers(api: Api) -> None:
    numbers = (await api.ok("GET", f"/v2/messaging_profiles/{api.profile_id}/phone_numbers"))["data"]
    assert {n["phone_number"] for n in numbers} == set(api.account.phone_numbers)
    assert {n["messaging_profile_id"] for n in numbers} == {api.profile_id}
    empty = (
        await api.ok("POST", "/v2/messaging_profiles", json={"name": "Empty", "whitelisted_destinations": ["US"]})
    )["data"]
    page = await api.ok("GET", f"/v2/messaging_profiles/{empty['id']}/phone_numbers")
    assert page["data"] == [] and page["meta"]["total_results"] == 0

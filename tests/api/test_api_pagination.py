"""Page-number pagination as a caller sees it: page[number] and page[size], `meta`, empty pages past the
end, and refused out-of-range values (spec README §3–§4). In-process, through the ASGI app."""

from __future__ import annotations

import pytest
from api_support import Api, error_of


async def _profiles(api: Api, count: int) -> list[str]:
    ids = []
    for i in range(count):
        body = {"name": f"P{i}", "whitelisted_destinations": ["US"]}
        ids.append((await api.ok("POST", "/v2/messaging_profiles", json=body))["data"]["id"])
    return ids


async def test_pages_walk_every_profile_once_with_meta(api: Api) -> None:
    made = await _profiles(api, 5)  # six with the sandbox's default profile
    seen = []
    for number in (1, 2, 3):
        page = await api.ok("GET", "/v2/messaging_profiles", params={"page[size]": 2, "page[number]": number})
        assert page["meta"] == {"page_number": number, "page_size": 2, "total_pages": 3, "total_results": 6}
        assert len(page["data"]) == 2
        seen += [p["id"] for p in page["data"]]
    assert len(set(seen)) == 6
    assert set(made) | {api.profile_id} == set(seen)
    whole = await api.ok("GET", "/v2/messaging_profiles")
    assert [p["id"] for p in whole["data"]] == seen  # one stable order, paged or not


async def test_a_page_past_the_end_is_empty_with_meta(api: Api) -> None:
    await _profiles(api, 2)
    page = await api.ok("GET", "/v2/messaging_profiles", params={"page[size]": 2, "page[number]": 9})
    assert page == {"data": [], "meta": {"page_number": 9, "page_size": 2, "total_pages": 2, "total_results": 3}}


@pytest.mark.parametrize(
    ("parameter", "value"), [("page[size]", "0"), ("page[size]", "251"), ("page[number]", "0"), ("page[size]", "x")]
)
async def test_out_of_range_page_parameters_are_refused(api: Api, parameter: str, value: str) -> None:
    answer = await api.http.get("/v2/messaging_profiles", params={parameter: value})
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["source"] == {"parameter": parameter}


async def test_the_largest_page_size_is_accepted(api: Api) -> None:
    page = await api.ok("GET", "/v2/phone_numbers/messaging", params={"page[size]": 250})
    assert page["meta"]["page_size"] == 250
    assert page["meta"]["total_results"] == len(page["data"])
    error_of(await api.http.get("/v2/phone_numbers/messaging", params={"page[size]": 251}), 422, "10033")

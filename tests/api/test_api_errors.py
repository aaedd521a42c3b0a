"""Request-level errors a caller sees: Telnyx error bodies for unknown routes, wrong methods, bad JSON and
bad parameters (spec README §5–§6, errors.md §1). In-process, through the ASGI app.

The 405 and page[size] cases moved here from tests/e2e/test_slow_clients.py: they check the answer, not
the server process."""

from __future__ import annotations

import pytest
from api_support import Api, error_of


async def test_an_unknown_route_is_10005(api: Api) -> None:
    error_of(await api.http.get("/v2/nope"), 404, "10005")


async def test_405_names_the_allowed_methods(api: Api) -> None:
    answer = await api.http.delete("/v2/messaging_profiles")
    error_of(answer, 405, "10030")
    assert set(answer.headers["allow"].split(", ")) == {"GET", "POST"}
    answer = await api.http.put(f"/v2/messages/{'0' * 8}-0000-0000-0000-{'0' * 12}")
    assert answer.status_code == 405
    assert set(answer.headers["allow"].split(", ")) == {"GET", "DELETE"}


@pytest.mark.parametrize("size", ["٣", "３", "1٣", "²", " 3"])
async def test_page_size_takes_ascii_digits_only(api: Api, size: str) -> None:
    answer = await api.http.get("/v2/messaging_profiles", params={"page[size]": size})
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["source"] == {"parameter": "page[size]"}


async def test_malformed_json_is_10023(api: Api) -> None:
    answer = await api.http.post(
        "/v2/messaging_profiles", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    error_of(answer, 400, "10023")


async def test_a_missing_parameter_points_at_it(api: Api) -> None:
    answer = await api.http.post("/v2/messaging_profiles", json={"whitelisted_destinations": ["US"]})
    assert error_of(answer, 422, "10004")["source"] == {"pointer": "/name"}


async def test_a_parameter_of_the_wrong_type_points_at_it(api: Api) -> None:
    answer = await api.http.post("/v2/messaging_profiles", json={"name": 5, "whitelisted_destinations": ["US"]})
    assert error_of(answer, 422, "10026")["source"] == {"pointer": "/name"}


async def test_an_unknown_associated_resource_is_10017(api: Api) -> None:
    answer = await api.http.patch(
        f"/v2/phone_numbers/{api.long_code}/messaging", json={"messaging_profile_id": "no-such-profile"}
    )
    assert error_of(answer, 422, "10017")["source"] == {"pointer": "/messaging_profile_id"}

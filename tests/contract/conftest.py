"""Factories shared by the contract tests. They go through the SDK like the tests do, so a broken
create endpoint fails loudly here rather than being papered over."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from contract_support import new_long_code, new_short_code, unique_name
from support import Server


@pytest.fixture
def lax_client(server: Server):
    """A client without strict validation, for the documented exceptions of spec README §11."""
    return server.client(strict=False)


@pytest.fixture
def make_profile(client) -> Callable[..., Any]:
    """Create a messaging profile (whitelist `*` unless given) and return its `data`."""

    def make(**fields: Any) -> Any:
        fields.setdefault("name", unique_name())
        fields.setdefault("whitelisted_destinations", ["*"])
        return client.messaging_profiles.create(**fields).data

    return make


@pytest.fixture
def order_numbers(client) -> Callable[..., Any]:
    """Order the given E.164 numbers (optionally onto a profile) and return the order's `data`."""

    def order(*numbers: str, profile_id: str | None = None, **fields: Any) -> Any:
        if profile_id is not None:
            fields["messaging_profile_id"] = profile_id
        return client.number_orders.create(phone_numbers=[{"phone_number": n} for n in numbers], **fields).data

    return order


@pytest.fixture
def sender(make_profile, order_numbers) -> Callable[..., tuple[Any, str]]:
    """A fresh profile with a fresh long code on it: returns (profile, number)."""

    def make(**profile_fields: Any) -> tuple[Any, str]:
        profile = make_profile(**profile_fields)
        number = new_long_code()
        order_numbers(number, profile_id=profile.id)
        return profile, number

    return make


@pytest.fixture
def add_short_code(server: Server) -> Callable[..., dict[str, Any]]:
    """Give the sandbox account a short code with the CLI (short codes have no create endpoint)."""

    def add(profile_id: str | None = None) -> dict[str, Any]:
        code = new_short_code()
        args = ["numbers", "add", code, "--type", "short-code"]
        if profile_id is not None:
            args += ["--profile", profile_id]
        created = server.cli_json(*args)
        assert created["number"] == code
        return created

    return add


@pytest.fixture(scope="session")
def other_org(server: Server) -> dict[str, Any]:
    """A second organization on the same server (`heliograph accounts create`), for tenancy tests:
    {organization_id, api_key, public_key, messaging_profile_id}."""
    created = server.cli_json("accounts", "create", unique_name("tenant"))
    assert created["organization_id"] != server.info["organization_id"]
    return created


@pytest.fixture
def other_client(server: Server, other_org: dict[str, Any]):
    """A strict SDK client authenticated as the second organization."""
    return server.client(api_key=other_org["api_key"])


@pytest.fixture(scope="session", autouse=True)
def openapi_conformance(server: Server):
    """Issue 11 #8: every response of the contract suite matches the server's /openapi.json, and every request
    body it accepted (most sent by the official SDK) matches the documented request body."""
    from openapi_conformance import Document, Recorder

    with Recorder(server.url) as recorder:
        yield
    document = Document(httpx.get(server.url + "/openapi.json", timeout=10).json())
    problems = [p for exchange in recorder.exchanges for p in document.problems(exchange)]
    assert recorder.exchanges
    assert not problems, f"{len(problems)} of {len(recorder.exchanges)} exchanges break the document:\n" + "\n".join(
        sorted(set(problems))[:60]
    )

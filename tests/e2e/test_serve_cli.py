"""`heliograph serve`, `info` and `numbers add` as a developer uses them on a fresh sandbox."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import fresh_number, new_profile, ok, send, wait_terminal
from support import Server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server nobody else has added numbers or profiles to."""
    srv = Server(tmp_path_factory.mktemp("fresh"), env={"HELIOGRAPH_SIMULATOR_DLR_DELAY_MS": "20"}).start()
    yield srv
    srv.stop()


def test_info_json_describes_the_sandbox_account(fresh: Server) -> None:
    done = fresh.cli("info", "--json")
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["api_base_url"] == fresh.base_url
    uuid.UUID(info["organization_id"])
    uuid.UUID(info["messaging_profile_id"])
    assert len(base64.b64decode(info["public_key"], validate=True)) == 32

    with fresh.http() as http:
        profile = ok(http.get(f"/v2/messaging_profiles/{info['messaging_profile_id']}"))["data"]
        assert profile["organization_id"] == info["organization_id"]
        numbers = ok(http.get("/v2/phone_numbers/messaging"))["data"]
    assert sorted(n["phone_number"] for n in numbers) == sorted(info["phone_numbers"])
    kinds = sorted(n["type"] for n in numbers)
    assert kinds == ["longcode", "tollfree"]
    assert {n["messaging_profile_id"] for n in numbers} == {info["messaging_profile_id"]}


def test_info_shows_no_api_key(fresh: Server) -> None:
    for args in (("info", "--json"), ("info",)):
        done = fresh.cli(*args)
        assert done.returncode == 0, done.stderr
        output = done.stdout + done.stderr
        assert fresh.api_key not in output
        assert not re.search(r"\bKEY[0-9A-Z]{20,}", output), output
        if "--json" in args:
            assert [f for f in json.loads(done.stdout) if "key" in f] == ["public_key"]


def test_info_without_an_account_says_so(tmp_path: Path) -> None:
    done = Server(tmp_path / "empty").cli("info", "--json")
    assert done.returncode != 0
    assert done.stdout == ""


def test_a_number_added_on_the_command_line_sends_once_assigned(fresh: Server) -> None:
    number = fresh_number()
    done = fresh.cli("numbers", "add", number)
    assert done.returncode == 0, done.stderr
    added = json.loads(done.stdout)
    assert added["number"] == number
    assert added["messaging_profile_id"] is None

    with fresh.http() as http:
        unassigned = http.post("/v2/messages", json={"from": number, "to": fresh_number(), "text": "too early"})
        assert unassigned.status_code == 400, unassigned.text
        assert str(unassigned.json()["errors"][0]["code"]) == "40305"

        profile = new_profile(fresh)
        body = {"messaging_profile_id": profile["id"]}
        assigned = ok(http.patch(f"/v2/phone_numbers/{added['id']}/messaging", json=body))["data"]
        assert assigned["phone_number"] == number
        assert assigned["messaging_profile_id"] == profile["id"]

    msg = send(fresh, from_=number, to=fresh_number(), text="from the CLI's number")
    assert msg["from"]["phone_number"] == number
    assert msg["messaging_profile_id"] == profile["id"]
    assert wait_terminal(fresh, msg["id"])["to"][0]["status"] == "delivered"
    assert number in fresh.cli_json("info", "--json")["phone_numbers"]


def test_numbers_add_with_a_profile_is_ready_to_send(fresh: Server) -> None:
    profile = new_profile(fresh)
    number = fresh_number("+1888")
    added = fresh.cli_json("numbers", "add", number, "--profile", profile["id"])
    assert added["messaging_profile_id"] == profile["id"]
    msg = send(fresh, from_=number, to=fresh_number(), text="toll-free from the CLI")
    assert wait_terminal(fresh, msg["id"])["to"][0]["status"] == "delivered"

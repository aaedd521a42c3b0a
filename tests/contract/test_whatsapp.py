"""WhatsApp sends through the official SDK (spec messages.md §15; README §11 item 3).

The send answer is validated strictly. `GET /messages/{id}` of a WhatsApp message is a documented
strict-validation exception (its model lists only SMS/MMS), so delivery is checked with a non-strict
client.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
import telnyx
from contract_support import UUID, assert_error, new_handset, unique_name
from support import Server, eventually

_rng = random.SystemRandom()


@pytest.fixture(scope="module")
def whatsapp_sender(server: Server) -> dict[str, str]:
    """A WhatsApp-enabled long code on its own profile (added with `heliograph numbers add --whatsapp`)."""
    profile = server.client().messaging_profiles.create(name=unique_name("wa"), whitelisted_destinations=["*"]).data
    assert profile is not None
    number = f"+1773{_rng.randint(2, 9)}{_rng.randint(0, 999_999):06d}"
    created = server.cli_json("numbers", "add", number, "--profile", profile.id, "--whatsapp")
    assert created["number"] == number
    return {"number": number, "profile_id": profile.id}


def _send(client: telnyx.Telnyx, sender: dict[str, str], content: dict[str, Any], to: str | None = None) -> Any:
    message = client.messages.whatsapp(
        from_=sender["number"],
        to=to or new_handset(),
        whatsapp_message=content,  # type: ignore[arg-type]
    ).data
    assert message is not None
    return message


def _common(message: Any, sender: dict[str, str], server: Server) -> None:
    assert UUID.match(message.id or "")
    assert message.record_type == "message"
    assert message.direction == "outbound"
    assert message.type == "WHATSAPP"
    assert message.messaging_profile_id == sender["profile_id"]
    assert message.organization_id == server.info["organization_id"]
    assert message.from_ is not None and message.from_.phone_number == sender["number"]
    assert message.to is not None and len(message.to) == 1 and message.to[0].status == "queued"
    assert message.received_at is not None
    assert message.body is not None


def test_text_message(client: telnyx.Telnyx, server: Server, whatsapp_sender: dict[str, str]) -> None:
    to = new_handset()

    message = _send(
        client,
        whatsapp_sender,
        {"type": "text", "text": {"body": "Hello on WhatsApp", "preview_url": False}},
        to,
    )

    _common(message, whatsapp_sender, server)
    assert message.to[0].phone_number == to
    assert message.body.type == "text"
    assert message.body.text is not None
    assert (message.body.text.body, message.body.text.preview_url) == ("Hello on WhatsApp", False)


def test_image_by_link(client: telnyx.Telnyx, server: Server, whatsapp_sender: dict[str, str]) -> None:
    content = {"type": "image", "image": {"link": "https://example.com/cat.jpg", "caption": "A cat"}}

    message = _send(client, whatsapp_sender, content)

    _common(message, whatsapp_sender, server)
    assert message.body.type == "image"
    assert message.body.image is not None
    assert (message.body.image.link, message.body.image.caption) == ("https://example.com/cat.jpg", "A cat")


def test_template_by_name_and_language(client: telnyx.Telnyx, server: Server, whatsapp_sender: dict[str, str]) -> None:
    content = {
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "#1234"}]}],
        },
    }

    message = _send(client, whatsapp_sender, content)

    _common(message, whatsapp_sender, server)
    template = message.body.template
    assert template is not None and template.language is not None
    assert (template.name, template.language.code) == ("order_update", "en_US")
    assert template.components is not None
    assert template.components[0].parameters[0].text == "#1234"  # type: ignore[index]


def test_location(client: telnyx.Telnyx, server: Server, whatsapp_sender: dict[str, str]) -> None:
    content = {
        "type": "location",
        "location": {
            "latitude": "37.7749",
            "longitude": "-122.4194",
            "name": "Ferry Building",
            "address": "1 Ferry Bldg",
        },
    }

    message = _send(client, whatsapp_sender, content)

    _common(message, whatsapp_sender, server)
    location = message.body.location
    assert location is not None
    assert (location.latitude, location.longitude, location.name) == (
        "37.7749",
        "-122.4194",
        "Ferry Building",
    )


def test_interactive_buttons(client: telnyx.Telnyx, server: Server, whatsapp_sender: dict[str, str]) -> None:
    content = {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "Confirm your appointment?"},
            "footer": {"text": "Reply below"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                    {"type": "reply", "reply": {"id": "no", "title": "No"}},
                ]
            },
        },
    }

    message = _send(client, whatsapp_sender, content)

    _common(message, whatsapp_sender, server)
    interactive = message.body.interactive
    assert interactive is not None and interactive.type == "button"
    assert interactive.body is not None and interactive.body.text == "Confirm your appointment?"
    assert interactive.action is not None and interactive.action.buttons is not None
    assert [(b.reply.id, b.reply.title) for b in interactive.action.buttons] == [("yes", "Yes"), ("no", "No")]  # type: ignore[union-attr]


def test_message_is_delivered(
    client: telnyx.Telnyx, lax_client: telnyx.Telnyx, whatsapp_sender: dict[str, str]
) -> None:
    sent = _send(client, whatsapp_sender, {"type": "text", "text": {"body": "deliver me"}})

    def delivered() -> Any:
        message = lax_client.messages.retrieve(sent.id).data
        assert message is not None and message.to
        return message if message.to[0].status == "delivered" else None

    message = eventually(delivered, timeout=30, message="the WhatsApp message was never delivered")

    assert message.id == sent.id
    assert message.type == "WHATSAPP"
    assert message.from_.phone_number == whatsapp_sender["number"]
    wire = lax_client.messages.with_raw_response.retrieve(sent.id).http_response.json()["data"]
    assert wire["body"] == {"type": "text", "text": {"body": "deliver me"}}


def test_number_without_whatsapp_is_refused(client: telnyx.Telnyx, sender) -> None:
    _, number = sender()

    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.whatsapp(
            from_=number, to=new_handset(), whatsapp_message={"type": "text", "text": {"body": "hi"}}
        )

    assert_error(caught.value, status=400, code="40305", pointer="/from")


def test_unknown_number_is_refused(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.BadRequestError) as caught:
        client.messages.whatsapp(
            from_="+12065550123", to=new_handset(), whatsapp_message={"type": "text", "text": {"body": "hi"}}
        )

    assert_error(caught.value, status=400, code="40305", pointer="/from")


def _ptr(*pointers: str) -> tuple[str, ...]:
    return pointers


@pytest.mark.parametrize(
    ("content", "code", "pointers"),
    [
        pytest.param(
            {"type": "text", "text": {}}, "10004", _ptr("/whatsapp_message/text/body"), id="text-without-body"
        ),
        pytest.param(
            {"type": "text", "text": {"preview_url": True}},
            "10004",
            _ptr("/whatsapp_message/text/body"),
            id="text-body-missing",
        ),
        pytest.param(
            {"type": "image", "image": {"link": "https://example.com/a.jpg", "id": "1234567890"}},
            None,
            _ptr("/whatsapp_message/image", "/whatsapp_message/image/id", "/whatsapp_message/image/link"),
            id="image-with-link-and-id",
        ),
        pytest.param(
            {"type": "image", "image": {"caption": "no source"}},
            None,
            _ptr("/whatsapp_message/image", "/whatsapp_message/image/id", "/whatsapp_message/image/link"),
            id="image-without-source",
        ),
        pytest.param(
            {"type": "location", "location": {"latitude": "200", "longitude": "10"}},
            "10033",
            _ptr("/whatsapp_message/location", "/whatsapp_message/location/latitude"),
            id="latitude-200",
        ),
        pytest.param(
            {"type": "location", "location": {"latitude": "10", "longitude": "-181"}},
            "10033",
            _ptr("/whatsapp_message/location", "/whatsapp_message/location/longitude"),
            id="longitude-181",
        ),
        pytest.param(
            {"type": "template", "template": {"name": "no_language"}},
            None,
            _ptr("/whatsapp_message/template", "/whatsapp_message/template/language"),
            id="template-without-language",
        ),
        pytest.param(
            {"type": "text"},
            "10004",
            _ptr("/whatsapp_message", "/whatsapp_message/text"),
            id="type-without-its-object",
        ),
    ],
)
def test_invalid_content_is_refused_with_a_pointer(
    client: telnyx.Telnyx,
    whatsapp_sender: dict[str, str],
    content: dict[str, Any],
    code: str | None,
    pointers: tuple[str, ...],
) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.messages.whatsapp(
            from_=whatsapp_sender["number"],
            to=new_handset(),
            whatsapp_message=content,  # type: ignore[arg-type]
        )

    response = caught.value.response
    assert response.status_code == 422
    entry = assert_error(caught.value, status=422, code=code or response.json()["errors"][0]["code"])
    assert entry["code"].startswith("10"), entry  # a request-schema error, not a messaging rejection
    assert entry.get("source", {}).get("pointer") in pointers, entry


def test_missing_whatsapp_message_is_refused(
    client: telnyx.Telnyx, server: Server, whatsapp_sender: dict[str, str]
) -> None:
    response = server.http().post(
        "/v2/messages/whatsapp", json={"from": whatsapp_sender["number"], "to": new_handset()}
    )

    assert_error(response, status=422, code="10004", pointer="/whatsapp_message")

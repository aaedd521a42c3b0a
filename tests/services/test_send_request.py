"""services/send_request.py: the wire body of a send, parsed once; refusals keep their Telnyx code and pointer."""

from __future__ import annotations

import dataclasses

import pytest

from heliograph.domain.errors import ValidationFailed
from heliograph.services import send_request as sr

FROM, TO = "+13125550100", "+13125550123"


def test_a_body_becomes_a_typed_frozen_request() -> None:
    request = sr.parse({"from": FROM, "to": TO, "text": "hi", "media_urls": ["https://x.test/a.png"], "x": 1})
    assert (request.endpoint, request.from_, request.to, request.text) == (sr.SEND, FROM, TO, "hi")
    assert request.media_urls == ("https://x.test/a.png",)
    assert (request.encoding, request.auto_detect, request.use_profile_webhooks) == ("auto", False, True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.to = "+13125550124"  # type: ignore[misc]


def test_empty_optional_fields_read_as_absent() -> None:
    request = sr.parse({"to": TO, "text": "", "subject": "", "messaging_profile_id": "", "use_profile_webhooks": None})
    assert (request.text, request.subject, request.messaging_profile_id) == (None, None, None)
    assert request.use_profile_webhooks is True
    assert sr.parse({"to": TO, "use_profile_webhooks": False}).use_profile_webhooks is False


def test_a_group_mms_keeps_its_recipients() -> None:
    request = sr.parse({"from": FROM, "to": [TO, "+13125550124"], "encoding": "nonsense"}, sr.GROUP_MMS)
    assert (request.to, request.recipients) == ("", (TO, "+13125550124"))


@pytest.mark.parametrize(
    ("body", "endpoint", "code", "pointer"),
    [
        ({"text": "x"}, sr.SEND, "10004", "/to"),
        ({"to": TO, "text": 5}, sr.SEND, "10026", "/text"),
        ({"to": TO, "auto_detect": "yes"}, sr.SEND, "10026", "/auto_detect"),
        ({"to": TO, "text": True}, sr.SEND, "10026", "/text"),
        ({"to": [TO]}, sr.SEND, "10026", "/to"),
        ({"to": TO}, sr.GROUP_MMS, "10026", "/to"),
        ({"to": [TO, 7]}, sr.GROUP_MMS, "10026", "/to/1"),
        ({"to": TO, "media_urls": ["https://x.test/a", 1]}, sr.SEND, "10026", "/media_urls/1"),
        ({"to": TO, "type": "FAX"}, sr.SEND, "10032", "/type"),
        ({"to": TO, "encoding": "latin1"}, sr.SEND, "10032", "/encoding"),
        ({"to": TO, "webhook_failover_url": "ftp://x"}, sr.SEND, "10003", "/webhook_failover_url"),
        ({"to": TO, "media_urls": ["https://x.test/a", "nope"]}, sr.SEND, "10003", "/media_urls/1"),
        # the first refusal in the field table's order wins, whatever the body's order
        ({"text": 1, "to": TO, "from": 2}, sr.SEND, "10026", "/from"),
    ],
)
def test_refusals_carry_their_code_and_pointer(body: dict, endpoint: sr.Endpoint, code: str, pointer: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        sr.parse(body, endpoint)
    assert (refused.value.code, refused.value.pointer) == (code, pointer)


@pytest.mark.parametrize(
    ("body", "endpoint", "pointer"),
    [
        ({"to": TO, "text": "x"}, sr.SEND, "/from"),
        ({"to": TO, "text": "x", "from": ""}, sr.LONG_CODE, "/from"),
        ({"to": TO, "text": "x"}, sr.NUMBER_POOL, "/messaging_profile_id"),
        ({"to": TO, "from": "Helio", "messaging_profile_id": "p"}, sr.ALPHANUMERIC, "/text"),
        ({"to": TO, "from": FROM, "text": "x", "send_at": ""}, sr.SCHEDULE, "/send_at"),
        ({"to": [TO], "text": "x"}, sr.GROUP_MMS, "/from"),
    ],
)
def test_each_endpoint_requires_its_fields(body: dict, endpoint: sr.Endpoint, pointer: str) -> None:
    request = sr.parse(body, endpoint)
    with pytest.raises(ValidationFailed) as refused:
        sr.check_required(request)
    assert (refused.value.code, refused.value.pointer) == ("10004", pointer)


def test_a_complete_request_passes_its_endpoint() -> None:
    sr.check_required(sr.parse({"to": TO, "messaging_profile_id": "p", "text": "x"}, sr.SEND))
    sr.check_required(sr.parse({"to": TO, "from": FROM, "text": "x", "send_at": "2027-01-01T00:00:00Z"}, sr.SCHEDULE))

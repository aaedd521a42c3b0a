import pytest

from heliograph.domain import phone


@pytest.mark.parametrize("value", ["+13125550123", "+447700900123", "+5511987654321"])
def test_e164_accepts_possible_numbers(value):
    assert phone.is_e164(value)


@pytest.mark.parametrize("value", ["13125550123", "+1 312 555 0123", "+0123456", "+1", "", "+1312555012345678"])
def test_e164_rejects_malformed(value):
    assert not phone.is_e164(value)


def test_lookup_gives_country_and_sdk_line_type():
    info = phone.lookup("+447700900123")
    assert info.country == "GB"
    assert info.line_type in {"Wireline", "Wireless", "VoWiFi", "VoIP", "Pre-Paid Wireless", ""}
    assert phone.lookup("+18885550100").toll_free
    assert phone.number_kind("+18885550100") == "tollfree"
    assert phone.number_kind("+13125550100") == "longcode"


def test_short_codes_are_three_to_eight_digits():
    assert phone.is_short_code("12345")
    assert not phone.is_short_code("12")
    assert not phone.is_short_code("+12345")

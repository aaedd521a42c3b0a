import pytest

from heliograph.domain.times import iso, parse_iso


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-02T03:04:05.678Z",
        "2026-01-02T03:04:05Z",
        "2026-01-02T03:04Z",
        "2026-01-02T03:04:05-00",
        "2026-01-02T03:04:05-0000",
        "2026-01-02T03:04:05+00:00",
    ],
)
def test_accepts_telnyx_input_forms(text):
    assert iso(parse_iso(text))[:16] == "2026-01-02T03:04"


def test_offsets_are_converted_to_utc():
    assert iso(parse_iso("2026-01-02T05:04:05+02:00")) == "2026-01-02T03:04:05.000Z"


def test_output_has_millisecond_precision_and_z():
    assert iso(parse_iso("2026-01-02T03:04:05.123456Z")) == "2026-01-02T03:04:05.123Z"
    assert iso(None) is None


@pytest.mark.parametrize("text", ["tomorrow", "2026-13-01T00:00Z", "2026-01-02", ""])
def test_rejects_other_text(text):
    with pytest.raises(ValueError):
        parse_iso(text)

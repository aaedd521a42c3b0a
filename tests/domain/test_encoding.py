"""Tests for heliograph.domain.encoding (spec messages.md §8)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heliograph.domain.encoding import (
    GSM7,
    GSM7_BASIC,
    GSM7_EXTENSION,
    PART_LIMITS,
    SMART_SUBSTITUTIONS,
    UCS2,
    EncodedText,
    NotGsm7Error,
    encode_text,
    is_gsm7,
    septet_length,
    smart_substitute,
    split_parts,
    utf16_length,
)

EMOJI = "\N{GRINNING FACE}"
EXCLUDED = "ΔΦΓΛΩΠΨΣΘΞÇ¤\f`"  # GSM 03.38 has most of these; Telnyx's GSM-7 set does not


def units_of(part: str, encoding: str) -> int:
    return septet_length(part) if encoding == GSM7 else utf16_length(part)


# ---------------------------------------------------------------- character sets


def test_basic_set_is_exactly_the_spec_list() -> None:
    expected = set("0123456789\n\r !\"#$%&'()*+,-./:;<=>?@_£¥èéùìòØøÅåÆæßÉ¡ÄÖÑÜ§¿äöñüà")
    expected |= {chr(c) for c in range(ord("A"), ord("Z") + 1)}
    expected |= {chr(c) for c in range(ord("a"), ord("z") + 1)}
    assert expected == GSM7_BASIC
    assert set("^{}\\[]~|€") == GSM7_EXTENSION
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize("char", sorted(GSM7_BASIC))
def test_every_basic_char_is_one_septet(char: str) -> None:
    assert is_gsm7(char)
    assert septet_length(char) == 1
    encoded = encode_text(char)
    assert (encoded.encoding, encoded.units, encoded.parts) == (GSM7, 1, 1)


@pytest.mark.parametrize("char", sorted(GSM7_EXTENSION))
def test_every_extension_char_is_two_septets(char: str) -> None:
    assert is_gsm7(char)
    assert septet_length(char) == 2
    assert septet_length("a" + char + "b") == 4
    encoded = encode_text(char)
    assert (encoded.encoding, encoded.units, encoded.num_chars) == (GSM7, 2, 1)


@pytest.mark.parametrize("char", list(EXCLUDED))
def test_excluded_gsm_0338_chars_force_ucs2(char: str) -> None:
    assert not is_gsm7(char)
    text = "Hello " + char
    encoded = encode_text(text)
    assert encoded.encoding == UCS2
    assert encoded.transmitted == text
    assert encoded.units == len(text)
    with pytest.raises(NotGsm7Error):
        septet_length(text)


@pytest.mark.parametrize("char", ["\t", "\x00", "\x01", "\x0b", "\x7f", "\u00a0", "é\u0301"])
def test_other_ascii_controls_and_non_gsm_are_not_gsm7(char: str) -> None:
    assert not is_gsm7("abc" + char)


def test_utf16_length_counts_astral_as_two() -> None:
    assert utf16_length("") == 0
    assert utf16_length("abc") == 3
    assert utf16_length("é€") == 2
    assert utf16_length(EMOJI) == 2
    assert utf16_length("a" + EMOJI + "b") == 4
    assert utf16_length("\ud800") == 1  # a lone surrogate does not crash


# ---------------------------------------------------------------- parts at the boundaries


@pytest.mark.parametrize(
    ("length", "parts"),
    [(0, 1), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (1530, 10), (1531, 11)],
)
def test_gsm7_part_boundaries(length: int, parts: int) -> None:
    encoded = encode_text("a" * length)
    assert (encoded.encoding, encoded.units, encoded.parts) == (GSM7, length, parts)
    assert len(split_parts(encoded.transmitted, GSM7)) == parts


@pytest.mark.parametrize(
    ("length", "parts"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (670, 10), (671, 11)],
)
def test_ucs2_part_boundaries(length: int, parts: int) -> None:
    text = "Ж" * length
    encoded = encode_text(text)
    assert (encoded.encoding, encoded.units, encoded.parts) == (UCS2, length, parts)
    assert len(split_parts(text, UCS2)) == parts


def test_non_ascii_gsm7_text_counts_like_ascii() -> None:
    assert encode_text("é" * 160).parts == 1
    assert encode_text("é" * 161).parts == 2
    assert encode_text("é" * 160, smart=True).parts == 1


def test_extension_chars_count_two_toward_limits() -> None:
    assert encode_text("€" * 80).parts == 1  # 160 septets
    assert encode_text("€" * 80 + "a").parts == 2  # 161 septets
    assert encode_text("a" * 159 + "{").parts == 2


def test_extension_char_straddling_153_boundary_pushes_to_next_part() -> None:
    # 152 septets then an escape pair: the pair would straddle septet 153, so it moves.
    text = "a" * 152 + "[" + "b" * 10
    assert septet_length(text) == 164
    parts = split_parts(text, GSM7)
    assert parts == ["a" * 152, "[" + "b" * 10]
    assert encode_text(text).parts == 2
    # The push can add a part beyond ceil(units / 153).
    text = "a" * 152 + "^" + "b" * 152
    assert septet_length(text) == 306  # ceil(306 / 153) == 2 ...
    assert encode_text(text).parts == 3  # ... but the pair cannot be split


def test_emoji_straddling_67_boundary_pushes_to_next_part() -> None:
    text = "x" * 66 + EMOJI + "y" * 10
    assert utf16_length(text) == 78
    assert split_parts(text, UCS2) == ["x" * 66, EMOJI + "y" * 10]
    text = "x" * 66 + EMOJI + "y" * 66
    encoded = encode_text(text)
    assert encoded.units == 134  # ceil(134 / 67) == 2 ...
    assert encoded.parts == 3  # ... but the surrogate pair is never split


def test_emoji_counts_two_units() -> None:
    encoded = encode_text(EMOJI * 35)
    assert (encoded.encoding, encoded.units, encoded.parts, encoded.num_chars) == (UCS2, 70, 1, 35)
    assert encode_text(EMOJI * 36).parts == 2
    # 100 emoji = 200 units; each part holds 33 whole emoji (66 units).
    assert [len(p) for p in split_parts(EMOJI * 100, UCS2)] == [33, 33, 33, 1]


def test_split_parts_empty_and_invalid() -> None:
    assert split_parts("", GSM7) == [""]
    assert split_parts("", UCS2) == [""]
    with pytest.raises(ValueError, match="encoding"):
        split_parts("a", "utf-8")
    with pytest.raises(NotGsm7Error):
        split_parts(EMOJI, GSM7)


# ---------------------------------------------------------------- smart encoding


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("\u201cHi\u201d", '"Hi"'),
        ("It\u2019s \u2018ok\u2019", "It's 'ok'"),
        ("a\u2014b\u2013c", "a-b-c"),
        ("wait\u2026", "wait..."),
        ("\uff28\uff45\uff4c\uff4c\uff4f\uff01", "Hello!"),
        ("\uff3b\uff5c\uff3d", "[|]"),
        ("a\u00a0b", "a b"),
        ("a\u3000b\u2009c", "a b c"),
        ("ab\u200bc\ufeff", "abc"),
        ("a\tb", "a       b"),
        ("\u203c", "!!"),
        ("\u00bd\u00bc\u00be", "1/21/43/4"),
        ("6\u00f73", "6/3"),
        ("\u1d00\u0299\u1d04", "ABC"),
        ("\u0391\u0392\u0395", "ABE"),
        ("\u2728 \u2731", "* *"),
        ("\u02dc\u02c6", "~^"),
        ("\u3001\u3002", ",."),
        ("\ufe50\ufe56", ",?"),
        ("`x`", "'x'"),
        ("a\x00\x03b", "ab"),
    ],
)
def test_smart_substitutions(original: str, expected: str) -> None:
    encoded = encode_text(original, smart=True)
    assert encoded.transmitted == expected
    assert encoded.original == original
    assert encoded.encoding == GSM7
    assert encoded.smart_encoding_applied is True
    assert encoded.num_chars == len(original)
    assert encoded.units == septet_length(expected)
    # Without smart encoding the same text goes UCS-2, untouched.
    plain = encode_text(original, smart=False)
    assert plain.encoding == UCS2
    assert plain.transmitted == original
    assert plain.smart_encoding_applied is False
    assert plain.replaced_characters == 0


def test_replaced_characters_counts_each_substituted_or_removed_char() -> None:
    result, replaced = smart_substitute("\u201cHi\u201d\u2026\u200b\t")
    assert result == '"Hi"...' + " " * 7
    assert replaced == 5
    encoded = encode_text("\u201cHi\u201d\u2026\u200b\t", smart=True)
    assert encoded.replaced_characters == 5
    assert encoded.num_chars == 7


def test_smart_encoding_reduces_parts() -> None:
    text = "\u201c" + "a" * 150 + "\u201d"
    assert encode_text(text).parts == 3  # 152 UTF-16 units
    assert encode_text(text, smart=True).parts == 1  # 152 septets


def test_gsm7_text_is_untouched_by_smart_encoding() -> None:
    text = "¡Hola! café ÄÖÜ ß €5 {x}"
    assert smart_substitute(text) == (text, 0)
    encoded = encode_text(text, smart=True)
    assert encoded.transmitted == text
    assert encoded.smart_encoding_applied is False


def test_substitution_table_keys_are_not_gsm7_and_values_are() -> None:
    assert len(SMART_SUBSTITUTIONS) > 200
    for char, replacement in SMART_SUBSTITUTIONS.items():
        assert len(char) == 1
        assert not is_gsm7(char), f"U+{ord(char):04X} is already GSM-7"
        assert is_gsm7(replacement), f"U+{ord(char):04X} -> {replacement!r} is not GSM-7"


@pytest.mark.parametrize(
    "code_points",
    [
        [0x00AB, 0x00BB, 0x201C, 0x201D, 0x201E, 0x201F, 0x02BA, 0x02EE, 0x275D, 0x275E],
        [0x301D, 0x301E, 0xFF02, 0x2018, 0x2019, 0x201B, 0x02B9, 0x02BB, 0x02BC, 0x02BD],
        [0x02C8, 0x02CA, 0x02CB, 0x00B4, 0x0060, 0x275B, 0x275C, 0x0313, 0x0314, 0xFE10],
        [0xFE11, 0xFF07, 0x2010, 0x2013, 0x2014, 0x2015, 0x2022, 0x2043, 0x23BC, 0x23BD],
        [0xFE63, 0xFF0D, 0x2026, 0x203C, 0x00BC, 0x00BD, 0x00BE, 0x00F7, 0x2044, 0x2215],
        [0x29F8, 0x0337, 0x0338, 0xFF0F, 0x3001, 0x3002, 0xFF64, 0xFF61, 0x204E, 0x2217],
        [0x229B, 0x29C6, 0xFE61, 0xFF0A, 0x02DC, 0x02F7, 0x0303, 0x0330, 0x0334, 0x223C],
        [0xFF5E, 0x02C6, 0x0302, 0xFF3E, 0x1DCD, 0x00A0, 0x202F, 0x205F, 0x3000, 0x0009],
        [0x200B, 0xFEFF, 0x2028, 0x2029, 0x2060, 0x00, 0x03, 0x04, 0x17, 0x19],
        [0x80, 0x8D, 0x90, 0x9B, 0x9F, *range(0x10, 0x15)],
        [*range(0xFF01, 0xFF5F), *range(0x2722, 0x274C), *range(0x2000, 0x200B)],
        [c for c in range(0xFE50, 0xFE6C) if c not in (0xFE53, 0xFE67)],  # unassigned
        [0x0391, 0x0392, 0x0395, 0x0397, 0x0399, 0x039A, 0x039C, 0x039D, 0x039F, 0x03A1],
        [0x03A4, 0x03A7, 0x03A5, 0x0396],
    ],
)
def test_every_spec_code_point_is_in_the_table(code_points: list[int]) -> None:
    missing = [f"U+{c:04X}" for c in code_points if chr(c) not in SMART_SUBSTITUTIONS]
    assert not missing


def test_small_capitals_map_to_capital_letters() -> None:
    small = "\u1d00\u0299\u1d04\u1d05\u1d07\ua730\u0262\u029c\u026a\u1d0a\u1d0b\u029f\u1d0d"
    small += "\u0274\u1d0f\u1d18\ua7af\u0280\ua731\u1d1b\u1d1c\u1d20\u1d21\u028f\u1d22"
    assert smart_substitute(small) == ("ABCDEFGHIJKLMNOPQRSTUVWYZ", 25)


def test_specific_replacements() -> None:
    table = SMART_SUBSTITUTIONS
    assert table["\uff40"] == "'"  # fullwidth grave: the ASCII grave itself is not GSM-7
    assert table["\uff3c"] == "\\"
    assert table["\u2000"] == " "
    assert table["\t"] == " " * 7
    assert table["\u200b"] == ""
    assert table["\u2026"] == "..."
    assert table["\u00be"] == "3/4"


def test_greek_capitals_without_latin_look_alike_stay_ucs2() -> None:
    encoded = encode_text("\u0391\u0394", smart=True)  # Alpha has a look-alike, Delta does not
    assert encoded.encoding == UCS2


# ---------------------------------------------------------------- requested encoding rules


def test_still_not_gsm7_after_substitution_goes_ucs2_with_original_text() -> None:
    text = "\u201cHi\u201d " + EMOJI
    encoded = encode_text(text, smart=True)
    assert encoded == EncodedText(
        original=text,
        transmitted=text,
        encoding=UCS2,
        parts=1,
        units=7,
        num_chars=6,
        smart_encoding_applied=False,
        replaced_characters=0,
    )


def test_requested_gsm7_applies_substitutions_even_without_smart() -> None:
    encoded = encode_text("\u201cHi\u201d", requested="gsm7", smart=False)
    assert (encoded.transmitted, encoded.encoding) == ('"Hi"', GSM7)
    assert encoded.smart_encoding_applied is True
    assert encoded.replaced_characters == 2


def test_requested_gsm7_with_emoji_raises() -> None:
    with pytest.raises(NotGsm7Error) as info:
        encode_text(EMOJI, requested="gsm7")
    assert info.value.characters == (EMOJI,)
    assert isinstance(info.value, ValueError)


def test_not_gsm7_error_lists_distinct_chars_in_order() -> None:
    with pytest.raises(NotGsm7Error) as info:
        encode_text("Ω \u201cok\u201d " + EMOJI + " Ω Ç" + EMOJI, requested="gsm7")
    assert info.value.characters == ("Ω", EMOJI, "Ç")  # curly quotes were substituted
    assert "U+03A9" in str(info.value)


def test_requested_gsm7_plain_text() -> None:
    encoded = encode_text("plain", requested="gsm7")
    assert (encoded.encoding, encoded.transmitted, encoded.smart_encoding_applied) == (
        GSM7,
        "plain",
        False,
    )


def test_requested_ucs2_forces_ucs2_on_ascii() -> None:
    encoded = encode_text("a" * 70, requested="ucs2", smart=True)
    assert (encoded.encoding, encoded.units, encoded.parts) == (UCS2, 70, 1)
    assert encode_text("a" * 71, requested="ucs2").parts == 2
    curly = encode_text("\u201cHi\u201d", requested="ucs2", smart=True)
    assert curly.transmitted == "\u201cHi\u201d"
    assert curly.smart_encoding_applied is False


def test_unknown_requested_encoding_is_rejected() -> None:
    with pytest.raises(ValueError, match="requested"):
        encode_text("hi", requested="utf8")


def test_empty_text() -> None:
    encoded = encode_text("")
    assert (encoded.encoding, encoded.units, encoded.parts, encoded.num_chars) == (GSM7, 0, 1, 0)
    assert encode_text("", requested="ucs2").parts == 1


# ---------------------------------------------------------------- properties

gsm_alphabet = st.sampled_from(sorted(GSM7_BASIC | GSM7_EXTENSION))
mixed_alphabet = st.sampled_from(["a", " ", "é", "€", "[", "Ж", "Ω", EMOJI, "\ud83d"])  # lone surrogate too
any_text = st.one_of(
    st.text(max_size=400),
    st.text(alphabet=gsm_alphabet, max_size=1700),
    st.text(alphabet=mixed_alphabet, max_size=800),
    st.text(alphabet=st.sampled_from(sorted(SMART_SUBSTITUTIONS)), max_size=300),
)
requested_never_raises = st.sampled_from(["auto", "ucs2"])


def check_split(text: str, encoding: str, parts: list[str]) -> None:
    assert "".join(parts) == text
    single, per_part = PART_LIMITS[encoding]
    limit = single if len(parts) == 1 else per_part
    for index, part in enumerate(parts):
        assert units_of(part, encoding) <= limit
        if index + 1 < len(parts):
            # Greedy: the next character would not have fitted.
            following = parts[index + 1][0]
            assert units_of(part + following, encoding) > limit
            assert part  # no empty part except for empty text


@given(text=any_text, requested=requested_never_raises, smart=st.booleans())
def test_encode_text_is_consistent(text: str, requested: str, smart: bool) -> None:
    encoded = encode_text(text, requested=requested, smart=smart)
    parts = split_parts(encoded.transmitted, encoded.encoding)
    assert encoded.parts == len(parts)
    check_split(encoded.transmitted, encoded.encoding, parts)
    assert encoded.units == units_of(encoded.transmitted, encoded.encoding)
    assert encoded.num_chars == len(text)
    assert encoded.original == text
    if encoded.encoding == UCS2:
        assert encoded.transmitted == text
        assert not encoded.smart_encoding_applied
    else:
        assert is_gsm7(encoded.transmitted)
    assert encoded.smart_encoding_applied == (encoded.replaced_characters > 0)
    single, per_part = PART_LIMITS[encoded.encoding]
    if encoded.units <= single:
        assert encoded.parts == 1
    elif encoded.units == len(encoded.transmitted):  # nothing can straddle a boundary
        assert encoded.parts == math.ceil(encoded.units / per_part)
    else:
        assert encoded.parts >= math.ceil(encoded.units / per_part)


@given(text=any_text)
def test_split_parts_reassembles_and_fits(text: str) -> None:
    check_split(text, UCS2, split_parts(text, UCS2))
    if is_gsm7(text):
        check_split(text, GSM7, split_parts(text, GSM7))


@given(text=any_text)
def test_smart_substitute_reaches_gsm7_exactly_when_every_char_is_covered(text: str) -> None:
    result, replaced = smart_substitute(text)
    covered = all(c in GSM7_BASIC or c in GSM7_EXTENSION or c in SMART_SUBSTITUTIONS for c in text)
    assert is_gsm7(result) == covered
    assert replaced == sum(c in SMART_SUBSTITUTIONS for c in text)
    assert result == "".join(SMART_SUBSTITUTIONS.get(c, c) for c in text)


@given(text=any_text, smart=st.booleans())
def test_requested_gsm7_either_encodes_or_names_the_offenders(text: str, smart: bool) -> None:
    uncovered = [c for c in text if not (c in GSM7_BASIC or c in GSM7_EXTENSION or c in SMART_SUBSTITUTIONS)]
    if uncovered:
        with pytest.raises(NotGsm7Error) as info:
            encode_text(text, requested="gsm7", smart=smart)
        assert info.value.characters == tuple(dict.fromkeys(uncovered))
    else:
        encoded = encode_text(text, requested="gsm7", smart=smart)
        assert encoded.encoding == GSM7
        assert is_gsm7(encoded.transmitted)


@given(text=any_text)
def test_auto_without_smart_never_substitutes(text: str) -> None:
    encoded = encode_text(text)
    assert encoded.transmitted == text
    assert encoded.encoding == (GSM7 if is_gsm7(text) else UCS2)

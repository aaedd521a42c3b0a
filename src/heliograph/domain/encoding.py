"""SMS text encoding: GSM-7 / UCS-2 choice, smart-encoding substitutions, segmentation.

This is the contract of spec ``messages.md`` §8. Everything here is pure and stdlib-only, because
it runs on every outbound SMS (and on every inbound one, to report ``parts``), so the common case
-- a short plain-ASCII text -- takes a fast path that never loops over characters in Python.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "GSM7",
    "UCS2",
    "MAX_PARTS",
    "PART_LIMITS",
    "SMART_SUBSTITUTIONS",
    "EncodedText",
    "NotGsm7Error",
    "encode_text",
    "is_gsm7",
    "septet_length",
    "smart_substitute",
    "split_parts",
    "utf16_length",
]

# Wire values of the message object's `encoding` field.
GSM7 = "GSM-7"
UCS2 = "UCS-2"

# Telnyx's "most widely supported" GSM-7 basic set. It is GSM 03.38 *minus* Δ Φ Γ Λ Ω Π Ψ Σ Θ Ξ,
# Ç, ¤ and form feed: Telnyx deliberately leaves those out (handsets and carriers render them
# unreliably), so they force UCS-2 here too.
GSM7_BASIC: frozenset[str] = frozenset(
    "0123456789"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "abcdefghijklmnopqrstuvwxyz"
    "\n\r !\"#$%&'()*+,-./:;<=>?@_"
    "£¥èéùìòØøÅåÆæßÉ¡ÄÖÑÜ§¿äöñüà"
)

# Sent as ESC + char, so each costs two septets.
GSM7_EXTENSION: frozenset[str] = frozenset("^{}\\[]~|€")

# (single-part limit, per-part limit when concatenated), in the encoding's own unit.
# A concatenated part carries a 6-byte UDH, so GSM-7 parts hold 153 septets rather than 160 and
# UCS-2 parts hold 67 UTF-16 code units rather than 70.
PART_LIMITS: Mapping[str, tuple[int, int]] = MappingProxyType({GSM7: (160, 153), UCS2: (70, 67)})

# More parts than this is rejected upstream (error 40302); this module only counts.
MAX_PARTS = 10

_GSM7_ALL = GSM7_BASIC | GSM7_EXTENSION

# Matches one character GSM-7 cannot carry. A regex scan runs in C, unlike a per-char loop.
_NOT_GSM7_RE = re.compile("[^" + "".join(re.escape(c) for c in sorted(_GSM7_ALL)) + "]")
_EXTENSION_RE = re.compile("[" + "".join(re.escape(c) for c in sorted(GSM7_EXTENSION)) + "]")

# For the ASCII fast path: bytes.translate(None, delete) is the cheapest way to test membership.
# Everything printable in ASCII is GSM-7 except the grave accent; of the controls only LF and CR.
_GSM7_ASCII_BYTES = bytes(sorted(ord(c) for c in _GSM7_ALL if ord(c) < 0x80))
_EXTENSION_ASCII_BYTES = bytes(sorted(ord(c) for c in GSM7_EXTENSION if ord(c) < 0x80))


# --------------------------------------------------------------------------------------------
# Smart-encoding substitution table (spec §8.4)
# --------------------------------------------------------------------------------------------


def _build_substitutions() -> dict[str, str]:
    """Build char -> replacement. Every key is outside GSM-7 and every value is pure GSM-7.

    Both properties matter: substituting a character that is already GSM-7 (say é or ¡) would
    silently change a message that needed no help, and a replacement that is not GSM-7 would not
    help reach GSM-7 at all. tests/domain/test_encoding.py checks both over the whole table.
    """
    table: dict[str, str] = {}

    def put(chars: str, replacement: str) -> None:
        for char in chars:
            table[char] = replacement

    # Fullwidth ASCII forms U+FF01..U+FF5E sit exactly 0xFEE0 above ASCII 0x21..0x7E.
    for code in range(0xFF01, 0xFF5F):
        table[chr(code)] = chr(code - 0xFEE0)
    # ...except the fullwidth grave, whose ASCII twin is not GSM-7: treat it like the grave itself.
    table["\N{FULLWIDTH GRAVE ACCENT}"] = "'"

    # Small form variants U+FE50..U+FE6B (U+FE53 and U+FE67 are unassigned and stay UCS-2).
    put("\N{SMALL COMMA}\N{SMALL IDEOGRAPHIC COMMA}", ",")
    put("\N{SMALL FULL STOP}", ".")
    put("\N{SMALL SEMICOLON}", ";")
    put("\N{SMALL COLON}", ":")
    put("\N{SMALL QUESTION MARK}", "?")
    put("\N{SMALL EXCLAMATION MARK}", "!")
    put("\N{SMALL EM DASH}\N{SMALL HYPHEN-MINUS}", "-")
    # Tortoise-shell brackets have no ASCII twin; parentheses are the closest and cost 1 septet.
    put("\N{SMALL LEFT PARENTHESIS}\N{SMALL LEFT TORTOISE SHELL BRACKET}", "(")
    put("\N{SMALL RIGHT PARENTHESIS}\N{SMALL RIGHT TORTOISE SHELL BRACKET}", ")")
    put("\N{SMALL LEFT CURLY BRACKET}", "{")
    put("\N{SMALL RIGHT CURLY BRACKET}", "}")
    put("\N{SMALL NUMBER SIGN}", "#")
    put("\N{SMALL AMPERSAND}", "&")
    put("\N{SMALL ASTERISK}", "*")
    put("\N{SMALL PLUS SIGN}", "+")
    put("\N{SMALL LESS-THAN SIGN}", "<")
    put("\N{SMALL GREATER-THAN SIGN}", ">")
    put("\N{SMALL EQUALS SIGN}", "=")
    put("\N{SMALL REVERSE SOLIDUS}", "\\")
    put("\N{SMALL DOLLAR SIGN}", "$")
    put("\N{SMALL PERCENT SIGN}", "%")
    put("\N{SMALL COMMERCIAL AT}", "@")

    # Ideographic comma / full stop, full and halfwidth.
    put("\N{IDEOGRAPHIC COMMA}\N{HALFWIDTH IDEOGRAPHIC COMMA}", ",")
    put("\N{IDEOGRAPHIC FULL STOP}\N{HALFWIDTH IDEOGRAPHIC FULL STOP}", ".")

    # Double quotes (U+2033 DOUBLE PRIME is shown in the spec's row, so it is included).
    put(
        "\u00ab\u00bb\u201c\u201d\u201e\u201f\u02ba\u02ee\u275d\u275e\u301d\u301e\uff02\u2033",
        '"',
    )
    # Single quotes, primes, acute and grave accents (U+2032 PRIME joins its double sibling).
    put(
        "\u2018\u2019\u201b\u02b9\u02bb\u02bc\u02bd\u02c8\u02ca\u02cb\u00b4\u0060"
        "\u275b\u275c\u0313\u0314\ufe10\ufe11\uff07\u2032",
        "'",
    )
    # Dashes and bullets.
    put("\u2010\u2013\u2014\u2015\u2022\u2043\u23bc\u23bd\ufe63\uff0d", "-")
    put("\N{HORIZONTAL ELLIPSIS}", "...")
    put("\N{DOUBLE EXCLAMATION MARK}", "!!")
    put("\N{VULGAR FRACTION ONE QUARTER}", "1/4")
    put("\N{VULGAR FRACTION ONE HALF}", "1/2")
    put("\N{VULGAR FRACTION THREE QUARTERS}", "3/4")
    # Division sign and slash variants.
    put("\u00f7\u2044\u2215\u29f8\u0337\u0338\uff0f", "/")

    # Small capitals: there is no small capital X in Unicode.
    small_capitals = (
        "\N{LATIN LETTER SMALL CAPITAL A}\N{LATIN LETTER SMALL CAPITAL B}"
        "\N{LATIN LETTER SMALL CAPITAL C}\N{LATIN LETTER SMALL CAPITAL D}"
        "\N{LATIN LETTER SMALL CAPITAL E}\N{LATIN LETTER SMALL CAPITAL F}"
        "\N{LATIN LETTER SMALL CAPITAL G}\N{LATIN LETTER SMALL CAPITAL H}"
        "\N{LATIN LETTER SMALL CAPITAL I}\N{LATIN LETTER SMALL CAPITAL J}"
        "\N{LATIN LETTER SMALL CAPITAL K}\N{LATIN LETTER SMALL CAPITAL L}"
        "\N{LATIN LETTER SMALL CAPITAL M}\N{LATIN LETTER SMALL CAPITAL N}"
        "\N{LATIN LETTER SMALL CAPITAL O}\N{LATIN LETTER SMALL CAPITAL P}"
        "\N{LATIN LETTER SMALL CAPITAL Q}\N{LATIN LETTER SMALL CAPITAL R}"
        "\N{LATIN LETTER SMALL CAPITAL S}\N{LATIN LETTER SMALL CAPITAL T}"
        "\N{LATIN LETTER SMALL CAPITAL U}\N{LATIN LETTER SMALL CAPITAL V}"
        "\N{LATIN LETTER SMALL CAPITAL W}\N{LATIN LETTER SMALL CAPITAL Y}"
        "\N{LATIN LETTER SMALL CAPITAL Z}"
    )
    for small, capital in zip(small_capitals, "ABCDEFGHIJKLMNOPQRSTUVWYZ", strict=True):
        table[small] = capital

    # Greek capitals that look Latin. The other Greek capitals (Δ Φ Γ ...) have no look-alike
    # and stay UCS-2, since Telnyx's GSM-7 set drops them.
    greek_capitals = (
        "\N{GREEK CAPITAL LETTER ALPHA}\N{GREEK CAPITAL LETTER BETA}"
        "\N{GREEK CAPITAL LETTER EPSILON}\N{GREEK CAPITAL LETTER ETA}"
        "\N{GREEK CAPITAL LETTER IOTA}\N{GREEK CAPITAL LETTER KAPPA}"
        "\N{GREEK CAPITAL LETTER MU}\N{GREEK CAPITAL LETTER NU}"
        "\N{GREEK CAPITAL LETTER OMICRON}\N{GREEK CAPITAL LETTER RHO}"
        "\N{GREEK CAPITAL LETTER TAU}\N{GREEK CAPITAL LETTER CHI}"
        "\N{GREEK CAPITAL LETTER UPSILON}\N{GREEK CAPITAL LETTER ZETA}"
    )
    for greek, latin in zip(greek_capitals, "ABEHIKMNOPTXYZ", strict=True):
        table[greek] = latin

    # Asterisk variants, including the dingbat asterisks/stars/florettes U+2722..U+274B.
    put("\u204e\u2217\u229b\u29c6\ufe61\uff0a", "*")
    for code in range(0x2722, 0x274C):
        table[chr(code)] = "*"

    # Tilde and circumflex variants (both land in the extension table: 2 septets).
    put("\u02dc\u02f7\u0303\u0330\u0334\u223c\uff5e", "~")
    put("\u02c6\u0302\uff3e\u1dcd", "^")

    # Space variants.
    put("\u00a0\u202f\u205f\u3000", " ")
    for code in range(0x2000, 0x200B):
        table[chr(code)] = " "

    # Invisible characters and the listed control characters are dropped outright.
    put("\u200b\ufeff\u2028\u2029\u2060", "")
    put("\x00\x03\x04\x10\x11\x12\x13\x14\x17\x19\x80\x8d\x90\x9b\x9f", "")

    # A tab becomes 7 spaces, as in Telnyx's table (handsets have no tab stops).
    table["\t"] = " " * 7
    return table


SMART_SUBSTITUTIONS: Mapping[str, str] = MappingProxyType(_build_substitutions())

# One character the table can replace. re.subn both substitutes and counts in a single C-level scan
# and only calls back into Python on the (usually few) matches; a str.translate over non-ASCII
# text would do a dict lookup for every character.
_SUBSTITUTABLE_RE = re.compile("[" + "".join(re.escape(c) for c in sorted(SMART_SUBSTITUTIONS)) + "]")


def _replacement(match: re.Match[str]) -> str:
    return SMART_SUBSTITUTIONS[match[0]]


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


class NotGsm7Error(ValueError):
    """Text asked to go as GSM-7 holds characters GSM-7 cannot carry."""

    characters: tuple[str, ...]

    def __init__(self, characters: tuple[str, ...]) -> None:
        self.characters = characters
        shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in characters)
        super().__init__(f"text cannot be encoded as GSM-7; unsupported characters: {shown}")


@dataclass(frozen=True, slots=True)
class EncodedText:
    """How one SMS text goes over the air, and what the message object reports about it."""

    original: str  # text as the user wrote it
    transmitted: str  # what goes to the handset (after substitutions, or original)
    encoding: str  # "GSM-7" or "UCS-2" (the wire values used in the message object)
    parts: int
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2, of `transmitted`
    num_chars: int  # Unicode code points of `original`
    smart_encoding_applied: bool
    replaced_characters: int  # characters of `original` that were substituted or removed


def _ascii_septets(text: str) -> int | None:
    """Septets of an ASCII text that is pure GSM-7, else None (caller takes the general path)."""
    if not text.isascii():
        return None
    raw = text.encode("ascii")
    if raw.translate(None, _GSM7_ASCII_BYTES):
        return None  # a grave accent or a control character other than LF/CR
    # Each extension character is ESC + char: one extra septet.
    return 2 * len(raw) - len(raw.translate(None, _EXTENSION_ASCII_BYTES))


def _offending(text: str) -> tuple[str, ...]:
    # dict.fromkeys keeps first-appearance order while removing duplicates.
    return tuple(dict.fromkeys(_NOT_GSM7_RE.findall(text)))


def is_gsm7(text: str) -> bool:
    """True if every character is in Telnyx's GSM-7 basic or extension set."""
    if text.isascii():
        return not text.encode("ascii").translate(None, _GSM7_ASCII_BYTES)
    return _NOT_GSM7_RE.search(text) is None


def septet_length(text: str) -> int:
    """Septets needed to send GSM-7 text (extension characters count 2).

    Raises NotGsm7Error for text that is not GSM-7, rather than returning a meaningless count.
    """
    septets = _ascii_septets(text)
    if septets is not None:
        return septets
    if _NOT_GSM7_RE.search(text) is not None:
        raise NotGsm7Error(_offending(text))
    return len(text) + len(_EXTENSION_RE.findall(text))


def utf16_length(text: str) -> int:
    """UTF-16 code units: what UCS-2 segmentation counts, so astral characters (emoji) count 2."""
    if text.isascii():
        return len(text)
    # surrogatepass: a lone surrogate (possible from lax JSON) counts 1 instead of blowing up.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def smart_substitute(text: str) -> tuple[str, int]:
    """Apply the smart-encoding table; return (result, characters substituted or removed).

    Characters that are already GSM-7 are never in the table, so GSM-7 text comes back unchanged.
    """
    if is_gsm7(text):
        return text, 0
    return _SUBSTITUTABLE_RE.subn(_replacement, text)


def _limits(encoding: str) -> tuple[int, int]:
    try:
        return PART_LIMITS[encoding]
    except KeyError:
        raise ValueError(f"encoding must be {GSM7!r} or {UCS2!r}, not {encoding!r}") from None


def _count_parts(text: str, encoding: str, units: int) -> int:
    single, per_part = _limits(encoding)
    if units <= single:
        return 1
    if units == len(text):
        # Every character is one unit, so nothing can straddle a boundary: plain ceiling division.
        return -(-units // per_part)
    return len(split_parts(text, encoding))


def split_parts(text: str, encoding: str) -> list[str]:
    """Cut text into the segments actually sent ("GSM-7" or "UCS-2").

    Greedy: each part takes as many whole characters as fit. Cutting on code points guarantees
    that an ESC pair (GSM-7) or a surrogate pair (UCS-2) is never split across two parts, which
    is why `parts` can exceed ceil(units / per_part). Empty text is one empty part.
    """
    single, per_part = _limits(encoding)
    measure = septet_length if encoding == GSM7 else utf16_length
    units = measure(text)
    if units <= single:
        return [text]
    size = len(text)
    if units == size:
        return [text[i : i + per_part] for i in range(0, size, per_part)]

    parts: list[str] = []
    start = 0
    while start < size:
        # Take per_part characters (at least per_part units), then give characters back until
        # the part fits. A character is at most 2 units, so shedding ceil(excess / 2) characters
        # never gives back more than needed: the loop ends on the longest prefix that fits.
        end = min(start + per_part, size)
        used = measure(text[start:end])
        while used > per_part:
            end -= (used - per_part + 1) // 2
            used = measure(text[start:end])
        parts.append(text[start:end])
        start = end
    return parts


_REQUESTED = frozenset({"auto", "gsm7", "ucs2"})


def encode_text(text: str, *, requested: str = "auto", smart: bool = False) -> EncodedText:
    """Decide how an SMS text is sent (spec §8.3).

    requested: the request's `encoding` ("auto", "gsm7", "ucs2"); smart: the profile's
    `smart_encoding`. "gsm7" always substitutes and raises NotGsm7Error if that is not enough;
    "ucs2" never substitutes. Under "auto" + smart, substitutions are kept only if they make the
    whole text GSM-7: otherwise the message goes UCS-2, which carries the original characters
    anyway, so altering them would gain nothing.

    >>> encode_text("\u201cHi\u201d", smart=True).transmitted
    '"Hi"'
    >>> encode_text("\u201cHi\u201d \N{GRINNING FACE}", smart=True).encoding
    'UCS-2'
    """
    if requested not in _REQUESTED:
        raise ValueError(f"requested encoding must be one of auto, gsm7, ucs2, not {requested!r}")
    num_chars = len(text)

    if requested != "ucs2":
        # Fast path: plain GSM-7 ASCII needs no substitution whatever `smart` says.
        septets = _ascii_septets(text)
        if septets is not None:
            return EncodedText(text, text, GSM7, _count_parts(text, GSM7, septets), septets, num_chars, False, 0)
        if requested == "gsm7" or smart:
            substituted, replaced = smart_substitute(text)
            if is_gsm7(substituted):
                septets = septet_length(substituted)
                return EncodedText(
                    text,
                    substituted,
                    GSM7,
                    _count_parts(substituted, GSM7, septets),
                    septets,
                    num_chars,
                    replaced > 0,
                    replaced,
                )
            if requested == "gsm7":
                raise NotGsm7Error(_offending(substituted))
        elif is_gsm7(text):
            septets = septet_length(text)
            return EncodedText(text, text, GSM7, _count_parts(text, GSM7, septets), septets, num_chars, False, 0)

    units = utf16_length(text)
    return EncodedText(text, text, UCS2, _count_parts(text, UCS2, units), units, num_chars, False, 0)

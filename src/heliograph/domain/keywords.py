"""Opt-out, opt-in and help keywords (spec compliance.md §2.3–2.4).

The whole message, trimmed, with inner whitespace collapsed and compared case-insensitively, must
equal a keyword: "stop", " STOP ", "Stop all" match; "please stop" does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

DEFAULT_KEYWORDS: dict[str, frozenset[str]] = {
    "stop": frozenset({"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}),
    "start": frozenset({"START", "UNSTOP"}),
    "info": frozenset({"HELP"}),
}
SHORT_CODE_INFO = frozenset({"INFO"})
RESERVED = {"STOP": "stop", "START": "start", "HELP": "info"}  # cannot be moved to another operation


@dataclass(frozen=True, slots=True)
class Config:
    """An auto-response config, reduced to what matching needs."""

    id: str
    op: str
    keywords: Sequence[str]
    country_code: str
    resp_text: str | None


@dataclass(frozen=True, slots=True)
class Match:
    op: str  # stop | start | info
    keyword: str  # upper case, as matched
    config: Config | None  # the config that matched, when one did (its resp_text is the reply)


def normalise(text: str) -> str:
    return " ".join(text.split()).upper()


def match(text: str, configs: Iterable[Config], sender_country: str, *, short_code: bool = False) -> Match | None:
    """The operation a message triggers, if any. A config for the sender's country wins over one for
    '*', and any config wins over the defaults (which only change block rules, with no reply)."""
    word = normalise(text)
    if not word:
        return None
    ranked = sorted(configs, key=lambda c: 0 if c.country_code == sender_country else 1)
    for config in ranked:
        if config.country_code not in (sender_country, "*"):
            continue
        if word in {normalise(k) for k in config.keywords}:
            return Match(config.op, word, config)
    for op, words in DEFAULT_KEYWORDS.items():
        if word in words or (op == "info" and short_code and word in SHORT_CODE_INFO):
            # a config for the same operation supplies the reply even when matched by a default word
            reply = next((c for c in ranked if c.op == op and c.country_code in (sender_country, "*")), None)
            return Match(op, word, reply)
    return None


def reserved_conflict(op: str, keywords: Iterable[str]) -> str | None:
    """A reserved keyword (STOP, START, HELP) being moved to another operation, if any."""
    for keyword in keywords:
        owner = RESERVED.get(normalise(keyword))
        if owner is not None and owner != op:
            return normalise(keyword)
    return None

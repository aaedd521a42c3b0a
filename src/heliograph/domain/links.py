"""Link rewriting for the URL shortener (spec compliance.md §6)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

# public shorteners whose links are replaced when `replace_blacklist_only` is true
BLACKLISTED_DOMAINS = frozenset(
    {
        "bit.do",
        "bit.ly",
        "carebank.site",
        "drvline.site",
        "eatngage.com",
        "goo.gl",
        "healthsettle.pw",
        "ht.ly",
        "is.gd",
        "ow.ly",
        "rebrand.ly",
        "t.co",
        "tiny.cc",
        "tinyurl.com",
        "x.co",
    }
)

_LINK = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


@dataclass(frozen=True, slots=True)
class Replacement:
    token: str
    original: str
    short: str


def new_token() -> str:
    """72 random bits, URL-safe: unguessable, and short enough not to cost a part."""
    return secrets.token_urlsafe(9)


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def rewrite(
    text: str, short_url: Callable[[str], str], *, blacklist_only: bool, token: Callable[[], str] = new_token
) -> tuple[str, list[Replacement]]:
    """Replace links in `text` with short links; returns the new text and what was replaced."""
    replacements: list[Replacement] = []

    def swap(match: re.Match[str]) -> str:
        url = match.group(0)
        trail = ""
        while url and url[-1] in _TRAILING:  # "see https://x.co/a." — the full stop is not part of the link
            trail = url[-1] + trail
            url = url[:-1]
        host = _host(url)
        if not host or (blacklist_only and host.removeprefix("www.") not in BLACKLISTED_DOMAINS):
            return match.group(0)
        tok = token()
        short = short_url(tok)
        replacements.append(Replacement(tok, url, short))
        return short + trail

    return _LINK.sub(swap, text), replacements

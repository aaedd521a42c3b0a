"""Validators shared by the wire models. Errors carry their Telnyx code in the error type (`telnyx_<code>`)."""

from __future__ import annotations

import re

from pydantic_core import PydanticCustomError

from heliograph.services.sending import valid_url

COUNTRY = re.compile(r"^[A-Z]{2}$")


def url_or_none(value: str | None) -> str | None:
    if value is None or value == "":
        return value
    if not valid_url(value):
        raise PydanticCustomError("telnyx_10003", "must be an http(s) URL of at most 2000 characters")
    return value


def destinations(value: list[str]) -> list[str]:
    for item in value:
        if item != "*" and not COUNTRY.match(item):
            raise PydanticCustomError(
                "telnyx_10032", "each destination must be an ISO 3166-1 alpha-2 code in upper case, or '*'"
            )
    return value

"""Request bodies: JSON parsing, schema validation mapped to Telnyx codes, and camelCase hints.

Heliograph answers exactly as Telnyx would, but a sandbox should also say *why* a field was ignored:
a body key that is the camelCase form of a known field (`messagingProfileId`, `sendAt`) is logged and
named in an `x-heliograph-warning` header.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import orjson
from fastapi import Request
from pydantic import BaseModel, ValidationError

from heliograph.domain.errors import (
    CharacterEncodingError,
    HeliographError,
    InvalidJson,
    InvalidParameterType,
    ValidationFailed,
    error_class,
)

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

WARNING_HEADER = "x-heliograph-warning"
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


# what no database column can hold: NUL (PostgreSQL refuses it in text) and unpaired surrogates (not UTF-8)
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


async def json_body(request: Request) -> Any:
    """The parsed body; a string the database could not store is refused here, once for every route."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "surrogate" in str(exc):  # valid JSON that orjson refuses: find the field and name it
            _refuse_unstorable(_lenient_json(raw))
        if isinstance(exc.__cause__, UnicodeDecodeError) or "utf-8" in str(exc).lower():
            raise CharacterEncodingError("The request body is not valid UTF-8.") from None
        raise InvalidJson(f"The request body is not valid JSON: {exc}.") from None
    if b"\\u0000" in raw:  # JSON carries a NUL only escaped: the common body skips the walk
        _refuse_unstorable(body)
    return body


def refuse_unstorable_json(raw: bytes) -> None:
    """For routes that keep the raw body (signed carrier webhooks): refuse a NUL before it reaches a column."""
    if b"\\u0000" in raw:
        _refuse_unstorable(_lenient_json(raw))


def _lenient_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _refuse_unstorable(body: Any) -> None:
    pointer = unstorable_pointer(body)
    if pointer is not None:
        raise ValidationFailed(
            f"'{pointer[1:].replace('/', '.')}' contains a character that cannot be stored (NUL or an unpaired "
            "surrogate).",
            pointer=pointer,
        )


def unstorable(text: str) -> bool:
    """True when `text` holds a character no database column can store."""
    return _UNSTORABLE.search(text) is not None


def unstorable_pointer(value: Any, pointer: str = "") -> str | None:
    """The JSON pointer of the first key or string in `value` that cannot be stored, or None."""
    if isinstance(value, str):
        return pointer if unstorable(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if unstorable(str(key)):
                return here
            found = unstorable_pointer(item, here)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = unstorable_pointer(item, f"{pointer}/{index}")
            if found is not None:
                return found
    return None


async def json_object(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise InvalidParameterType("The request body must be a JSON object.", pointer="")
    return body


def camel_case_hints(body: dict[str, Any], known: Iterable[str]) -> list[str]:
    """Hints for keys that look like a camelCase spelling of a known snake_case field."""
    known = set(known)
    hints = []
    for key in body:
        if key in known or not isinstance(key, str):
            continue
        snake = _CAMEL.sub("_", key).lower()
        if snake in known and snake != key:
            hints.append(f"unknown field '{key}' was ignored; the API's field is '{snake}'")
    return hints


def warn(request: Request, hints: list[str]) -> dict[str, str]:
    """Log the hints and return the header that carries them (empty when there are none)."""
    if not hints:
        return {}
    for hint in hints:
        logger.warning("likely mistake in request: %s", hint, extra={"path": request.url.path})
    headers = {WARNING_HEADER: "; ".join(hints)}
    request.state.warning_headers = headers  # error responses carry the hint too (api/errors.py)
    return headers


_CODES = {
    "missing": "10004",
    "string_type": "10026",
    "bool_type": "10026",
    "bool_parsing": "10026",
    "int_type": "10026",
    "int_parsing": "10026",
    "float_type": "10026",
    "float_parsing": "10026",
    "list_type": "10026",
    "dict_type": "10026",
    "model_type": "10026",
    "model_attributes_type": "10026",
    "literal_error": "10032",
    "enum": "10032",
    "greater_than_equal": "10033",
    "less_than_equal": "10033",
    "greater_than": "10033",
    "less_than": "10033",
    "too_long": "10033",
    "too_short": "10033",
    "string_too_long": "10025",
    "string_too_short": "10025",
    "url_parsing": "10003",
    "url_scheme": "10003",
    "url_type": "10003",
    "string_pattern_mismatch": "10027",
}


def validate(model: type[M], body: dict[str, Any]) -> M:
    """Validate `body` against `model`; the first problem becomes a Telnyx error with its pointer."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        pointer = "/" + "/".join(str(p) for p in first["loc"])
        kind = first["type"]
        code = kind[len("telnyx_") :] if kind.startswith("telnyx_") else _CODES.get(kind, "10027")
        # a body that fails its schema is 422 whatever the code (spec errors.md §8; e.g. a bad
        # daily_spend_limit is 422 10015, profiles-and-numbers.md §2)
        raise error_class(code)(_message(first), status=422, pointer=pointer) from None


def validate_with_hints(request: Request, model: type[M], body: dict[str, Any]) -> tuple[M, dict[str, str]]:
    """Validate `body` against `model` and return it with the camelCase-hint headers.

    A refused body carries the hints too (on the error's `headers`, which the error handler sends):
    a misspelt key is most often the very reason a required field is "missing".
    """
    headers = warn(request, camel_case_hints(body, model.model_fields))
    try:
        return validate(model, body), headers
    except HeliographError as exc:
        exc.headers = {**(getattr(exc, "headers", None) or {}), **headers}  # type: ignore[attr-defined]
        raise


def _message(error: Mapping[str, Any]) -> str:
    field = ".".join(str(p) for p in error["loc"])
    if error["type"] == "missing":
        return f"The '{field}' parameter is required."
    msg = error["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return f"'{field}': {msg}"

"""Page-number pagination (spec README §4): page[number] ≥ 1, page[size] 1–250, meta always complete."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from heliograph.domain.errors import InvalidParameterType, ValueOutOfRange

MAX_PAGE_SIZE = 250


@dataclass(frozen=True, slots=True)
class Page:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    def meta(self, total: int) -> dict[str, int]:
        return {
            "page_number": self.number,
            "page_size": self.size,
            "total_pages": math.ceil(total / self.size) if total else 0,
            "total_results": total,
        }

    def body(self, data: list[Any], total: int) -> dict[str, Any]:
        return {"data": data, "meta": self.meta(total)}


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()):  # int() also takes "٣", "３", " 3" and "1_0"
        raise InvalidParameterType(f"'{name}' must be an integer.", parameter=name)
    value = int(raw)
    if not low <= value <= high:
        raise ValueOutOfRange(f"'{name}' must be between {low} and {high}.", parameter=name)
    return value


def page_of(request: Request) -> Page:
    return Page(
        number=_int_param(request, "page[number]", 1, 1, 10**9),
        size=_int_param(request, "page[size]", 20, 1, MAX_PAGE_SIZE),
    )

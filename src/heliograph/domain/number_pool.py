"""Choosing a sender from a messaging profile's number pool (spec messages.md §11).

Order: (1) the sticky sender for this recipient, if enabled and still usable; (2) drop unhealthy
numbers when `skip_unhealthy`; (3) pick long code or toll-free by weight; (4) within that type prefer
numbers in the recipient's area code when `geomatch` (NANP only); (5) uniform among what is left.
The random source is passed in, so the same seed and inputs always give the same choice.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

UNHEALTHY_SUCCESS_BELOW = 0.25
UNHEALTHY_SPAM_ABOVE = 0.75


@dataclass(frozen=True, slots=True)
class PoolNumber:
    phone_number: str
    kind: str  # longcode | tollfree
    success_ratio: float = 1.0
    spam_ratio: float = 0.0

    @property
    def healthy(self) -> bool:
        return self.success_ratio >= UNHEALTHY_SUCCESS_BELOW and self.spam_ratio <= UNHEALTHY_SPAM_ABOVE


def area_code(e164: str) -> str | None:
    """The NPA of a NANP number, else None."""
    if e164.startswith("+1") and len(e164) == 12:
        return e164[2:5]
    return None


def choose(
    numbers: Sequence[PoolNumber],
    settings: dict[str, Any],
    recipient: str,
    sticky: str | None,
    rng: random.Random,
) -> PoolNumber | None:
    weights = {
        "longcode": float(settings.get("long_code_weight", 1)),
        "tollfree": float(settings.get("toll_free_weight", 1)),
    }
    usable = [n for n in numbers if weights.get(n.kind, 0) > 0]
    if settings.get("skip_unhealthy"):
        usable = [n for n in usable if n.healthy]
    if settings.get("sticky_sender") and sticky is not None:
        for n in usable:
            if n.phone_number == sticky:
                return n
    if not usable:
        return None
    kinds = sorted({n.kind for n in usable})
    kind = rng.choices(kinds, weights=[weights[k] for k in kinds])[0] if len(kinds) > 1 else kinds[0]
    candidates = [n for n in usable if n.kind == kind]
    if settings.get("geomatch"):
        npa = area_code(recipient)
        local = [n for n in candidates if npa is not None and area_code(n.phone_number) == npa]
        candidates = local or candidates
    candidates.sort(key=lambda n: n.phone_number)  # stable order, so a seeded rng is reproducible
    return rng.choice(candidates)

"""Routes: which connectors, in failover order, carry a message.

A route matches on destination prefix (none = any destination), optionally a messaging profile and a
message type. The highest priority wins; among equal priorities the longest matching prefix, then the
more specific route (profile, type), then the name, so the choice never depends on storage order.

    >>> r = Route("uk", 10, ("+44",), None, None, ("smpp-uk", "upstream"))
    >>> choose([r], "+447700900123", None, "SMS").connectors
    ('smpp-uk', 'upstream')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    priority: int
    prefixes: tuple[str, ...]  # E.164 prefixes with "+"; empty = any destination
    messaging_profile_id: str | None
    message_type: str | None  # SMS | MMS | None = any
    connectors: tuple[str, ...]  # names, in failover order

    def prefix_match(self, to_number: str) -> int | None:
        """Length of the longest matching prefix (0 for a route with none), or None if it does not match."""
        if not self.prefixes:
            return 0
        lengths = [len(p) for p in self.prefixes if to_number.startswith(p)]
        return max(lengths) if lengths else None


def choose(routes: Iterable[Route], to_number: str, profile_id: str | None, message_type: str) -> Route | None:
    """The route a message takes, or None when nothing matches (the message is not routable: 40001)."""
    best: tuple[tuple[int, int, int, tuple[int, ...]], Route] | None = None
    for route in routes:
        if route.messaging_profile_id is not None and route.messaging_profile_id != profile_id:
            continue
        if route.message_type is not None and route.message_type != message_type:
            continue
        length = route.prefix_match(to_number)
        if length is None:
            continue
        specific = (route.messaging_profile_id is not None) + (route.message_type is not None)
        key = (route.priority, length, specific, _reversed_name(route.name))
        if best is None or key > best[0]:
            best = (key, route)
    return best[1] if best else None


def _reversed_name(name: str) -> tuple[int, ...]:
    """Sorts names so that, all else equal, the alphabetically first one wins under max()."""
    return tuple(-ord(c) for c in name)


def valid_prefix(prefix: str) -> bool:
    """An E.164 prefix: "+" and 1 to 15 digits."""
    return prefix.startswith("+") and prefix[1:].isdigit() and 1 <= len(prefix) - 1 <= 15

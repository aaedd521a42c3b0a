"""What a message's state is, given the receipts of its parts.

A multipart message is `delivered` only when every part's receipt says so, and fails as soon as one
part fails. Receipts arrive in any order and more than once; an intermediate one (ENROUTE, ACCEPTD:
status `sent`) never overrides a final one.

    >>> message_outcome([PartStatus("delivered"), PartStatus(None)]) is None
    True
    >>> message_outcome([PartStatus("delivered"), PartStatus("delivery_failed", "40008")]).status
    'delivery_failed'
"""

from __future__ import annotations

from dataclasses import dataclass

FINAL = frozenset({"delivered", "delivery_failed", "expired", "delivery_unconfirmed"})
FAILED = frozenset({"delivery_failed", "expired"})


@dataclass(frozen=True, slots=True)
class PartStatus:
    status: str | None  # None: no receipt yet; "sent": intermediate
    error_code: str | None = None
    error_detail: str | None = None


def merge(current: PartStatus, incoming: PartStatus) -> PartStatus:
    """A part's status after one more receipt: a final status is never replaced by an intermediate one,
    and the first final status stays (a duplicate or contradicting late receipt changes nothing)."""
    if current.status in FINAL:
        return current
    if incoming.status == "sent" and current.status is not None:
        return current
    return incoming


def message_outcome(parts: list[PartStatus]) -> PartStatus | None:
    """The message's final status, or None while it is still waiting for receipts."""
    for part in parts:
        if part.status in FAILED:
            return part
    if parts and all(p.status in FINAL for p in parts):
        unconfirmed = [p for p in parts if p.status == "delivery_unconfirmed"]
        return unconfirmed[0] if unconfirmed else PartStatus("delivered")
    return None

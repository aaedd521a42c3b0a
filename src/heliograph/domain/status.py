"""The outbound message state machine (spec messages.md §6)."""

from __future__ import annotations

SCHEDULED = "scheduled"
QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
DELIVERED = "delivered"
DELIVERY_FAILED = "delivery_failed"
DELIVERY_UNCONFIRMED = "delivery_unconfirmed"
SENDING_FAILED = "sending_failed"
EXPIRED = "expired"
CANCELLED = "cancelled"

FINAL = frozenset({DELIVERED, DELIVERY_FAILED, DELIVERY_UNCONFIRMED, SENDING_FAILED, EXPIRED})
TERMINAL = FINAL | {CANCELLED}

_NEXT: dict[str, frozenset[str]] = {
    SCHEDULED: frozenset({QUEUED, SENDING, CANCELLED, SENDING_FAILED}),
    QUEUED: frozenset({SENDING, SENDING_FAILED, EXPIRED}),
    SENDING: frozenset({SENT, SENDING_FAILED, QUEUED}),
    SENT: frozenset({DELIVERED, DELIVERY_FAILED, DELIVERY_UNCONFIRMED, EXPIRED}),
}


def can_move(current: str, target: str) -> bool:
    return target in _NEXT.get(current, frozenset())

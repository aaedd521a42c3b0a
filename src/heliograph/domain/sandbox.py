"""Sandbox test numbers: destinations that force an outcome, so failure paths can be exercised."""

from __future__ import annotations

import enum


class Outcome(enum.Enum):
    DELIVER = "deliver"
    DELIVERY_FAILED = "delivery_failed"
    REFUSE_SUBMISSION = "sending_failed"
    UNCONFIRMED = "delivery_unconfirmed"
    INVALID_DESTINATION = "invalid_destination"


TEST_NUMBERS: dict[str, Outcome] = {
    "+15005550001": Outcome.DELIVERY_FAILED,
    "+15005550002": Outcome.REFUSE_SUBMISSION,
    "+15005550003": Outcome.UNCONFIRMED,
    "+15005550004": Outcome.INVALID_DESTINATION,
}


def outcome_for(destination: str) -> Outcome:
    return TEST_NUMBERS.get(destination, Outcome.DELIVER)

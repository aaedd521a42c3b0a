"""A message's fate from its parts' receipts, whatever their order and repetitions."""

from __future__ import annotations

import itertools

from heliograph.domain.receipts import PartStatus, merge, message_outcome

D, F, U, S = (
    PartStatus("delivered"),
    PartStatus("delivery_failed", "40008"),
    PartStatus("delivery_unconfirmed"),
    (PartStatus("sent")),
)
NONE = PartStatus(None)


def test_delivered_only_when_every_part_is():
    assert message_outcome([D, NONE, D]) is None
    assert message_outcome([D, S, D]) is None
    assert message_outcome([D, D, D]).status == "delivered"


def test_one_failed_part_fails_the_message_even_while_others_wait():
    assert message_outcome([NONE, F, NONE]) == F
    assert message_outcome([PartStatus("expired")]).status == "expired"


def test_unconfirmed_when_all_parts_are_final_and_one_is_unknown():
    assert message_outcome([D, U]).status == "delivery_unconfirmed"


def test_a_final_part_status_is_never_replaced():
    for first, later in itertools.product([D, F, U], [D, F, U, S, NONE]):
        assert merge(first, later) == first


def test_intermediate_receipt_does_not_hide_a_missing_final_one():
    assert merge(NONE, S) == S
    assert merge(S, D) == D


def test_order_of_receipts_does_not_change_the_outcome():
    receipts = [(0, D), (1, D), (2, S), (2, D)]
    outcomes = set()
    for order in itertools.permutations(receipts):
        parts = [NONE, NONE, NONE]
        for index, status in order:
            parts[index] = merge(parts[index], status)
        outcomes.add(message_outcome(parts))
    assert outcomes == {D}

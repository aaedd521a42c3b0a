"""Record ids: UUID v4 strings (spec README §9) that sort by creation time."""

import time
import uuid

from heliograph.domain.ids import is_uuid, new_uuid


def test_ids_are_version_4_uuids_with_the_rfc_variant() -> None:
    for value in (new_uuid() for _ in range(1000)):
        parsed = uuid.UUID(value)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == value and is_uuid(value)


def test_ids_are_unique_even_within_one_millisecond() -> None:
    values = [new_uuid() for _ in range(50_000)]
    assert len(set(values)) == len(values)


def test_a_later_id_sorts_after_an_earlier_one() -> None:
    earlier = new_uuid()
    time.sleep(0.002)
    later = new_uuid()
    assert earlier < later
    # the first 48 bits are the creation time in milliseconds
    assert abs((uuid.UUID(later).int >> 80) - time.time_ns() // 1_000_000) < 1000

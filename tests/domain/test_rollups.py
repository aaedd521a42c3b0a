from hypothesis import given
from hypothesis import strategies as st

from heliograph.domain.rollups import DAY, FIVE_MINUTES, HOUR, ceil_to, floor_to, segments

STEP = FIVE_MINUTES * 1_000_000


@given(st.integers(0, 200_000), st.integers(0, 20_000), st.sampled_from([FIVE_MINUTES, HOUR, DAY]))
def test_segments_cover_the_range_exactly_with_aligned_buckets(start_steps, length_steps, max_width):
    lo, hi = start_steps * STEP, (start_steps + length_steps) * STEP
    segs = segments(lo, hi, max_width)
    cursor = lo
    for width, a, b in segs:
        assert a == cursor and a < b  # contiguous, no overlap, nothing empty
        assert width <= max_width
        assert floor_to(a, width) == a and floor_to(b, width) == b  # whole buckets only
        cursor = b
    assert cursor == hi or (lo == hi and segs == [])


def test_a_month_is_read_as_days_plus_short_edges():
    lo = ceil_to(1_800_000_123 * 1_000_000, FIVE_MINUTES)
    hi = lo + 30 * DAY * 1_000_000
    widths = [w for w, _, _ in segments(lo, hi)]
    assert widths.count(DAY) == 1
    rows = sum((b - a) // (w * 1_000_000) for w, a, b in segments(lo, hi))
    assert rows < 30 + 2 * 24 + 2 * 12  # days, then at most a day of hours and an hour of 5 minutes each side

import random

from heliograph.domain.retry import plan_next


def test_telnyx_schedule_three_attempts_per_url_then_failover():
    plans = [plan_next(n, 2, 3, 0, 0) for n in range(1, 6)]
    assert [(p.url_index, p.delay_seconds) for p in plans] == [(0, 1.0), (0, 2.0), (1, 0.0), (1, 1.0), (1, 2.0)]
    assert plan_next(6, 2, 3, 5, 0) is None  # retry_hours 0: Telnyx's six attempts only


def test_single_url_gives_up_after_three_without_tail():
    assert plan_next(3, 1, 3, 3, 0) is None


def test_long_tail_alternates_urls_with_growing_jittered_delays_until_window_ends():
    rng = random.Random(7)
    tail = [plan_next(n, 2, 3, 10, 24, rng) for n in range(6, 14)]
    assert [p.url_index for p in tail] == [0, 1, 0, 1, 0, 1, 0, 1]
    steps = [5.0, 5.0, 10.0, 10.0, 20.0, 20.0, 40.0, 40.0]
    for plan, step in zip(tail, steps, strict=True):
        assert 0.5 * step <= plan.delay_seconds <= 1.5 * step
    assert plan_next(20, 2, 3, 24 * 3600, 24, rng) is None


def test_tail_never_waits_past_the_window():
    plan = plan_next(40, 2, 3, 24 * 3600 - 3, 24, random.Random(1))
    assert plan is not None and plan.delay_seconds <= 3


def test_no_urls_means_nothing_to_plan():
    assert plan_next(1, 0, 3, 0, 24) is None

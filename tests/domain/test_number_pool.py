import random
from collections import Counter

from heliograph.domain.number_pool import PoolNumber, area_code, choose

LONG_312 = PoolNumber("+13125550100", "longcode")
LONG_415 = PoolNumber("+14155550100", "longcode")
TOLL_FREE = PoolNumber("+18885550100", "tollfree")
POOL = [LONG_312, LONG_415, TOLL_FREE]


def test_same_seed_same_choices():
    settings = {"long_code_weight": 1, "toll_free_weight": 1}
    first = [choose(POOL, settings, "+12125550123", None, random.Random(42)).phone_number for _ in range(1)]
    again = [choose(POOL, settings, "+12125550123", None, random.Random(42)).phone_number for _ in range(1)]
    assert first == again


def test_weights_are_ratios_between_types():
    rng = random.Random(1)
    settings = {"long_code_weight": 5, "toll_free_weight": 1}
    kinds = Counter(choose(POOL, settings, "+12125550123", None, rng).kind for _ in range(6000))
    assert 0.80 < kinds["longcode"] / 6000 < 0.87  # 5 of 6


def test_zero_weight_removes_a_type():
    settings = {"long_code_weight": 0, "toll_free_weight": 1}
    assert {choose(POOL, settings, "+12125550123", None, random.Random(i)).kind for i in range(50)} == {"tollfree"}


def test_geomatch_prefers_the_recipients_area_code():
    settings = {"long_code_weight": 1, "toll_free_weight": 0, "geomatch": True}
    picks = {choose(POOL, settings, "+14155550999", None, random.Random(i)).phone_number for i in range(50)}
    assert picks == {LONG_415.phone_number}


def test_geomatch_falls_back_to_any_number_of_the_type():
    settings = {"long_code_weight": 1, "toll_free_weight": 0, "geomatch": True}
    picks = {choose(POOL, settings, "+12125550999", None, random.Random(i)).phone_number for i in range(50)}
    assert picks == {LONG_312.phone_number, LONG_415.phone_number}


def test_sticky_sender_wins_while_usable():
    settings = {"long_code_weight": 1, "toll_free_weight": 1, "sticky_sender": True}
    assert choose(POOL, settings, "+1", TOLL_FREE.phone_number, random.Random(3)) == TOLL_FREE
    settings_no_tf = {**settings, "toll_free_weight": 0}
    assert choose(POOL, settings_no_tf, "+1", TOLL_FREE.phone_number, random.Random(3)).kind == "longcode"


def test_skip_unhealthy_drops_numbers_below_a_quarter_success():
    sick = PoolNumber("+13125550100", "longcode", success_ratio=0.1)
    settings = {"long_code_weight": 1, "toll_free_weight": 0, "skip_unhealthy": True}
    assert choose([sick, LONG_415], settings, "+1", None, random.Random(0)) == LONG_415
    assert choose([sick], settings, "+1", None, random.Random(0)) is None
    assert choose([sick], {**settings, "skip_unhealthy": False}, "+1", None, random.Random(0)) == sick


def test_area_code_only_for_nanp():
    assert area_code("+14155550100") == "415"
    assert area_code("+447700900123") is None

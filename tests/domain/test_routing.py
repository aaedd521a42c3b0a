"""Route choice: priority, then the longest prefix, then specificity; prefixes must be E.164."""

from __future__ import annotations

from heliograph.domain.routing import Route, choose, valid_prefix


def route(name, priority=0, prefixes=(), profile=None, type_=None, connectors=("c",)) -> Route:
    return Route(name, priority, tuple(prefixes), profile, type_, tuple(connectors))


def test_higher_priority_wins_over_a_longer_prefix():
    routes = [route("long", 0, ["+4477"]), route("prio", 1, ["+44"])]
    assert choose(routes, "+447700900000", None, "SMS").name == "prio"


def test_longest_prefix_wins_at_equal_priority_and_any_destination_is_last():
    routes = [route("any"), route("uk", prefixes=["+44"]), route("uk-mobile", prefixes=["+4477", "+4478"])]
    assert choose(routes, "+447700900000", None, "SMS").name == "uk-mobile"
    assert choose(routes, "+442070000000", None, "SMS").name == "uk"
    assert choose(routes, "+13125550100", None, "SMS").name == "any"


def test_profile_and_type_filters():
    routes = [route("mms", type_="MMS"), route("p1", profile="p1"), route("sms-only", type_="SMS", priority=-1)]
    assert choose(routes, "+1", "p1", "SMS").name == "p1"
    assert choose(routes, "+1", None, "MMS").name == "mms"
    assert choose(routes, "+1", "p2", "SMS").name == "sms-only"
    assert choose([route("p1", profile="p1")], "+1", "p2", "SMS") is None


def test_nothing_matches():
    assert choose([route("uk", prefixes=["+44"])], "+33612345678", None, "SMS") is None
    assert choose([], "+33612345678", None, "SMS") is None


def test_ties_break_by_name_whatever_the_order():
    a, b = route("a", prefixes=["+44"]), route("b", prefixes=["+44"])
    assert choose([a, b], "+44", None, "SMS").name == "a"
    assert choose([b, a], "+44", None, "SMS").name == "a"


def test_valid_prefixes():
    assert valid_prefix("+44") and valid_prefix("+1312")
    assert not any(valid_prefix(p) for p in ("44", "+", "+44a", "+1234567890123456"))

"""Page-number pagination of every list endpoint, walked with the official SDK's auto-paginating
iterator in strict mode (spec README §3–§4).

For each endpoint the test makes more rows than three pages hold, then checks that the walk yields
every row exactly once in a stable order, that each page's `meta` is right, that a page beyond the
end is empty with correct `meta`, and that rows created between pages cause neither duplicates nor
gaps among the rows that existed before.

Everything runs on a server of its own (so the URL shortener domains can be configured and whole
collections are known), with filters isolating each collection where the endpoint has one.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
import telnyx
from contract_support import assert_error, new_handset, new_long_code, unique_name
from support import Server, WebhookReceiver, eventually

PAGE = 2
COUNT = 7  # more than three pages of PAGE hold
EXTRA_DOMAINS = [f"links{i}.example.test" for i in range(COUNT)]
_rng = random.SystemRandom()
_codes: set[str] = set()


def _short_code() -> str:
    while True:
        code = str(_rng.randint(10_000, 99_999))  # 5 digits: distinct from the 6-digit codes elsewhere
        if code not in _codes:
            _codes.add(code)
            return code


@pytest.fixture(scope="module")
def pager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(
        tmp_path_factory.mktemp("pagination"),
        env={
            "HELIOGRAPH_URL_SHORTENER_DOMAINS": ",".join(EXTRA_DOMAINS),
            "HELIOGRAPH_SIMULATOR_DLR_DELAY_MS": "50",
            "HELIOGRAPH_MPS_LONG_CODE": "1000",
        },
    ).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


@dataclass
class Group:
    """Rows of one kind, the keys expected in a listing of them, and how to add one more."""

    keys: list[Hashable]
    grow: Callable[[], list[Hashable]] | None
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    group: str
    lister: Callable[[telnyx.Telnyx, dict[str, Any]], Callable[..., Any]]
    key: Callable[[Any], Hashable] = lambda item: item.id
    grow_after_pages: int = 2  # rows added between pages in the growth test (CLI-made rows: 1)


class Registry:
    """Builds each group once per module, on first use."""

    def __init__(self, server: Server, receiver: WebhookReceiver) -> None:
        self.server = server
        self.sdk = server.client(strict=True)
        self.receiver = receiver
        self.groups: dict[str, Group] = {}

    def get(self, name: str) -> Group:
        if name not in self.groups:
            self.groups[name] = getattr(self, f"_build_{name}")()
        return self.groups[name]

    def _profile(self, **fields: Any) -> str:
        profile = self.sdk.messaging_profiles.create(
            name=fields.pop("name", unique_name("page")), whitelisted_destinations=["*"], **fields
        ).data
        assert profile is not None and profile.id is not None
        return profile.id

    def _cli_add(self, numbers: list[str], *flags: str) -> list[str]:
        def add(number: str) -> str:
            return self.server.cli_json("numbers", "add", number, *flags)["id"]

        with ThreadPoolExecutor(min(len(numbers), 8)) as pool:
            return list(pool.map(add, numbers))

    # --- builders ------------------------------------------------------------------------------

    def _build_profiles(self) -> Group:
        prefix = unique_name("paged")

        def grow() -> list[Hashable]:
            return [self._profile(name=f"{prefix}-{unique_name('grown')}")]

        keys = [self._profile(name=f"{prefix}-{i}") for i in range(COUNT)]
        return Group(keys, grow, {"prefix": prefix})

    def _build_numbers(self) -> Group:
        profile_id = self._profile()

        def order(count: int) -> list[Hashable]:
            numbers = [new_long_code() for _ in range(count)]
            self.sdk.number_orders.create(
                phone_numbers=[{"phone_number": n} for n in numbers], messaging_profile_id=profile_id
            )
            by_number = {
                n.phone_number: n.id
                for n in self.sdk.phone_numbers.messaging.list(filter_phone_number=",".join(numbers))
            }
            assert set(by_number) == set(numbers)
            return [by_number[n] for n in numbers]

        return Group(order(COUNT), lambda: order(1), {"profile_id": profile_id})

    def _build_short_codes(self) -> Group:
        profile_id = self._profile()

        def add(count: int) -> list[Hashable]:
            return self._cli_add([_short_code() for _ in range(count)], "--type", "short-code", "--profile", profile_id)

        return Group(add(COUNT), lambda: add(1), {"profile_id": profile_id})

    def _build_hosted(self) -> Group:
        profile_id = self._profile()

        def add(count: int) -> list[Hashable]:
            return self._cli_add([new_long_code() for _ in range(count)], "--hosted", "--profile", profile_id)

        return Group(add(COUNT), lambda: add(1), {"profile_id": profile_id})

    def _build_alphanumeric(self) -> Group:
        profile_id = self._profile()
        names = iter(f"Paged{i:02d}" for i in range(100))

        def create() -> list[Hashable]:
            created = self.sdk.alphanumeric_sender_ids.create(
                alphanumeric_sender_id=next(names), messaging_profile_id=profile_id
            ).data
            assert created is not None
            return [created.id]

        keys = [k for _ in range(COUNT) for k in create()]
        return Group(keys, create, {"profile_id": profile_id})

    def _build_optouts(self) -> Group:
        profile_id = self._profile()
        number = new_long_code()
        self.sdk.number_orders.create(phone_numbers=[{"phone_number": number}], messaging_profile_id=profile_id)
        http = self.server.http()

        def stop() -> list[Hashable]:
            handset = new_handset()
            answer = http.post("/sandbox/v1/inbound", json={"from": handset, "to": number, "text": "STOP"})
            assert answer.status_code == 200, answer.text
            return [(profile_id, number, handset)]

        keys = [k for _ in range(COUNT) for k in stop()]
        return Group(keys, stop, {"profile_id": profile_id})

    def _build_orders(self) -> Group:
        reference = unique_name("ref")

        def order() -> list[Hashable]:
            created = self.sdk.number_orders.create(
                phone_numbers=[{"phone_number": new_long_code()}], customer_reference=reference
            ).data
            assert created is not None
            return [created.id]

        keys = [k for _ in range(COUNT) for k in order()]
        return Group(keys, order, {"reference": reference})

    def _build_deliveries(self) -> Group:
        profile_id = self._profile(webhook_url=self.receiver.url("/paged"))
        number = new_long_code()
        self.sdk.number_orders.create(phone_numbers=[{"phone_number": number}], messaging_profile_id=profile_id)

        def delivered_ids() -> list[str]:
            listed = self.sdk.webhook_deliveries.list(filter={"webhook": {"contains": profile_id}}, page_size=250)
            return [d.id for d in listed if d.status == "delivered"]

        def send(count: int) -> list[Hashable]:
            before = set(delivered_ids())
            for i in range(count):
                self.sdk.messages.send(from_=number, to=new_handset(), text=f"paged {i}")
            # message.sent + message.finalized per message
            after = eventually(
                lambda: (ids := delivered_ids()) and len(ids) == len(before) + 2 * count and ids,
                timeout=30,
                message="webhooks were not delivered",
            )
            return [i for i in after if i not in before]

        return Group(send(4), lambda: send(1), {"profile_id": profile_id})

    def _build_domains(self) -> Group:
        own = self.server.url.removeprefix("http://")
        return Group([own, *EXTRA_DOMAINS], None)


CASES: dict[str, Case] = {
    "messaging_profiles.list": Case(
        "profiles",
        lambda sdk, c: lambda **kw: sdk.messaging_profiles.list(filter_name_contains=c["prefix"], **kw),
    ),
    "messaging_profiles.list_phone_numbers": Case(
        "numbers",
        lambda sdk, c: lambda **kw: sdk.messaging_profiles.list_phone_numbers(c["profile_id"], **kw),
    ),
    "messaging_profiles.list_short_codes": Case(
        "short_codes",
        lambda sdk, c: lambda **kw: sdk.messaging_profiles.list_short_codes(c["profile_id"], **kw),
        grow_after_pages=1,
    ),
    "messaging_profiles.list_alphanumeric_sender_ids": Case(
        "alphanumeric",
        lambda sdk, c: lambda **kw: sdk.messaging_profiles.list_alphanumeric_sender_ids(c["profile_id"], **kw),
    ),
    "alphanumeric_sender_ids.list": Case(
        "alphanumeric",
        lambda sdk, c: lambda **kw: sdk.alphanumeric_sender_ids.list(filter_messaging_profile_id=c["profile_id"], **kw),
    ),
    "phone_numbers.messaging.list": Case(
        "numbers",
        lambda sdk, c: lambda **kw: sdk.phone_numbers.messaging.list(filter_messaging_profile_id=c["profile_id"], **kw),
    ),
    "messaging_hosted_numbers.list": Case(
        "hosted",
        lambda sdk, c: (
            lambda **kw: sdk.messaging_hosted_numbers.list(filter_messaging_profile_id=c["profile_id"], **kw)
        ),
        grow_after_pages=1,
    ),
    "short_codes.list": Case(
        "short_codes",
        lambda sdk, c: lambda **kw: sdk.short_codes.list(filter={"messaging_profile_id": c["profile_id"]}, **kw),
        grow_after_pages=1,
    ),
    "messaging_optouts.list": Case(
        "optouts",
        lambda sdk, c: lambda **kw: sdk.messaging_optouts.list(filter={"messaging_profile_id": c["profile_id"]}, **kw),
        key=lambda item: (item.messaging_profile_id, item.from_, item.to),
    ),
    "number_orders.list": Case(
        "orders",
        lambda sdk, c: lambda **kw: sdk.number_orders.list(filter={"customer_reference": c["reference"]}, **kw),
    ),
    "webhook_deliveries.list": Case(
        "deliveries",
        lambda sdk, c: (
            lambda **kw: sdk.webhook_deliveries.list(filter={"webhook": {"contains": c["profile_id"]}}, **kw)
        ),
    ),
    "messaging_url_domains.list": Case(
        "domains",
        lambda sdk, c: lambda **kw: sdk.messaging_url_domains.list(**kw),
        key=lambda item: item.url_domain,
    ),
}
GROWABLE = [name for name, case in CASES.items() if case.group != "domains"]


@pytest.fixture(scope="module")
def registry(pager: Server, receiver: WebhookReceiver) -> Registry:
    return Registry(pager, receiver)


def _lister(registry: Registry, case: Case) -> tuple[Group, Callable[..., Any]]:
    group = registry.get(case.group)
    return group, case.lister(registry.sdk, group.context)


def _meta(page: Any) -> dict[str, Any]:
    assert page.meta is not None
    meta = page.meta.model_dump()
    return {k: meta.get(k) for k in ("page_number", "page_size", "total_pages", "total_results")}


@pytest.mark.parametrize("endpoint", list(CASES))
def test_walk_yields_every_item_once_in_a_stable_order(registry: Registry, endpoint: str) -> None:
    case = CASES[endpoint]
    group, lister = _lister(registry, case)
    expected = list(group.keys)
    total = len(expected)
    pages = math.ceil(total / PAGE)
    assert total > 3 * PAGE

    walked = [case.key(item) for item in lister(page_size=PAGE)]

    assert len(walked) == total, walked
    assert len(set(walked)) == total, "an item came twice"
    assert set(walked) == set(expected)

    by_page: list[Hashable] = []
    for number in range(1, pages + 1):
        page = lister(page_size=PAGE, page_number=number)
        assert _meta(page) == {
            "page_number": number,
            "page_size": PAGE,
            "total_pages": pages,
            "total_results": total,
        }
        assert len(page.data) == (PAGE if number < pages else total - PAGE * (pages - 1))
        assert page.has_next_page() == (number < pages)
        by_page += [case.key(item) for item in page.data]
    assert by_page == walked
    assert [case.key(item) for item in lister(page_size=PAGE)] == walked  # same order every time


@pytest.mark.parametrize("endpoint", list(CASES))
def test_page_beyond_the_end_is_empty_with_meta(registry: Registry, endpoint: str) -> None:
    case = CASES[endpoint]
    group, lister = _lister(registry, case)
    total = len(group.keys)
    pages = math.ceil(total / PAGE)

    for number in (pages + 1, pages + 50):
        page = lister(page_size=PAGE, page_number=number)

        assert page.data == []
        assert _meta(page) == {
            "page_number": number,
            "page_size": PAGE,
            "total_pages": pages,
            "total_results": total,
        }
        assert not page.has_next_page()
        assert list(page) == []


@pytest.mark.parametrize("endpoint", list(CASES))
def test_default_page_size_returns_everything_on_one_page(registry: Registry, endpoint: str) -> None:
    case = CASES[endpoint]
    group, lister = _lister(registry, case)
    total = len(group.keys)

    page = lister()

    assert _meta(page) == {"page_number": 1, "page_size": 20, "total_pages": 1, "total_results": total}
    assert sorted(map(repr, (case.key(i) for i in page.data))) == sorted(map(repr, group.keys))


@pytest.mark.parametrize("endpoint", GROWABLE)
def test_rows_created_between_pages_cause_no_duplicates_or_gaps(registry: Registry, endpoint: str) -> None:
    case = CASES[endpoint]
    group, lister = _lister(registry, case)
    assert group.grow is not None
    before = list(group.keys)
    seen: list[Hashable] = []
    grown: list[Hashable] = []

    for number, page in enumerate(lister(page_size=PAGE).iter_pages(), start=1):
        seen += [case.key(item) for item in page.data]
        if number <= case.grow_after_pages:
            new = group.grow()
            grown += new
            group.keys += new

    assert len(seen) == len(set(seen)), f"duplicates: {[k for k in seen if seen.count(k) > 1]}"
    assert not set(before) - set(seen), f"gaps: {set(before) - set(seen)}"
    assert set(seen) <= set(before) | set(grown)
    assert grown and len(group.keys) == len(before) + len(grown)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"page_size": 251}, "page[size]"),
        ({"page_size": 0}, "page[size]"),
        ({"page_number": 0}, "page[number]"),
    ],
)
@pytest.mark.parametrize("endpoint", list(CASES))
def test_page_parameters_out_of_range_are_refused(
    registry: Registry, endpoint: str, params: dict[str, int], parameter: str
) -> None:
    _, lister = _lister(registry, CASES[endpoint])

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        lister(**params)

    assert_error(caught.value, status=422, code="10033", parameter=parameter)


@pytest.mark.parametrize("endpoint", list(CASES))
def test_largest_page_size_is_accepted(registry: Registry, endpoint: str) -> None:
    case = CASES[endpoint]
    group, lister = _lister(registry, case)

    page = lister(page_size=250)

    assert _meta(page) == {
        "page_number": 1,
        "page_size": 250,
        "total_pages": 1,
        "total_results": len(group.keys),
    }


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("endpoint", ["phone_numbers.messaging.list", "messaging_hosted_numbers.list"])
def test_sorted_walk_is_sorted_and_complete(registry: Registry, endpoint: str, direction: str) -> None:
    case = CASES[endpoint]
    group, lister = _lister(registry, case)

    walked = list(lister(page_size=PAGE, sort_phone_number=direction))

    numbers = [item.phone_number for item in walked]
    assert numbers == sorted(numbers, reverse=direction == "desc")
    assert len({item.id for item in walked}) == len(walked) == len(group.keys)
    assert {item.id for item in walked} == set(group.keys)

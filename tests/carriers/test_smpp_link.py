"""The SMPP connector against an independent SMSC (the npm `smpp` package's server, tests/smsc/smsc.mjs).

No Heliograph server: the connector's sinks record what it reports, and the SMSC's log shows what
actually went over the wire. Every test binds with an account of its own, so receipts one test left
owed at the SMSC never reach another.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from smsc_support import ESME_RINVDSTADR, ESME_RMSGQFUL, ESME_RTHROTTLED, ESME_RX_T_APPN, TestSmsc

from heliograph.carriers.base import CarrierInbound, CarrierReceipt, Sinks, Submission
from heliograph.carriers.smpp import SmppConfig, SmppConnector
from heliograph.clock import SystemClock
from heliograph.domain.encoding import encode_text, split_parts

_accounts = itertools.count(1)


class RecordingSinks:
    """Sinks that record what they are given; `fail_next` makes the next N calls raise (a failed commit)."""

    def __init__(self) -> None:
        self.receipts: list[CarrierReceipt] = []
        self.inbound: list[CarrierInbound] = []
        self.fail_next = 0
        self.failures = 0

    def _maybe_fail(self) -> None:
        if self.fail_next:
            self.fail_next -= 1
            self.failures += 1
            raise RuntimeError("database unavailable (test)")

    async def _reports(self, items: list) -> None:
        raise AssertionError("an SMPP link reports receipts by carrier id, never DeliveryReports")

    async def _receipts(self, items: list[CarrierReceipt]) -> None:
        self._maybe_fail()
        self.receipts.extend(items)

    async def _inbound(self, items: list[CarrierInbound]) -> None:
        self._maybe_fail()
        self.inbound.extend(items)

    def sinks(self) -> Sinks:
        return Sinks(self._reports, self._receipts, self._inbound)

    def receipt_for(self, carrier_id: str, status: str | None = None) -> CarrierReceipt | None:
        for receipt in self.receipts:
            if receipt.carrier_message_id == carrier_id and (status is None or receipt.status == status):
                return receipt
        return None


async def until(check: Callable[[], Any], timeout: float = 15.0, message: str = "") -> Any:
    """Poll without blocking the event loop the connector runs on."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(message or f"condition not met within {timeout}s (last value: {last!r})")


def sms(
    text: str, to: str = "+447700900001", sender: str = "+13125550100", message_id: str | None = None
) -> Submission:
    encoded = encode_text(text)
    return Submission(
        message_id=message_id or f"msg-{next(_accounts)}",
        organization_id="org",
        from_number=sender,
        to_number=to,
        text=encoded.transmitted,
        subject=None,
        media_urls=(),
        message_type="SMS",
        encoding=encoded.encoding,
        parts=encoded.parts,
    )


@pytest.fixture(scope="module")
def smsc() -> Iterator[TestSmsc]:
    with TestSmsc() as running:
        yield running


@pytest.fixture
def account(smsc: TestSmsc) -> tuple[str, str]:
    smsc.reset()
    system_id = f"hg{next(_accounts)}"
    smsc.add_account(system_id, "pw1")
    return system_id, "pw1"


class Link:
    def __init__(self, smsc: TestSmsc, account: tuple[str, str]) -> None:
        self.smsc = smsc
        self.system_id, self.password = account
        self.recorder = RecordingSinks()
        self.connectors: list[SmppConnector] = []

    async def open(self, **overrides: Any) -> SmppConnector:
        config = self.smsc.connector_config(self.system_id, overrides.pop("password", self.password), **overrides)
        connector = SmppConnector(f"smsc-{self.system_id}", SmppConfig(**config), SystemClock())
        self.connectors.append(connector)
        await connector.open(self.recorder.sinks())
        return connector

    async def open_up(self, **overrides: Any) -> SmppConnector:
        connector = await self.open(**overrides)
        await until(lambda: connector.link_state().state == "up", message="the link never came up")
        return connector

    def my_submits(self) -> list[dict]:
        return [s for s in self.smsc.submits() if s["system_id"] == self.system_id]


@pytest.fixture
async def link(smsc: TestSmsc, account: tuple[str, str]):
    link = Link(smsc, account)
    yield link
    for connector in link.connectors:
        await connector.close()


# --------------------------------------------------------------------------------------------
# Binds
# --------------------------------------------------------------------------------------------


async def test_binds_come_up_and_keep_alive(link: Link) -> None:
    connector = await link.open_up(binds=2, enquire_link_seconds=0.2)
    state = connector.link_state()
    assert (state.state, state.last_error, state.in_flight) == ("up", None, 0)
    assert state.since_us > 0
    await until(lambda: link.smsc.bound().count(link.system_id) == 2, message="two binds expected")
    await until(lambda: link.smsc.log()["enquire_links"] >= 2, message="no enquire_link reached the SMSC")
    assert connector.link_state().state == "up"


@pytest.mark.parametrize("bare", [True, False], ids=["bare-header", "with-body"])
async def test_refused_bind_is_down_with_the_status_and_retried_without_a_tight_loop(link: Link, bare: bool) -> None:
    link.smsc.configure(bare_bind_refusal=bare)
    connector = await link.open(password="wrong")
    state = await until(lambda: connector.link_state().state == "down" and connector.link_state())
    assert "ESME_RBINDFAIL (0x0D)" in (state.last_error or "")
    # the secret never leaks into what operators see
    assert "wrong" not in state.last_error

    def attempts() -> list[dict]:
        return [b for b in link.smsc.binds() if b["system_id"] == link.system_id]

    tries = await until(lambda: len(attempts()) >= 2 and attempts(), message="the bind was not retried")
    assert not any(t["ok"] for t in tries)
    gap_ms = tries[1]["at"] - tries[0]["at"]
    assert gap_ms >= 400, f"retried after {gap_ms} ms: a tight loop"
    result = (await connector.submit([sms("hello")]))[0]
    assert (result.accepted, result.retryable) == (False, True)
    assert link.my_submits() == []


async def test_tls(tmp_path) -> None:
    with TestSmsc(accounts={"tls": "pw"}, tls_dir=tmp_path) as smsc:
        link = Link(smsc, ("tls", "pw"))
        try:
            connector = await link.open_up(tls=True, tls_verify=False)
            result = (await connector.submit([sms("over TLS")]))[0]
            assert result.accepted, result
            assert [s["text"] for s in link.my_submits()] == ["over TLS"]
        finally:
            for connector in link.connectors:
                await connector.close()


# --------------------------------------------------------------------------------------------
# Submitting
# --------------------------------------------------------------------------------------------


async def test_one_part_ucs2_on_the_wire(link: Link) -> None:
    connector = await link.open_up()
    text = "Привет, мир! 👋"
    result = (await connector.submit([sms(text)]))[0]
    assert result.accepted, result
    [submit] = link.my_submits()
    assert (submit["data_coding"], submit["esm_class"], submit["udh"]) == (8, 0, None)
    assert submit["text"] == text
    assert (submit["source_addr"], submit["source_addr_ton"], submit["source_addr_npi"]) == ("13125550100", 1, 1)
    assert (submit["destination_addr"], submit["dest_addr_ton"], submit["dest_addr_npi"]) == ("447700900001", 1, 1)
    assert submit["registered_delivery"] == 1
    assert result.carrier_part_ids == (submit["message_id"],)
    assert result.carrier_message_id == submit["message_id"]


async def test_three_part_ucs2_is_concatenated_with_one_reference_per_message(link: Link) -> None:
    connector = await link.open_up()
    first, second = "Длинное сообщение номер один. " * 6, "Второе длинное сообщение здесь. " * 6
    subs = [sms(first), sms(second)]
    assert [s.parts for s in subs] == [3, 3]
    results = await connector.submit(subs)
    assert all(r.accepted for r in results), results
    submits = link.my_submits()
    assert len(submits) == 6
    for sub, result in zip(subs, results, strict=True):
        mine = [s for s in submits if s["message_id"] in result.carrier_part_ids]
        mine.sort(key=lambda s: result.carrier_part_ids.index(s["message_id"]))
        assert [s["message_id"] for s in mine] == list(result.carrier_part_ids)
        assert {(s["data_coding"], s["esm_class"]) for s in mine} == {(8, 0x40)}
        udhs = [bytes.fromhex(s["udh"]) for s in mine]
        assert [u[:3] for u in udhs] == [b"\x05\x00\x03"] * 3
        assert [(u[4], u[5]) for u in udhs] == [(3, 1), (3, 2), (3, 3)]
        assert len({u[3] for u in udhs}) == 1  # one reference for the whole message
        assert [s["text"] for s in mine] == split_parts(sub.text, "UCS-2")
    refs = {bytes.fromhex(s["udh"])[3] for s in submits}
    assert len(refs) == 2  # two messages in flight at once never share a reference


async def test_gsm7_goes_as_the_default_alphabet_and_alphanumeric_senders_as_5_0(link: Link) -> None:
    connector = await link.open_up()
    result = (await connector.submit([sms("Price: 5€ [promo] @home", sender="ACME")]))[0]
    assert result.accepted, result
    [submit] = link.my_submits()
    assert (submit["data_coding"], submit["text"]) == (0, "Price: 5€ [promo] @home")
    assert (submit["source_addr"], submit["source_addr_ton"], submit["source_addr_npi"]) == ("ACME", 5, 0)


async def test_ton_npi_overrides(link: Link) -> None:
    connector = await link.open_up(source_ton=0, source_npi=1, dest_ton=2, dest_npi=1)
    assert (await connector.submit([sms("hi")]))[0].accepted
    [submit] = link.my_submits()
    assert (submit["source_addr_ton"], submit["source_addr_npi"]) == (0, 1)
    assert (submit["dest_addr_ton"], submit["dest_addr_npi"]) == (2, 1)


async def test_mps_paces_submits(link: Link) -> None:
    connector = await link.open_up(mps=20, binds=2)
    results = await connector.submit([sms(f"paced {n}") for n in range(11)])
    assert all(r.accepted for r in results)
    times = sorted(s["at"] for s in link.my_submits())
    assert times[-1] - times[0] >= 400  # 10 intervals of 50 ms, whatever the binds


def test_config_refuses_what_smpp_cannot_carry() -> None:
    base = {"host": "h", "port": 2775, "system_id": "hg", "password": "pw"}
    SmppConfig(**base)
    for bad in ({"password": "123456789"}, {"system_id": "x" * 16}, {"binds": 0}, {"mps": 0}, {"source_ton": 256}):
        with pytest.raises(ValueError):
            SmppConfig(**{**base, **bad})
    assert "pw" not in repr(SmppConfig(**base))


async def test_a_refused_submit_names_the_smpp_status(link: Link) -> None:
    connector = await link.open_up()
    link.smsc.refuse_submits("+447700900666", ESME_RINVDSTADR)
    result = (await connector.submit([sms("hi", to="+447700900666")]))[0]
    assert (result.accepted, result.retryable, result.error_code) == (False, False, "40012")
    assert "ESME_RINVDSTADR (0x0B)" in result.error_detail


@pytest.mark.parametrize("status", [ESME_RTHROTTLED, ESME_RMSGQFUL], ids=["RTHROTTLED", "RMSGQFUL"])
async def test_throttling_is_absorbed(link: Link, status: int) -> None:
    connector = await link.open_up()
    link.smsc.throttle(2, status)
    result = (await connector.submit([sms("through the throttle")]))[0]
    assert result.accepted, result
    statuses = [s["command_status"] for s in link.my_submits()]
    assert statuses[0] == status and statuses[-1] == 0


async def test_throttling_past_patience_is_retryable(link: Link) -> None:
    connector = await link.open_up(throttle_patience_seconds=0.5)
    link.smsc.throttle(30)
    result = (await connector.submit([sms("hi")]))[0]
    assert (result.accepted, result.retryable) == (False, True)
    assert "ESME_RTHROTTLED" in result.error_detail


async def test_no_submit_sm_resp_is_retryable_and_counted_as_a_possible_duplicate(link: Link) -> None:
    connector = await link.open_up(submit_timeout_seconds=0.5)
    link.smsc.configure(mute_submit_resp=True)
    result = (await connector.submit([sms("hi")]))[0]
    assert (result.accepted, result.retryable) == (False, True)
    assert connector.possible_duplicates == 1


async def test_dropped_connection_mid_traffic_reconnects_and_nothing_is_stuck(link: Link) -> None:
    connector = await link.open_up(window=5)
    link.smsc.configure(mute_submit_resp=True)  # the SMSC takes the submits but answers none
    pending = asyncio.create_task(connector.submit([sms(f"message {n}") for n in range(8)]))
    await until(lambda: len(link.my_submits()) >= 5, message="the window was not filled")
    assert connector.link_state().in_flight == 5  # the window holds the other three back
    link.smsc.drop()
    results = await asyncio.wait_for(pending, 15)
    assert all(r.retryable and not r.accepted for r in results), results
    assert connector.possible_duplicates == 5  # only those that went over the wire
    link.smsc.configure(mute_submit_resp=False)
    await until(lambda: connector.link_state().state == "up", message="no reconnect")
    again = await connector.submit([sms(f"again {n}") for n in range(8)])
    assert all(r.accepted for r in again), again
    assert connector.link_state().in_flight == 0


async def test_an_smsc_that_goes_away_and_comes_back(link: Link) -> None:
    connector = await link.open_up(binds=2, reconnect_max_seconds=2)
    link.smsc.stop_listening()
    state = await until(lambda: connector.link_state().state == "down" and connector.link_state())
    assert "connect/bind failed" in state.last_error
    result = (await connector.submit([sms("while down")]))[0]
    assert (result.accepted, result.retryable) == (False, True)
    link.smsc.start_listening()
    await until(lambda: connector.link_state().state == "up", message="no reconnect after the SMSC came back")
    await until(lambda: link.smsc.bound().count(link.system_id) == 2, message="both binds should come back")
    assert (await connector.submit([sms("after")]))[0].accepted


# --------------------------------------------------------------------------------------------
# Receipts
# --------------------------------------------------------------------------------------------


async def test_receipts_delivered_and_undeliverable_reach_the_sink(link: Link) -> None:
    connector = await link.open_up()
    link.smsc.set_undeliverable("+447700900002")
    good, bad = await connector.submit([sms("hi", to="+447700900001"), sms("hi", to="+447700900002")])
    await until(lambda: link.recorder.receipt_for(good.carrier_message_id), message="no DELIVRD receipt")
    await until(lambda: link.recorder.receipt_for(bad.carrier_message_id), message="no UNDELIV receipt")
    delivered = link.recorder.receipt_for(good.carrier_message_id)
    failed = link.recorder.receipt_for(bad.carrier_message_id)
    assert (delivered.connector, delivered.status, delivered.error_code) == (connector.name, "delivered", None)
    assert (failed.status, failed.error_code) == ("delivery_failed", "40008")
    assert "UNDELIV" in failed.error_detail


async def test_every_part_gets_its_receipt_enroute_first_and_duplicates_pass_through(link: Link) -> None:
    connector = await link.open_up()
    link.smsc.configure(enroute_first=True, duplicate=True, shuffle=True)
    result = (await connector.submit([sms("Длинное сообщение номер один. " * 6)]))[0]
    assert len(result.carrier_part_ids) == 3
    for part_id in result.carrier_part_ids:
        await until(lambda part_id=part_id: link.recorder.receipt_for(part_id, "delivered"), message=part_id)
        assert link.recorder.receipt_for(part_id, "sent")  # ENROUTE: intermediate


async def test_receipts_owed_while_unbound_arrive_on_the_next_bind(link: Link) -> None:
    first = await link.open_up()
    link.smsc.configure(receipt_delay_ms=1500)
    result = (await first.submit([sms("hi")]))[0]
    await first.close()  # gone before the receipt is due (as after a SIGKILL)
    assert link.recorder.receipts == []
    await until(lambda: link.smsc.state()["owed_receipts"] >= 1)
    await link.open_up()
    await until(lambda: link.recorder.receipt_for(result.carrier_message_id), message="the owed receipt never came")


async def test_a_failing_sink_is_not_acknowledged_and_the_smsc_redelivers(link: Link) -> None:
    connector = await link.open_up()
    link.recorder.fail_next = 1
    result = (await connector.submit([sms("hi")]))[0]
    carrier_id = result.carrier_message_id
    await until(lambda: link.recorder.receipt_for(carrier_id), message="the receipt was not redelivered")
    resps = [r["command_status"] for r in link.smsc.deliver_sm_resps() if r["message_id"] == carrier_id]
    assert resps == [ESME_RX_T_APPN, 0]
    assert link.recorder.failures == 1


# --------------------------------------------------------------------------------------------
# Inbound (MO)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("coding", "concat"),
    [("ucs2", "udh"), ("gsm7", "udh"), ("gsm7", "udh16"), ("ucs2", "sar")],
)
async def test_a_three_part_mo_is_reassembled(link: Link, coding: str, concat: str) -> None:
    await link.open_up()
    text = ("Ответ из трёх частей, " if coding == "ucs2" else "A reply in three parts, ") * 8
    mo_id = link.smsc.inject_mo(
        "+447700900001", "+13125550100", text, coding=coding, parts=3, concat=concat, order=[2, 3, 1]
    )
    await until(lambda: link.recorder.inbound, message="the MO never reached the sink")
    [inbound] = link.recorder.inbound
    assert (inbound.from_number, inbound.to_number, inbound.text) == ("+447700900001", "+13125550100", text)
    resps = [r["command_status"] for r in link.smsc.deliver_sm_resps() if r["mo_id"] == mo_id]
    assert resps == [0, 0, 0]


async def test_a_failed_mo_commit_is_redelivered_and_lands_once(link: Link) -> None:
    await link.open_up()
    link.recorder.fail_next = 1
    mo_id = link.smsc.inject_mo("+447700900001", "+13125550100", "STOP")
    await until(lambda: link.recorder.inbound, message="the MO was not redelivered")
    assert [i.text for i in link.recorder.inbound] == ["STOP"]
    resps = [r["command_status"] for r in link.smsc.deliver_sm_resps() if r["mo_id"] == mo_id]
    assert resps == [ESME_RX_T_APPN, 0]

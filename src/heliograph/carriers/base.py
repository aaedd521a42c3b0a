"""The carrier interface. Services speak only these types; `bootstrap.py` picks the implementation.

A carrier takes submissions and, later, reports what happened to them through the callback it was
started with. Reports may arrive in any order and more than once; services ignore stale ones.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Submission:
    message_id: str
    organization_id: str
    from_number: str
    to_number: str
    text: str | None  # exactly what the handset should get (after smart encoding / link rewriting)
    subject: str | None
    media_urls: tuple[str, ...]
    message_type: str  # SMS | MMS | WHATSAPP
    encoding: str  # GSM-7 | UCS-2
    parts: int
    sent_at_us: int | None = None  # set when re-arming after a restart


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """What the carrier said about one submission.

    accepted: every part was taken (SMPP: every part's submit_sm_resp was OK).
    retryable: not taken, but another connector or a later try may succeed (link down, throttled past
      patience, no response in time); the message goes to the next connector of its route or back to
      the queue. A refusal that is not retryable ends the message `sending_failed` with `error_code`.
    carrier_part_ids: the carrier's id of each part, in part order; receipts are matched against
      them (stored, never only kept in memory).
    """

    message_id: str
    accepted: bool
    carrier_message_id: str | None = None
    error_code: str | None = None  # a 400xx code when refused
    error_detail: str | None = None
    retryable: bool = False
    carrier_part_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HandsetCopy:
    """What a virtual handset received (simulator only)."""

    handset: str
    from_number: str
    text: str | None
    subject: str | None
    media_urls: tuple[str, ...]
    encoding: str
    parts: int


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    message_id: str
    status: str  # delivered | delivery_failed | delivery_unconfirmed | expired
    at_us: int
    error_code: str | None = None
    error_detail: str | None = None
    handset_copy: HandsetCopy | None = field(default=None)


ReportSink = Callable[[list[DeliveryReport]], Awaitable[object]]  # what it returns is not used


@dataclass(frozen=True, slots=True)
class CarrierReceipt:
    """A receipt for one part, known only by the id the carrier gave it (SMPP deliver_sm, upstream
    webhook). Services match it to the stored part; duplicates and late ones are harmless.

    status: delivered | delivery_failed | expired | delivery_unconfirmed | sent (intermediate:
      ACCEPTD/ENROUTE, recorded but changes nothing)."""

    connector: str
    carrier_message_id: str
    status: str
    at_us: int
    error_code: str | None = None
    error_detail: str | None = None


@dataclass(frozen=True, slots=True)
class CarrierInbound:
    """A mobile-originated message, already reassembled and decoded by the link."""

    connector: str
    from_number: str
    to_number: str
    text: str | None
    at_us: int
    media_urls: tuple[str, ...] = ()
    carrier_message_id: str | None = None


ReceiptSink = Callable[[list[CarrierReceipt]], Awaitable[None]]
InboundSink = Callable[[list[CarrierInbound]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Sinks:
    """Where a carrier link reports back. Each call returns once what it was given is committed, so a
    link acknowledges to its peer (SMPP deliver_sm_resp) only after that; if a call raises, the link
    must not acknowledge (the peer redelivers)."""

    reports: ReportSink
    receipts: ReceiptSink
    inbound: InboundSink


@dataclass(frozen=True, slots=True)
class LinkState:
    state: str  # up | connecting | down
    since_us: int
    last_error: str | None = None
    in_flight: int = 0


class Carrier(Protocol):
    name: str

    async def start(self, on_reports: ReportSink) -> None:
        """Open links; from now on reports go to `on_reports`."""

    async def submit(self, submissions: Sequence[Submission]) -> list[SubmitResult]:
        """Hand messages to the carrier; one result per submission, in order."""

    async def resume(self, in_flight: Sequence[Submission]) -> None:
        """After a restart: messages submitted earlier whose receipts are still owed."""

    async def close(self) -> None:
        """Stop; pending receipts stay owed and are resumed on the next start."""


class Connector(Protocol):
    """One link to a carrier, as the connector registry drives it (simulator, smpp, telnyx).

    `submit` may take a while (an SMPP window, a throttled SMSC); it must not raise for a refused or
    undeliverable message: it answers with a SubmitResult per submission, in order."""

    name: str
    type: str  # simulator | smpp | telnyx
    # optional: `carries: frozenset[str]`, the message types it takes (SMS, MMS, WHATSAPP); absent = all.
    # Dispatch skips a connector that cannot carry a message, and fails it 40001 when none of its route can.

    async def open(self, sinks: Sinks) -> None:
        """Start connecting in the background and return at once; reports go to `sinks` from now on."""

    def link_state(self) -> LinkState:
        """Whether the link can take submissions now (`up`), is trying (`connecting`) or failed (`down`)."""

    async def submit(self, submissions: Sequence[Submission]) -> list[SubmitResult]:
        """Hand messages to the carrier; one result per submission, in order."""

    async def resume(self, in_flight: Sequence[Submission]) -> None:
        """After a restart: messages this connector carried whose receipts are still owed (the
        simulator re-arms them; links whose peer redelivers receipts do nothing)."""

    async def close(self) -> None:
        """Unbind and stop; pending receipts stay owed (stored) and arrive on a later bind."""

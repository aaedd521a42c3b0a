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
    message_id: str
    accepted: bool
    carrier_message_id: str | None = None
    error_code: str | None = None  # a 400xx code when refused
    error_detail: str | None = None


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


ReportSink = Callable[[list[DeliveryReport]], Awaitable[None]]


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

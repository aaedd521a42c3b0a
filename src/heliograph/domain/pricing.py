"""Cost of a message: rate plus carrier fee, per part for SMS, per message for MMS (spec messages.md §5.4)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Price:
    rate: Decimal
    carrier_fee: Decimal

    @property
    def amount(self) -> Decimal:
        return self.rate + self.carrier_fee


@dataclass(frozen=True, slots=True)
class Tariff:
    sms_rate_per_part: Decimal
    sms_carrier_fee_per_part: Decimal
    mms_rate: Decimal
    mms_carrier_fee: Decimal

    def price(self, message_type: str, parts: int) -> Price:
        if message_type == "MMS":
            return Price(self.mms_rate, self.mms_carrier_fee)
        return Price(self.sms_rate_per_part * parts, self.sms_carrier_fee_per_part * parts)


FREE = Price(Decimal("0"), Decimal("0"))


def money(value: Decimal) -> str:
    """Telnyx shows amounts as decimal strings with at least four places."""
    return f"{value:.4f}"

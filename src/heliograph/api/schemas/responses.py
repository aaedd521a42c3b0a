"""Response bodies, for the OpenAPI document (api/openapi.py): the shapes services/views.py writes.

Responses are serialized straight from dicts with orjson on the hot path (api/responses.py), so these
models are not used to build them; tests/contract checks every response of the contract suite against
the schemas made from them, so a view and its model cannot drift apart unnoticed. Resources allow extra
keys: Telnyx adds fields over time, and clients must ignore the ones they do not know.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# errors (api/errors.py)
class ErrorSource(BaseModel):
    pointer: str | None = Field(None, description="JSON pointer to the body field at fault.")
    parameter: str | None = Field(None, description="The query or path parameter at fault.")


class ErrorMeta(_Open):
    url: str | None = None
    error_id: str | None = Field(None, description="Names the log line of an unexpected error (10007).")


class Error(BaseModel):
    code: str = Field(description="Telnyx error code, e.g. 10005.")
    title: str
    detail: str | None = None
    source: ErrorSource | None = None
    meta: ErrorMeta | None = None


class ErrorBody(BaseModel):
    """Every error answer, whatever its status."""

    errors: list[Error] = Field(min_length=1)


# envelopes
class PageMeta(BaseModel):
    page_number: int
    page_size: int
    total_pages: int
    total_results: int


class Data(BaseModel, Generic[T]):
    data: T


class Page(BaseModel, Generic[T]):
    data: list[T]
    meta: PageMeta


# resources (services/views.py)
class Resource(_Open):
    """A resource described by its Telnyx documentation; every key is optional here."""


class Money(_Open):
    amount: str
    currency: str


class Party(_Open):
    phone_number: str | None = None
    carrier: str | None = None
    line_type: str | None = None
    status: str | None = None


class Media(_Open):
    url: str
    content_type: str | None = None
    size: int | None = None


class Message(_Open):
    record_type: str
    direction: str
    id: str
    type: str
    messaging_profile_id: str | None = None
    organization_id: str | None = None
    from_: Party = Field(alias="from")
    to: list[Party]
    cc: list[Any] = []
    text: str | None = None
    subject: str | None = None
    media: list[Media] = []
    webhook_url: str | None = None
    webhook_failover_url: str | None = None
    encoding: str | None = None
    parts: int | None = None
    tags: list[str] = []
    cost: Money | None = None
    cost_breakdown: dict[str, Any] | None = None
    received_at: str | None = None
    sent_at: str | None = None
    completed_at: str | None = None
    valid_until: str | None = None
    errors: list[dict[str, Any]] = []


class MessagingProfile(_Open):
    record_type: str
    id: str
    name: str
    enabled: bool
    webhook_url: str | None = None
    webhook_failover_url: str | None = None
    webhook_api_version: str | None = None
    whitelisted_destinations: list[str] = []
    number_pool_settings: dict[str, Any] | None = None
    url_shortener_settings: dict[str, Any] | None = None
    alpha_sender: str | None = None
    daily_spend_limit: str | None = None
    daily_spend_limit_enabled: bool | None = None
    v1_secret: str | None = None
    organization_id: str | None = None
    created_at: str
    updated_at: str


class PhoneNumberSettings(_Open):
    record_type: str
    id: str
    phone_number: str
    messaging_profile_id: str | None = None
    messaging_product: str | None = None
    type: str
    country_code: str | None = None
    features: dict[str, Any] = {}
    health: dict[str, Any] = {}
    tags: list[str] = []
    created_at: str | None = None
    updated_at: str | None = None


class ShortCode(_Open):
    record_type: str
    id: str
    short_code: str
    country_code: str | None = None
    messaging_profile_id: str | None = None
    tags: list[str] = []


class OrderedNumber(_Open):
    id: str
    phone_number: str


class NumberOrder(_Open):
    id: str
    record_type: str
    status: str
    phone_numbers: list[OrderedNumber]
    phone_numbers_count: int
    messaging_profile_id: str | None = None
    customer_reference: str | None = None
    created_at: str
    updated_at: str


class HandsetMessage(_Open):
    message_id: str
    from_: str | None = Field(None, alias="from")
    to: str
    text: str | None = None
    received_at: str | None = None


class Health(_Open):
    status: str


RESPONSE_MODELS: tuple[type[BaseModel], ...] = (
    ErrorBody,
    Data[Message],
    Data[list[Message]],
    Data[MessagingProfile],
    Page[MessagingProfile],
    Data[PhoneNumberSettings],
    Page[PhoneNumberSettings],
    Data[ShortCode],
    Page[ShortCode],
    Data[NumberOrder],
    Page[NumberOrder],
    Data[Resource],
    Data[list[Resource]],
    Page[Resource],
    Data[list[HandsetMessage]],
    Message,
    Health,
)

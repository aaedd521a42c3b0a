"""Wire models for messaging profiles (spec profiles-and-numbers.md §2)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator
from pydantic_core import PydanticCustomError

from heliograph.api.schemas.common import destinations, url_or_none

Url = Annotated[StrictStr | None, AfterValidator(url_or_none)]
Weight = Annotated[float, Field(ge=0, strict=False)]


class NumberPoolSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")
    long_code_weight: Weight | None = None
    toll_free_weight: Weight | None = None
    skip_unhealthy: StrictBool | None = None
    sticky_sender: StrictBool | None = None
    geomatch: StrictBool | None = None


class UrlShortenerSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")
    domain: StrictStr
    prefix: StrictStr | None = None
    replace_blacklist_only: StrictBool | None = None
    send_webhooks: StrictBool | None = None


_ALPHA = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
_MONEY = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")


class _ProfileFields(BaseModel):
    model_config = ConfigDict(extra="ignore")

    enabled: StrictBool | None = None
    webhook_url: Url = None
    webhook_failover_url: Url = None
    webhook_api_version: Literal["1", "2", "2010-04-01"] | None = None
    number_pool_settings: NumberPoolSettings | None = None
    url_shortener_settings: UrlShortenerSettings | None = None
    alpha_sender: StrictStr | None = None
    daily_spend_limit: StrictStr | None = None
    daily_spend_limit_enabled: StrictBool | None = None
    mms_fall_back_to_sms: StrictBool | None = None
    mms_transcoding: StrictBool | None = None
    mobile_only: StrictBool | None = None
    smart_encoding: StrictBool | None = None
    ai_assistant_id: Annotated[StrictStr, Field(max_length=64)] | None = None

    @field_validator("alpha_sender")
    @classmethod
    def _alpha(cls, value: str | None) -> str | None:
        if value is not None and not _ALPHA.match(value):
            raise PydanticCustomError(
                "telnyx_40325", "must be 1–11 letters, digits or spaces, with at least one letter"
            )
        return value

    @field_validator("daily_spend_limit")
    @classmethod
    def _money(cls, value: str | None) -> str | None:
        if value is not None and not _MONEY.match(value):
            raise PydanticCustomError("telnyx_10015", "must be a decimal amount such as '100.00'")
        return value


class ProfileCreate(_ProfileFields):
    name: StrictStr
    whitelisted_destinations: Annotated[list[StrictStr], AfterValidator(destinations)]
    health_webhook_url: Url = None
    resource_group_id: Annotated[StrictStr, Field(max_length=64)] | None = None


class ProfileUpdate(_ProfileFields):
    name: StrictStr | None = None
    whitelisted_destinations: Annotated[list[StrictStr], AfterValidator(destinations)] | None = None
    v1_secret: StrictStr | None = None


def values(model: BaseModel) -> dict:
    """The fields the caller actually sent, nested models as plain dicts, unset pool fields left out."""
    data = model.model_dump(exclude_unset=True)
    for key in ("number_pool_settings", "url_shortener_settings"):
        if key in data and data[key] is not None:
            data[key] = {k: v for k, v in data[key].items() if v is not None}
    # fields that are not nullable keep their value when sent as null
    for key in list(data):
        if data[key] is None and key not in _NULLABLE:
            del data[key]
    return data


_NULLABLE = {
    "webhook_url",
    "webhook_failover_url",
    "number_pool_settings",
    "url_shortener_settings",
    "alpha_sender",
    "health_webhook_url",
    "ai_assistant_id",
    "resource_group_id",
}

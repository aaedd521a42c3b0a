"""The errors Heliograph answers with: each class owns its Telnyx code, title and HTTP status.

HeliographError                          10015 Bad Request, 400
├── RequestError                         the request itself is wrong
│   ├── BadRequest                       10015  400
│   │   ├── RequestTooLarge              10015  413
│   │   └── NotCancellable               10015  403
│   ├── InactivePhoneNumber              10001  400
│   ├── NotFound                         10005  404
│   │   └── MessageNotFound              40303  404
│   ├── UnexpectedError                  10007  500
│   ├── RequestTimeout                   10008  408
│   ├── AuthenticationFailed             10009  401
│   │   └── ApiKeyRevoked                20002  401
│   ├── AuthorizationFailed              10010  403
│   ├── RateLimited                      10011  429
│   ├── UnsupportedMediaType             10014  415
│   ├── InvalidJson                      10023  400
│   ├── UnsupportedContentType           10024  415
│   ├── CharacterEncodingError           10028  400
│   ├── MethodNotAllowed                 10030  405
│   ├── ServiceUnavailable               10037  503
│   └── ValidationFailed                 10027  422: a field fails its schema or its rules
│       ├── InvalidPhoneNumber           10002
│       ├── InvalidUrl                   10003
│       ├── MissingParameter             10004
│       ├── InvalidId                    10006
│       ├── DuplicateResource            10012
│       ├── InvalidValue                 10015
│       ├── NotE164                      10016
│       ├── AssociatedResourceMissing    10017
│       ├── InvalidSort                  10018
│       ├── StringLengthOutOfRange       10025
│       ├── InvalidParameterType         10026
│       ├── InvalidFilter                10031
│       ├── InvalidEnumValue             10032
│       ├── ValueOutOfRange              10033
│       ├── StillProcessing              10036
│       ├── IneligibleMessagingProduct   40324
│       ├── BadAlphanumericSenderId      40325
│       ├── DuplicateAlphanumericSenderId 40326
│       ├── UrlDomainNotAllowed          40327
│       ├── PhoneNumbersNotAvailable     85001
│       └── InvalidMessagingProfileId    85005
└── MessagingRejected                    403xx: a send refused synchronously, 400 unless stated
    ├── UnencodableText                  10015
    ├── BlockedByStop                    40300
    ├── UnsupportedMessageType           40301
    ├── MessageTooLarge                  40302
    ├── InvalidContentCombination        40304
    ├── InvalidFrom                      40305
    ├── AlphaSenderNotConfigured         40306
    ├── AlphaSenderMismatch              40307
    ├── InvalidFromForMms                40308
    ├── InvalidDestinationRegion         40309
    ├── InvalidTo                        40310
    ├── ProfileDisabled                  40312
    ├── MessagingDisabled                40314  403
    ├── NoContent                        40316
    ├── InvalidMmsContent                40317
    ├── QueueFull                        40318
    ├── IncompatibleMessageType          40319
    ├── FromTemporarilyUnusable          40320
    ├── NoUsableNumbers                  40321
    ├── InvalidAlphanumericSenderId      40325
    ├── SmsTooLong                       40328
    ├── DestinationNotWhitelisted        40331
    └── SpendLimitReached                40333  429

Raise the class: `raise InvalidTo("...", pointer="/to")`. A status differs from the class's only where
the spec answers the same refusal differently (a body that fails its schema is 422 whatever its code);
`error_class(code)` finds the class for a code known only at run time (pydantic error types).
Delivery failures (400xx) are never raised: they travel inside a message's `errors` array
(see DELIVERY_ERROR_TITLES). `api/errors.py` renders any HeliographError into the Telnyx body.
"""

from __future__ import annotations

from typing import Any

_BY_CODE: dict[str, type[HeliographError]] = {}  # code -> the first class declared with it


class HeliographError(Exception):
    """Something the caller gets told about, with a Telnyx code."""

    code: str = "10015"
    title: str = "Bad Request"
    status: int = 400

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" in cls.__dict__:
            _BY_CODE.setdefault(cls.code, cls)

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        pointer: str | None = None,
        parameter: str | None = None,
    ) -> None:
        if code is not None and code != self.code:  # prefer a class; kept for codes from elsewhere
            self.code = code
            self.title = TITLES.get(code, "Error")
        if status is not None:
            self.status = status
        self.detail = detail
        self.pointer = pointer
        self.parameter = parameter
        super().__init__(detail or self.title)


def error_class(code: str) -> type[HeliographError]:
    """The class that owns `code` (for codes known only at run time); unknown codes get a plain one."""
    known = _BY_CODE.get(code)
    if known is None:
        known = _BY_CODE[code] = type(f"Error{code}", (HeliographError,), {"code": code, "title": "Error"})
    return known


class RequestError(HeliographError):
    """The request is malformed or refers to something that is not there."""


class BadRequest(RequestError):
    code = "10015"
    title = "Bad Request"


class RequestTooLarge(BadRequest):
    """The body is over the configured limit."""

    status = 413


class NotCancellable(BadRequest):
    """The message is not (or no longer) a scheduled message that may be cancelled."""

    status = 403


class InactivePhoneNumber(RequestError):
    code = "10001"
    title = "Inactive phone number"


class NotFound(RequestError):
    """No such resource for this organization (also for other organizations' ids)."""

    status = 404
    code = "10005"
    title = "Resource not found"


class MessageNotFound(NotFound):
    code = "40303"
    title = "Message not found"


class UnexpectedError(RequestError):
    """A bug: answered with an error id that the log carries too."""

    status = 500
    code = "10007"
    title = "Unexpected error"


class RequestTimeout(RequestError):
    status = 408
    code = "10008"
    title = "Request timeout"


class AuthenticationFailed(RequestError):
    """Missing, malformed or unknown API key."""

    status = 401
    code = "10009"
    title = "Authentication failed"


class ApiKeyRevoked(AuthenticationFailed):
    code = "20002"
    title = "API Key revoked"


class AuthorizationFailed(RequestError):
    status = 403
    code = "10010"
    title = "Authorization failed"


class RateLimited(RequestError):
    """Too many API requests for this key in the current window."""

    status = 429
    code = "10011"
    title = "Too many requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__("You have exceeded the maximum number of allowed requests.")
        self.retry_after = retry_after


class UnsupportedMediaType(RequestError):
    status = 415
    code = "10014"
    title = "Unsupported Media Type"


class InvalidJson(RequestError):
    code = "10023"
    title = "Invalid JSON"


class UnsupportedContentType(RequestError):
    status = 415
    code = "10024"
    title = "Unsupported Content-Type"


class CharacterEncodingError(RequestError):
    code = "10028"
    title = "Character encoding error"


class MethodNotAllowed(RequestError):
    status = 405
    code = "10030"
    title = "Method not allowed"


class ServiceUnavailable(RequestError):
    status = 503
    code = "10037"
    title = "Service unavailable"


class ValidationFailed(RequestError):
    """A request field fails the schema (422)."""

    status = 422
    code = "10027"
    title = "Unprocessable Entity"


class InvalidPhoneNumber(ValidationFailed):
    code = "10002"
    title = "Invalid phone number"


class InvalidUrl(ValidationFailed):
    code = "10003"
    title = "Invalid URL"


class MissingParameter(ValidationFailed):
    code = "10004"
    title = "Missing required parameter"


class InvalidId(ValidationFailed):
    code = "10006"
    title = "Invalid ID"


class DuplicateResource(ValidationFailed):
    code = "10012"
    title = "Duplicate resource"


class InvalidValue(ValidationFailed):
    """A well-formed value Heliograph cannot use (the generic 10015, in a field: 422)."""

    code = "10015"
    title = "Bad Request"


class NotE164(ValidationFailed):
    code = "10016"
    title = "Phone number must be in +E.164 format"


class AssociatedResourceMissing(ValidationFailed):
    code = "10017"
    title = "Associated resource does not exist"


class InvalidSort(ValidationFailed):
    code = "10018"
    title = "Error"  # no title in the spec's table: rendered as every unlisted code is


class StringLengthOutOfRange(ValidationFailed):
    code = "10025"
    title = "String length out of range"


class InvalidParameterType(ValidationFailed):
    code = "10026"
    title = "Invalid parameter type"


class InvalidFilter(ValidationFailed):
    code = "10031"
    title = "Invalid request filter"


class InvalidEnumValue(ValidationFailed):
    code = "10032"
    title = "Invalid enumerated value"


class ValueOutOfRange(ValidationFailed):
    code = "10033"
    title = "Value outside of range"


class StillProcessing(ValidationFailed):
    code = "10036"
    title = "Resource is being processed"


class IneligibleMessagingProduct(ValidationFailed):
    code = "40324"
    title = "Error"  # no title in the spec's table


class MessagingRejected(HeliographError):
    """A send refused before any message was created (403xx codes, HTTP 400 unless stated)."""

    status = 400


class UnencodableText(MessagingRejected):
    """encoding 'gsm7' was asked for text that GSM-7 cannot carry."""

    code = "10015"
    title = "Bad Request"


class BlockedByStop(MessagingRejected):
    code = "40300"
    title = "Blocked due to STOP message"


class UnsupportedMessageType(MessagingRejected):
    code = "40301"
    title = "Unsupported message type for the 'to' address"


class MessageTooLarge(MessagingRejected):
    code = "40302"
    title = "Message too large"


class InvalidContentCombination(MessagingRejected):
    code = "40304"
    title = "Invalid combination of message content arguments"


class InvalidFrom(MessagingRejected):
    code = "40305"
    title = "Invalid 'from' address"


class AlphaSenderNotConfigured(MessagingRejected):
    code = "40306"
    title = "Alpha sender not configured"


class AlphaSenderMismatch(MessagingRejected):
    code = "40307"
    title = "Alpha sender mismatch"


class InvalidFromForMms(MessagingRejected):
    code = "40308"
    title = "Invalid 'from' address for MMS"


class InvalidDestinationRegion(MessagingRejected):
    code = "40309"
    title = "Invalid destination region"


class InvalidTo(MessagingRejected):
    code = "40310"
    title = "Invalid 'to' address"


class ProfileDisabled(MessagingRejected):
    code = "40312"
    title = "Messaging profile is disabled"


class MessagingDisabled(MessagingRejected):
    status = 403
    code = "40314"
    title = "Messaging disabled on account"


class NoContent(MessagingRejected):
    code = "40316"
    title = "No content provided for message"


class InvalidMmsContent(MessagingRejected):
    code = "40317"
    title = "Invalid MMS content"


class QueueFull(MessagingRejected):
    code = "40318"
    title = "Message queue full"


class IncompatibleMessageType(MessagingRejected):
    code = "40319"
    title = "Incompatible message type for the 'to' address"


class FromTemporarilyUnusable(MessagingRejected):
    code = "40320"
    title = "Temporarily unusable 'from' address"


class NoUsableNumbers(MessagingRejected):
    code = "40321"
    title = "No usable numbers on messaging profile"


class InvalidAlphanumericSenderId(MessagingRejected):
    code = "40325"
    title = "Invalid alphanumeric sender ID"


class SmsTooLong(MessagingRejected):
    code = "40328"
    title = "SMS exceeds recommended size"


class DestinationNotWhitelisted(MessagingRejected):
    code = "40331"
    title = "Missing whitelisted destinations"


class SpendLimitReached(MessagingRejected):
    status = 429
    code = "40333"
    title = "Messaging profile spend limit reached"


class BadAlphanumericSenderId(ValidationFailed):
    """Registering an alphanumeric sender ID that is not one (a sent one is InvalidAlphanumericSenderId, 400)."""

    code = "40325"
    title = "Invalid alphanumeric sender ID"


class DuplicateAlphanumericSenderId(ValidationFailed):
    code = "40326"
    title = "Error"  # no title in the spec's table


class UrlDomainNotAllowed(ValidationFailed):
    code = "40327"
    title = "Error"  # no title in the spec's table


class PhoneNumbersNotAvailable(ValidationFailed):
    code = "85001"
    title = "Phone numbers not available"


class InvalidMessagingProfileId(ValidationFailed):
    code = "85005"
    title = "Invalid messaging profile id provided"


# every listed title, by code (api/errors.py renders bodies for codes without a raised error, e.g. 10007)
TITLES: dict[str, str] = {code: cls.title for code, cls in sorted(_BY_CODE.items()) if cls.title != "Error"}

# Codes that only ever appear inside a message's `errors` array.
DELIVERY_ERROR_TITLES: dict[str, str] = {
    "40001": "Not routable",
    "40002": "Blocked as spam - temporary",
    "40003": "Blocked as spam - permanent",
    "40004": "Rejected by destination",
    "40005": "Message expired during transmission",
    "40006": "Recipient server unavailable",
    "40007": "Loop detected",
    "40008": "Undeliverable",
    "40009": "Invalid message body",
    "40011": "Too many requests",
    "40012": "Invalid messaging destination number",
    "40013": "Invalid messaging source number",
    "40014": "Message expired in queue",
    "40015": "Blocked as spam - internal",
    "40300": "Blocked due to STOP message",
}

"""The errors Heliograph answers with, each carrying its Telnyx code, title and HTTP status.

HeliographError
├── RequestError            10xxx / 20xxx: the request itself is wrong (422 mostly, 400, 401, 404 …)
└── MessagingRejected       403xx: a send refused synchronously (400, 403, 429)

Delivery failures (400xx) are never raised: they travel inside a message's `errors` array
(see DELIVERY_ERROR_TITLES). `api/errors.py` renders any HeliographError into the Telnyx body.
"""

from __future__ import annotations

TITLES: dict[str, str] = {
    "10001": "Inactive phone number",
    "10002": "Invalid phone number",
    "10003": "Invalid URL",
    "10004": "Missing required parameter",
    "10005": "Resource not found",
    "10006": "Invalid ID",
    "10007": "Unexpected error",
    "10008": "Request timeout",
    "10009": "Authentication failed",
    "10010": "Authorization failed",
    "10011": "Too many requests",
    "10012": "Duplicate resource",
    "10014": "Unsupported Media Type",
    "10015": "Bad Request",
    "10016": "Phone number must be in +E.164 format",
    "10017": "Associated resource does not exist",
    "10023": "Invalid JSON",
    "10024": "Unsupported Content-Type",
    "10025": "String length out of range",
    "10026": "Invalid parameter type",
    "10027": "Unprocessable Entity",
    "10028": "Character encoding error",
    "10030": "Method not allowed",
    "10031": "Invalid request filter",
    "10032": "Invalid enumerated value",
    "10033": "Value outside of range",
    "10036": "Resource is being processed",
    "10037": "Service unavailable",
    "20002": "API Key revoked",
    "40300": "Blocked due to STOP message",
    "40301": "Unsupported message type for the 'to' address",
    "40302": "Message too large",
    "40303": "Message not found",
    "40304": "Invalid combination of message content arguments",
    "40305": "Invalid 'from' address",
    "40306": "Alpha sender not configured",
    "40307": "Alpha sender mismatch",
    "40308": "Invalid 'from' address for MMS",
    "40309": "Invalid destination region",
    "40310": "Invalid 'to' address",
    "40312": "Messaging profile is disabled",
    "40314": "Messaging disabled on account",
    "40316": "No content provided for message",
    "40317": "Invalid MMS content",
    "40318": "Message queue full",
    "40319": "Incompatible message type for the 'to' address",
    "40320": "Temporarily unusable 'from' address",
    "40321": "No usable numbers on messaging profile",
    "40325": "Invalid alphanumeric sender ID",
    "40328": "SMS exceeds recommended size",
    "40331": "Missing whitelisted destinations",
    "40333": "Messaging profile spend limit reached",
    "85001": "Phone numbers not available",
    "85005": "Invalid messaging profile id provided",
}

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


class HeliographError(Exception):
    """Something the caller gets told about, with a Telnyx code."""

    status = 400
    code = "10015"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        pointer: str | None = None,
        parameter: str | None = None,
    ) -> None:
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.detail = detail
        self.pointer = pointer
        self.parameter = parameter
        super().__init__(detail or self.title)

    @property
    def title(self) -> str:
        return TITLES.get(self.code, "Error")


class RequestError(HeliographError):
    """The request is malformed or refers to something that is not there."""


class ValidationFailed(RequestError):
    """A request field fails the schema (422)."""

    status = 422
    code = "10027"


class NotFound(RequestError):
    """No such resource for this organization (also for other organizations' ids)."""

    status = 404
    code = "10005"


class AuthenticationFailed(RequestError):
    """Missing, malformed or unknown API key."""

    status = 401
    code = "10009"


class RateLimited(RequestError):
    """Too many API requests for this key in the current window."""

    status = 429
    code = "10011"

    def __init__(self, retry_after: int) -> None:
        super().__init__("You have exceeded the maximum number of allowed requests.")
        self.retry_after = retry_after


class MessagingRejected(HeliographError):
    """A send refused before any message was created (403xx codes, HTTP 400 unless stated)."""

    status = 400

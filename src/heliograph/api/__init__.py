"""The HTTP API: Telnyx Messaging API v2 under /v2, plus the sandbox's own routes."""

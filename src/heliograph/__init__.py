"""Heliograph: a self-hosted messaging platform that speaks the Telnyx Messaging API v2."""

__version__ = "0.1.0"

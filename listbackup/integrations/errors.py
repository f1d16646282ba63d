"""What a connector raises. Messages are safe to show a user: no secret, no raw body."""

from __future__ import annotations


class ConnectorError(Exception):
    """A platform call failed; ``message`` says so in words a user can act on."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class CredentialsRejected(ConnectorError):
    """401/403 even after one token refresh: the user must reconnect."""


class PlatformUnavailable(ConnectorError):
    """Rate limits or server errors outlasted our retries."""


class PlatformRequestFailed(ConnectorError):
    """Any other refusal (400, 404...): retrying will not help."""

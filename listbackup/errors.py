"""The domain exception tree. Each class carries the stable code clients branch on.

Adapters (store, integrations, auth) translate foreign exceptions into these; services
raise them; the schema's error edge turns them into ``extensions.code``. Anything else
that escapes a resolver is masked as INTERNAL_SERVER_ERROR.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """An expected failure whose message is safe to show to the client."""

    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        field: str | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.field = field
        self.extensions = extensions

    def as_extensions(self) -> dict[str, Any]:
        ext: dict[str, Any] = {"code": self.code}
        if self.reason:
            ext["reason"] = self.reason
        if self.field:
            ext["field"] = self.field
        ext.update(self.extensions)
        return ext


class UnauthenticatedError(DomainError):
    code = "UNAUTHENTICATED"


class ForbiddenError(DomainError):
    code = "FORBIDDEN"


class NotFoundError(DomainError):
    code = "NOT_FOUND"


class BadUserInputError(DomainError):
    code = "BAD_USER_INPUT"


class ConflictError(DomainError):
    code = "CONFLICT"


class RateLimitedError(DomainError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: int, reason: str | None = None) -> None:
        super().__init__(message, reason=reason, retryAfter=retry_after)
        self.retry_after = retry_after


class InfrastructureError(Exception):
    """An AWS dependency failed or misbehaved. Never shown to clients: it is masked."""

"""The error edge: every GraphQL error leaves with ``extensions.code``.

Domain errors keep their message and code. Request-level errors (syntax, validation,
bad variables) become BAD_USER_INPUT, without graphql-core's "Did you mean" hints unless
suggestions are on (they spell out the schema to someone who may not introspect it).
Anything else is logged in full and masked as INTERNAL_SERVER_ERROR with the request id,
so no stack trace or AWS text reaches a client.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult, StreamExecutionResult

from listbackup.errors import DomainError
from listbackup.logs import request_id_var

log = logging.getLogger(__name__)

INTERNAL_MESSAGE = "Internal server error."
# graphql-core's did_you_mean(): " Did you mean 'a', 'b', or 'c'?" (names hold no "?").
_SUGGESTION = re.compile(r" Did you mean [^?]*\?")


def format_error(error: GraphQLError, *, suggestions: bool = False) -> GraphQLError:
    original = error.original_error
    if isinstance(original, DomainError):
        return _copy(error, original.message, original.as_extensions(), original)
    if error.path is None:
        # No path: the request itself is wrong (parse, validation, variable coercion).
        syntax = error.message.startswith("Syntax Error")
        reason = "GRAPHQL_PARSE_FAILED" if syntax else "GRAPHQL_VALIDATION_FAILED"
        message = error.message if suggestions else _SUGGESTION.sub("", error.message)
        return _copy(error, message, {"code": "BAD_USER_INPUT", "reason": reason}, None)
    request_id = request_id_var.get()
    log.error(
        "unexpected error resolving %s",
        ".".join(str(p) for p in error.path),
        exc_info=original or error,
    )
    extensions: dict[str, Any] = {"code": "INTERNAL_SERVER_ERROR"}
    if request_id:
        extensions["requestId"] = request_id
    return _copy(error, INTERNAL_MESSAGE, extensions, None)


def _copy(
    error: GraphQLError,
    message: str,
    extensions: dict[str, Any],
    original: Exception | None,
) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=original,
        extensions=extensions,
    )


class ErrorEdge(SchemaExtension):
    """Formats the errors of single results (HTTP) and of streamed ones (WebSocket)."""

    def __init__(self, *, suggestions: bool = False) -> None:
        self._streamed = False
        self.suggestions = suggestions

    def on_operation(self) -> Iterator[None]:
        self._streamed = False
        yield
        if not self._streamed:
            self._format(self.execution_context.result)

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        self._streamed = True
        self._format(result)
        yield None

    def _format(self, result: object) -> None:
        if isinstance(result, GraphQLExecutionResult | ExecutionResult) and result.errors:
            result.errors = [format_error(e, suggestions=self.suggestions) for e in result.errors]

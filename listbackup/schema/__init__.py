"""The GraphQL schema: per-domain root classes merged into Query (and later Mutation)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.schema import StreamResult
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from listbackup.config import DEFAULT_MAX_QUERY_COST
from listbackup.context import Context
from listbackup.schema.errors import ErrorEdge
from listbackup.schema.limits import DocumentCache, QueryLimits
from listbackup.schema.node import NodeQuery
from listbackup.schema.shared_events import executor_for, plain_fields
from listbackup.schema.types.accounts import AccountMutation, AccountQuery
from listbackup.schema.types.connections import ConnectionMutation, ConnectionQuery
from listbackup.schema.types.invitations import InvitationMutation
from listbackup.schema.types.jobs import JobMutation, JobProgress, JobQuery
from listbackup.schema.types.live import JobEvent, LiveSubscription
from listbackup.schema.types.members import MemberMutation
from listbackup.schema.types.platforms import PlatformQuery
from listbackup.schema.types.sources import SourceMutation, SourceQuery
from listbackup.schema.types.users import IdentityMutation, IdentityQuery

MAX_DEPTH = 12
MAX_ALIASES = 50

Query = merge_types(
    "Query",
    (IdentityQuery, NodeQuery, AccountQuery, PlatformQuery, ConnectionQuery, SourceQuery, JobQuery),
)
Subscription = merge_types("Subscription", (LiveSubscription,))
Mutation = merge_types(
    "Mutation",
    (
        IdentityMutation,
        AccountMutation,
        InvitationMutation,
        MemberMutation,
        ConnectionMutation,
        SourceMutation,
        JobMutation,
    ),
)


class Schema(strawberry.Schema):
    async def stream(  # noqa: PLR0917 - Strawberry's signature
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> StreamResult:
        """Streaming transports (WebSocket) pass their connection's context: give each
        operation its own, so the caller's rights are decided per operation."""
        if isinstance(context_value, Context):
            context_value = context_value.for_operation()
        return await super().stream(
            query,
            variable_values=variable_values,
            context_value=context_value,
            root_value=root_value,
            operation_name=operation_name,
            operation_extensions=operation_extensions,
            allowed_operation_types=allowed_operation_types,
        )

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Logging happens at the error edge, which knows expected errors from bugs."""


def build_schema(
    *,
    max_query_cost: int = DEFAULT_MAX_QUERY_COST,
    introspection: bool = False,
    suggestions: bool = False,
) -> strawberry.Schema:
    """The schema with its request limits; introspection and "Did you mean" suggestions
    are off unless asked for (the SDL is the same either way)."""
    rules = [
        *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
        *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    ]
    if not introspection:
        rules.extend(DisableIntrospection().validation_rules)
    # Factories: Strawberry builds fresh extension instances for every operation; the
    # parsed and validated documents they share live in the schema's one cache.
    cache = DocumentCache()
    extensions: list[Callable[[], SchemaExtension]] = [
        partial(QueryLimits, max_cost=max_query_cost, rules=rules, cache=cache),
        partial(ErrorEdge, suggestions=suggestions),
    ]
    # Live events go to many subscribers: those that ask only for the event's own fields
    # share one execution of each event (schema/shared_events.py).
    plain = plain_fields(NameConverter(), JobEvent, JobProgress)
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        execution_context_class=executor_for(plain),
    )


def sdl() -> str:
    """The schema as SDL, as ``listbackup schema`` prints it and schema.graphql holds it."""
    return build_schema().as_str() + "\n"

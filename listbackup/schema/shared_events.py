"""Subscription events executed once for all the subscribers who asked the same thing.

A job event goes to every subscriber of its job or account: ten thousand subscribers of
one account would each run the same selection over the same event. When an operation
selects only the event's own data (fields without a resolver of their own, such as
``jobId``, ``status`` or ``progress { stepsCompleted }``: never ``job``, which reads the
job as the viewer may see it), the first subscriber's result is kept on the event and
every other operation with the same document and variables gets it as it is. Anything
else executes as usual, per subscriber.

Over a WebSocket such an operation's events need not take the per-result path either
(Strawberry's extensions and result handling, graphql-core's mapping of the stream, a
message encoded for each subscriber), which cost most of a delivery: the protocol
handler gives each operation an :class:`Outlet`, the executor binds it when the
operation's results may be shared, and the subscription's resolver sends each event
through it: the event's payload encoded once, then one frame per subscriber, in the
order of the operation's other messages. An event the outlet cannot take (a result
with errors) goes the usual way.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Hashable, Iterable
from contextvars import ContextVar
from inspect import isawaitable, iscoroutine
from typing import Any, Protocol

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
)
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import get_object_definition


class SharedEvent(Protocol):
    #: Results of this event by what was asked; kept as long as the event is.
    shared_results: dict[Hashable, Any]


def plain_fields(converter: NameConverter, *types: type) -> frozenset[str]:
    """The GraphQL names of the fields of these Strawberry types that only read the
    object (no resolver of their own)."""
    names = {"__typename"}
    for cls in types:
        definition = get_object_definition(cls, strict=True)
        names.update(
            converter.from_field(field)
            for field in definition.fields
            if field.base_resolver is None
        )
    return frozenset(names)


class Outlet:
    """Where one WebSocket operation's results may be sent directly.

    ``send`` takes a result's payload as JSON (``{"data": ...}``), sends it as the
    operation's next message and says whether it did (False once the operation is over);
    ``send_nowait`` does the same without waiting, or says False and sends nothing (the
    socket's buffer is full, say): then ``send`` must.
    """

    __slots__ = ("_executor", "_key", "_send", "_send_nowait")

    def __init__(
        self, send: Callable[[str], Awaitable[bool]], send_nowait: Callable[[str], bool]
    ) -> None:
        self._send = send
        self._send_nowait = send_nowait
        self._executor: SharedEventExecutor | None = None
        self._key: Hashable = None

    @property
    def bound(self) -> bool:
        return self._executor is not None

    def bind(self, executor: SharedEventExecutor, key: Hashable) -> None:
        self._executor, self._key = executor, key

    async def deliver(self, shared: dict[Hashable, Any], root: Callable[[], SharedEvent]) -> bool:
        """Send the operation's result for an event; False when it must go the usual
        way (the result has errors, or the operation is over). ``shared`` is the event's
        ``shared_results``; ``root`` makes the root value it executes on, when the
        result is not there yet."""
        payload = self._payload(shared, root)
        return payload is not None and await self._send(payload)

    def deliver_nowait(self, shared: dict[Hashable, Any], root: Callable[[], SharedEvent]) -> bool:
        """:meth:`deliver`, if that need not wait; False (nothing sent) otherwise."""
        payload = self._payload(shared, root)
        return payload is not None and self._send_nowait(payload)

    def _payload(self, shared: dict[Hashable, Any], root: Callable[[], SharedEvent]) -> str | None:
        """The event's payload for this operation, encoded: executed and encoded once
        for every operation of the same key. None when it cannot be shared."""
        encoded = (_ENCODED, self._key)
        payload: str | None = shared.get(encoded)
        if payload is not None or self._executor is None:
            return payload
        result = self._executor.build_per_event_executor(root()).execute_operation(False)
        if isawaitable(result):
            # Only the event's own fields are selected, which resolve at once; should a
            # result wait for something nonetheless, it goes the usual way.
            if iscoroutine(result):
                result.close()
            elif isinstance(result, asyncio.Future):
                result.cancel()
            return None
        if not isinstance(result, ExecutionResult) or result.errors:
            return None
        # As Strawberry encodes a message (strawberry.http.base.encode_json).
        payload = shared[encoded] = json.dumps({"data": result.data}, separators=(",", ":"))
        return payload


#: The running WebSocket operation's outlet; set by the protocol handlers, in the
#: operation's own task.
OUTLET: ContextVar[Outlet | None] = ContextVar("listbackup_outlet", default=None)

#: Beside a result in an event's ``shared_results``: its payload, encoded.
_ENCODED = "encoded"


def direct() -> Outlet | None:
    """The running operation's outlet, when its events may be sent through it."""
    outlet = OUTLET.get()
    return outlet if outlet is not None and outlet.bound else None


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, sharing a subscription event's result where it may."""

    #: Fields an event's result may be shared for: set by the schema (see ``build_schema``).
    plain: frozenset[str] = frozenset()

    #: The operation's key (see :meth:`_key`), worked out once per subscription.
    _shared_key: Hashable | None = None
    _keyed = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        outlet = OUTLET.get()
        if outlet is not None and self.operation.operation == OperationType.SUBSCRIPTION:
            self._shared_key, self._keyed = self._key(), True
            if self._shared_key is not None:
                outlet.bind(self, self._shared_key)

    def build_per_event_executor(self, payload: Any) -> Any:
        if not self._keyed:
            self._shared_key, self._keyed = self._key(), True
        return super().build_per_event_executor(payload)  # a copy: it has the key too

    def execute_operation(self, serially: bool | None = None) -> Any:
        shared: dict[Hashable, Any] | None = getattr(self.root_value, "shared_results", None)
        key = self._shared_key
        if shared is None or key is None:
            return super().execute_operation(serially)
        kept = shared.get(key)
        if kept is not None:
            return kept
        result = super().execute_operation(serially)
        if isinstance(result, ExecutionResult) and not result.errors:
            shared[key] = result
        return result

    def _key(self) -> Hashable | None:
        """What identifies this operation's result, or None when it must run per caller."""
        operation = self.operation
        if operation.operation != OperationType.SUBSCRIPTION:
            return None
        if not self._plain(operation.selection_set, root=True):
            return None
        try:
            variables = tuple(sorted(self.variable_values.coerced.items()))
            hash(variables)
        except TypeError:
            return None
        return (_Identity(operation), variables)

    def _plain(self, selections: SelectionSetNode | None, *, root: bool = False) -> bool:
        if selections is None:
            return True
        return all(self._plain_selection(s, root=root) for s in selections.selections)

    def _plain_selection(self, selection: SelectionNode, *, root: bool) -> bool:
        if isinstance(selection, FieldNode):
            # The root field returns the event itself; below it, plain fields only.
            plain = root or selection.name.value in self.plain
            return plain and self._plain(selection.selection_set)
        if isinstance(selection, InlineFragmentNode):
            return self._plain(selection.selection_set, root=root)
        if isinstance(selection, FragmentSpreadNode):
            fragment = self.fragments.get(selection.name.value)
            if fragment is None or fragment.variable_signatures:
                return False
            return self._plain(fragment.definition.selection_set, root=root)
        return False


class _Identity:
    """An operation node as a key by identity: one document (the schema's cache gives every
    operation of the same text the same one) is one key, and comparing keys is cheap."""

    __slots__ = ("node",)

    def __init__(self, node: OperationDefinitionNode) -> None:
        self.node = node

    def __hash__(self) -> int:
        return id(self.node)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Identity) and other.node is self.node


def executor_for(plain: Iterable[str]) -> type[SharedEventExecutor]:
    return type("SharedEventExecutor", (SharedEventExecutor,), {"plain": frozenset(plain)})

"""Counts DynamoDB calls per request, through botocore's event hooks.

The middleware gives each request a fresh :class:`CallCounter`; a hook on the process's
DynamoDB client adds every call to the counter of the request that made it.
"""

from __future__ import annotations

from collections import Counter
from contextvars import ContextVar
from typing import Any

dynamodb_calls: ContextVar[Counter[str] | None] = ContextVar("dynamodb_calls", default=None)


def count_call(model: Any = None, **_: Any) -> None:
    """botocore ``before-call.dynamodb`` handler."""
    counter = dynamodb_calls.get()
    if counter is not None and model is not None:
        counter[model.name] += 1


def start() -> Counter[str]:
    counter: Counter[str] = Counter()
    dynamodb_calls.set(counter)
    return counter

"""Bounded JSON for what the GraphQL view reads: bodies, GET parameters, WebSocket messages.

Python's ``json`` accepts what the layers below then fail on, as a masked 500: a lone
surrogate (``"\\ud800"``) that botocore cannot encode as UTF-8, nesting deep enough to
exhaust the recursion limit, an integer longer than ``int()``'s digit limit, ``NaN``.
This refuses them before anything runs, with a message saying what was wrong. GraphQL
string literals need no such check: graphql-core's lexer already refuses surrogates.
"""

from __future__ import annotations

import json
import re

#: Deeper than any input of ours (a variable's input object and its settings are ~6).
MAX_DEPTH = 32
#: Int is 32-bit and a Float this long converts; 5,000 digits take int() quadratic time.
MAX_INTEGER_DIGITS = 100
NOT_JSON = "Unable to parse request body as JSON"
_SURROGATE = re.compile("[\ud800-\udfff]")


class RefusedJson(json.JSONDecodeError):
    """JSON we will not read. A JSONDecodeError, so Strawberry's WebSocket handlers treat
    it like any malformed message."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "", 0)
        # JSONDecodeError's str() appends a position, meaningless here.
        self.message = message


def decode(data: str | bytes) -> object:
    """The JSON value of ``data``, or RefusedJson saying why not."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise RefusedJson("The request is not valid UTF-8.") from None
    try:
        value = json.loads(data, parse_int=_integer, parse_constant=_constant)
    except RecursionError:
        raise RefusedJson(_TOO_DEEP) from None
    except RefusedJson:
        raise
    except json.JSONDecodeError:
        raise RefusedJson(NOT_JSON) from None
    _check(value)
    return value


def request(data: str | bytes) -> object:
    """A request body (or a GET parameter): an object, a list (a batch), or, for null,
    nothing sent (``{}``, which Strawberry answers "no query")."""
    value = decode(data)
    if value is None:
        return {}
    if not isinstance(value, dict | list):
        raise RefusedJson("A GraphQL request, its variables and extensions are JSON objects.")
    return value


_TOO_DEEP = f"JSON nested more than {MAX_DEPTH} levels deep is not accepted."


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise RefusedJson(f"Integers longer than {MAX_INTEGER_DIGITS} digits are not accepted.")
    return int(digits)


def _constant(name: str) -> float:
    # NaN and Infinity are Python's extension, not JSON.
    raise RefusedJson(NOT_JSON)


def _check(value: object) -> None:
    """Depth, and strings (keys too) that are valid Unicode; iterative, so depth is free."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise RefusedJson(
                    "Strings must be valid Unicode: a lone surrogate such as \\ud800 "
                    "is not accepted."
                )
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise RefusedJson(_TOO_DEEP)
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)

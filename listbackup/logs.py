"""JSON structured logs, with the current request id on every line."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonEncoder

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_RESERVED = {"color_message"}  # uvicorn adds a duplicate of the message with ANSI colours
#: What every LogRecord has; anything else on a record came from ``extra`` and is logged.
_STANDARD = frozenset(
    (*vars(logging.LogRecord("", 0, "", 0, "", (), None)), "message", "asctime", "request_id")
)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        for name in _RESERVED:
            record.__dict__.pop(name, None)
        return True


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per record: level, logger, message, request_id, the ``extra``
    fields, exc_info and stack_info when there are any, then time (ISO 8601, UTC).

    Every request logs a line, so it is built directly; datetimes, enums, exceptions and
    other values JSON lacks are written as python-json-logger writes them."""

    def __init__(self) -> None:
        super().__init__()
        self._encoder = JsonEncoder()

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": record.__dict__.get("request_id"),
        }
        for name, value in record.__dict__.items():
            if name not in _STANDARD:
                line[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc_info"] = record.exc_text
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        line["time"] = datetime.fromtimestamp(record.created, UTC).isoformat()
        return self._encoder.encode(line)


def configure(level: str = "INFO") -> None:
    """Send every logger (ours, uvicorn's, botocore's) through one JSON handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLinesFormatter())
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # Our access log replaces uvicorn's: it carries the request id and the duration.
    logging.getLogger("uvicorn.access").disabled = True
    for noisy in ("botocore", "aiobotocore", "aioboto3", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(level), logging.WARNING))
    # No line carries the caller's file and line, thread or process: do not look them
    # up for every record (the logging docs' "Optimization" section).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False

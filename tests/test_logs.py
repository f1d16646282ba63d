"""JSON log lines: what each carries, as python-json-logger wrote them before."""

from __future__ import annotations

import enum
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pythonjsonlogger.json import JsonFormatter

from listbackup import logs

#: The formatter logs.configure() used to install: the lines must not change.
BEFORE = JsonFormatter(
    "%(levelname)s %(name)s %(message)s %(request_id)s",
    rename_fields={"levelname": "level", "name": "logger"},
    timestamp="time",
)


class Colour(enum.Enum):
    RED = "red"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """What logs.configure() writes, instead of stderr; logging as it was afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, logging.getLogger("uvicorn.access").disabled
    flags = logging._srcfile, logging.logThreads, logging.logProcesses
    out = io.StringIO()
    logs.configure("INFO")
    root.handlers[0].setStream(out)  # type: ignore[attr-defined]
    yield out
    root.handlers[:], level, logging.getLogger("uvicorn.access").disabled = saved
    root.setLevel(level)
    logging._srcfile, logging.logThreads, logging.logProcesses = flags
    logging.logMultiprocessing = True


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def as_before(record: logging.LogRecord) -> dict[str, Any]:
    logs._RequestIdFilter().filter(record)
    parsed: dict[str, Any] = json.loads(BEFORE.format(record))
    return parsed


def test_an_access_line_carries_the_request_id_and_its_fields(stream: io.StringIO) -> None:
    token = logs.request_id_var.set("req-12345678")
    try:
        logging.getLogger("listbackup.access").info(
            "%s %s %s",
            "POST",
            "/graphql",
            200,
            extra={"method": "POST", "path": "/graphql", "status": 200, "duration_ms": 3.5},
        )
    finally:
        logs.request_id_var.reset(token)

    [line] = lines(stream)
    assert list(line) == [
        "level",
        "logger",
        "message",
        "request_id",
        "method",
        "path",
        "status",
        "duration_ms",
        "time",
    ]
    assert line["request_id"] == "req-12345678"
    assert line["message"] == "POST /graphql 200"
    assert datetime.fromisoformat(line["time"]).tzinfo is not None


def test_lines_are_what_python_json_logger_wrote(stream: io.StringIO) -> None:
    log = logging.getLogger("listbackup.test")
    handler = logging.getLogger().handlers[0]
    records: list[logging.LogRecord] = []

    def keep(record: logging.LogRecord) -> bool:
        records.append(record)
        return True

    handler.addFilter(keep)
    log.warning(
        "odd values %s",
        "here",
        extra={
            "calls": {"BatchGetItem": 2},
            "when": datetime(2026, 1, 2, tzinfo=UTC),
            "colour": Colour.RED,
            "ids": {"b"},
            "error": ValueError("no"),
            "raw": b"\x00\x01",
        },
    )
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("failed")
    log.info("where", stack_info=True)
    logging.getLogger("uvicorn.error").info("Started", extra={"color_message": "\x1b[1m"})

    written = lines(stream)
    assert len(written) == len(records) == 4
    for line, record in zip(written, records, strict=True):
        assert line == as_before(record)
    assert "Traceback" in written[1]["exc_info"]
    assert "color_message" not in written[3]


def test_lines_below_the_level_are_not_written(stream: io.StringIO) -> None:
    logging.getLogger("listbackup.access").debug("quiet")
    logging.getLogger("botocore").info("noisy")

    assert lines(stream) == []

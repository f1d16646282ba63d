"""``listbackup dev`` as a user runs it: a subprocess with its own local AWS."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from listbackup.devstack import free_port


@dataclass
class DevStack:
    process: subprocess.Popen[str]
    url: str
    ready_line: str
    #: From spawning the command to reading its ready line, as measured here.
    seconds_to_ready: float


def dev_environment() -> dict[str, str]:
    """As a user runs it: its own moto, no AWS or ListBackup variables of ours."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LISTBACKUP_"))}


@contextlib.contextmanager
def running_dev(log: Path | None = None) -> Iterator[DevStack]:
    """``listbackup dev`` on a free port, ready; killed (with its moto) on the way out.
    Its log (stderr) goes to ``log``, if given."""
    port = free_port("127.0.0.1")
    spawned = time.monotonic()
    with contextlib.ExitStack() as files:
        stderr = files.enter_context(log.open("w")) if log else subprocess.DEVNULL
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "listbackup", "dev", "--port", str(port)],
            env=dev_environment(),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        assert ready.startswith("ListBackup is ready in "), ready
        yield DevStack(process, f"http://127.0.0.1:{port}", ready, time.monotonic() - spawned)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()

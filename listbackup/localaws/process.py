"""The local AWS as a child process, from the parent's side.

Standard library only: ``listbackup dev`` starts the child before it imports the
application (a second or more), so the child's own start (importing moto, warming its
services) runs at the same time on the other core.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

_READY_TIMEOUT = 30.0
_STOP_TIMEOUT = 5.0
_PR_SET_PDEATHSIG = 1


class LocalAwsError(Exception):
    """The local AWS did not start."""


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the parent dies, even by SIGKILL (Linux only)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class LocalAwsProcess:
    """A started local AWS; :meth:`endpoint` waits until it listens."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        # moto is not ours to measure: a coverage run (which passes itself on to children
        # through this variable) would trace every call the local AWS makes.
        env = {k: v for k, v in os.environ.items() if k != "COVERAGE_PROCESS_CONFIG"}
        self._deadline = time.monotonic() + _READY_TIMEOUT
        self._endpoint: str | None = None
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "listbackup.localaws", "--host", host, "--port", "0"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            # Its own process group: Ctrl-C reaches us, and we stop it in order.
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only calls prctl
        )

    def endpoint(self) -> str:
        """The URL from the child's ready line ("listening on URL"), once it is printed."""
        if self._endpoint is None:
            self._endpoint = self._read_ready_line()
        return self._endpoint

    def _read_ready_line(self) -> str:
        stdout = self._process.stdout
        assert stdout is not None  # noqa: S101 - piped above
        with selectors.DefaultSelector() as ready:
            ready.register(stdout, selectors.EVENT_READ)
            line = b""
            while not line.endswith(b"\n"):
                remaining = self._deadline - time.monotonic()
                if remaining <= 0 or not ready.select(remaining):
                    raise LocalAwsError(f"local AWS did not start within {_READY_TIMEOUT:.0f}s")
                chunk = os.read(stdout.fileno(), 256)
                if not chunk:
                    code = self._process.wait()
                    raise LocalAwsError(f"local AWS exited with code {code} while starting")
                line += chunk
        return line.decode().strip().removeprefix("listening on ")

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()


@contextlib.contextmanager
def started(host: str = "127.0.0.1") -> Iterator[LocalAwsProcess]:
    """Start the local AWS and stop it when the block exits, however it exits."""
    if importlib.util.find_spec("moto") is None:
        raise LocalAwsError("moto is not installed: install the local extra, listbackup[local]")
    process = LocalAwsProcess(host)
    try:
        yield process
    finally:
        process.stop()

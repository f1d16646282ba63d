"""The benchmarks' server processes: ready when /healthz answers, stopped by a signal."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from pathlib import Path

import httpx


def wait_healthy(
    process: subprocess.Popen[bytes],
    url: str,
    name: str,
    *,
    within: float = 60.0,
    log: Path | None = None,
) -> None:
    """Until ``url``/healthz answers 200; RuntimeError if the process exits (with the
    end of its ``log``) or is not healthy ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        if process.poll() is not None:
            tail = f":\n{log.read_text()[-2000:]}" if log else ""
            raise RuntimeError(f"{name} exited with code {process.returncode}{tail}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not start within {within:.0f}s")
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes], *, within: float = 20.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited ``within`` seconds."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(within)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()

"""The ``listbackup`` command: schema, settings errors, bootstrap, and the local stack."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from listbackup.cli import main
from listbackup.devstack import free_port
from listbackup.schema import build_schema, sdl
from tests.dev_process import DevStack, dev_environment, running_dev

ROOT = Path(__file__).resolve().parents[1]
CONTRACT_CHECK = ROOT.parent / "shared" / "contract" / "check.py"


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "listbackup", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_schema_command_prints_the_committed_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0

    printed = capsys.readouterr().out
    assert printed == sdl()
    assert printed == (ROOT / "schema.graphql").read_text(), "run `make schema`"


def test_schema_command_needs_no_settings_and_no_introspection(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The SDL is printed from the schema object, not by introspecting a running API.
    monkeypatch.delenv("LISTBACKUP_STAGE", raising=False)
    monkeypatch.setenv("LISTBACKUP_INTROSPECTION", "false")
    monkeypatch.setenv("LISTBACKUP_MAX_QUERY_COST", "not a number")

    assert main(["schema"]) == 0

    everything_on = build_schema(introspection=True, suggestions=True, max_query_cost=1)
    assert capsys.readouterr().out == everything_on.as_str() + "\n"


def test_schema_meets_the_contract_for_the_foundation_and_the_catalogue() -> None:
    result = subprocess.run(  # noqa: S603
        [sys.executable, str(CONTRACT_CHECK), str(ROOT / "schema.graphql")],
        capture_output=True,
        text=True,
        check=False,
    )

    unsatisfied = result.stdout.splitlines()
    assert "[foundation]" not in result.stdout
    catalogue = (
        "  Platform.",
        "  Platform implements",
        "  CredentialField.",
        "  PlatformDataType.",
        "  Query.platform",
    )
    assert [line for line in unsatisfied if line.startswith(catalogue)] == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"LISTBACKUP_STAGE": None}, "listbackup: missing setting LISTBACKUP_STAGE\n"),
        (
            {"LISTBACKUP_LOG_LEVEL": "LOUD"},
            "listbackup: invalid setting LISTBACKUP_LOG_LEVEL: "
            "Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'\n",
        ),
    ],
)
def test_bad_settings_stop_start_up_with_one_line(
    moto_endpoint: str, changes: dict[str, str | None], expected: str
) -> None:
    env = dict(os.environ)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value

    result = run_cli("serve", "--port", str(free_port("127.0.0.1")), env=env)

    assert result.returncode == 2
    assert result.stderr == expected
    assert result.stdout == ""


def test_serve_holds_websocket_messages_to_the_body_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda *args, **options: served.update(options))
    monkeypatch.setattr("listbackup.logs.configure", lambda level: None)
    for name, value in {
        "LISTBACKUP_STAGE": "qa",
        "LISTBACKUP_REGION": "eu-west-1",
        "LISTBACKUP_COGNITO_USER_POOL_ID": "eu-west-1_abc",
        "LISTBACKUP_COGNITO_CLIENT_ID": "client123",
        "LISTBACKUP_MAX_BODY_BYTES": "4096",
    }.items():
        monkeypatch.setenv(name, value)

    assert main(["serve"]) == 0
    assert served["ws_max_size"] == 4096  # not uvicorn's 16 MiB


def test_bootstrap_command_creates_then_finds_everything(moto_endpoint: str) -> None:
    env = {
        **os.environ,
        "LISTBACKUP_RESOURCE_PREFIX": "lbcli-boot",
        "LISTBACKUP_LOG_LEVEL": "ERROR",
    }

    first = run_cli("bootstrap", env=env)
    second = run_cli("bootstrap", env=env)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "created  table lbcli-boot-platforms" in first.stdout
    assert "created " not in second.stdout
    assert "exists   table lbcli-boot-platforms" in second.stdout
    pool_lines = [
        line for line in first.stdout.splitlines() if line.startswith("LISTBACKUP_COGNITO")
    ]
    assert len(pool_lines) == 2
    assert pool_lines == [
        line for line in second.stdout.splitlines() if line.startswith("LISTBACKUP_COGNITO")
    ]


def _children(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_gone(pids: list[int], timeout: float = 15) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


@pytest.fixture
def dev_stack() -> Iterator[DevStack]:
    """``listbackup dev``, started and ready."""
    with running_dev() as stack:
        yield stack


@pytest.mark.slow
def test_dev_says_when_it_is_ready_and_how_long_it_took(dev_stack: DevStack) -> None:
    with httpx.Client(base_url=dev_stack.url, timeout=10) as http:
        ready = http.get("/readyz")

    line = re.fullmatch(
        r"ListBackup is ready in (\d+\.\d) s\. GraphiQL: (\S+)  \(Ctrl-C stops everything\)\n",
        dev_stack.ready_line,
    )
    assert line is not None, dev_stack.ready_line
    assert line[2] == f"{dev_stack.url}/graphql"
    assert ready.status_code == 200
    # Counted from the process's own start (rounded to 0.1 s): never more than it took.
    assert 0 < float(line[1]) <= dev_stack.seconds_to_ready + 0.1


def test_a_bad_setting_stops_dev_with_one_line() -> None:
    env = {**dev_environment(), "LISTBACKUP_LOG_LEVEL": "LOUD"}

    result = run_cli("dev", "--port", str(free_port("127.0.0.1")), env=env)

    assert result.returncode == 2
    assert result.stderr == (
        "listbackup: invalid setting LISTBACKUP_LOG_LEVEL: "
        "Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'\n"
    )
    assert result.stdout == ""


@pytest.mark.slow
@pytest.mark.parametrize(("stop", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_dev_serves_the_catalogue_and_a_signal_stops_everything(
    dev_stack: DevStack, stop: signal.Signals, exit_code: int
) -> None:
    process = dev_stack.process
    children = _children(process.pid)

    with httpx.Client(base_url=dev_stack.url, timeout=10) as http:
        ready = http.get("/readyz")
        page = http.get("/graphql", headers={"Accept": "text/html"})
        body = http.post("/graphql", json={"query": "{ platforms { slug name authType } }"}).json()
    process.send_signal(stop)
    code = process.wait(timeout=20)

    assert ready.json() == {"status": "ready", "dynamodb": "ok"}
    assert page.status_code == 200
    assert {"slug": "demo", "name": "Demo", "authType": "API_KEY"} in body["data"]["platforms"]
    assert code == exit_code
    assert children, "moto should run as a child process"
    assert _wait_gone(children) == []


@pytest.mark.slow
def test_dev_killed_outright_takes_moto_with_it(dev_stack: DevStack) -> None:
    process = dev_stack.process
    children = _children(process.pid)

    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)

    assert children
    assert _wait_gone(children) == []

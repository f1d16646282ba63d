"""The container image, without a Docker engine: what the Dockerfile copies and installs
exists, the runtime lock holds only runtime packages, and the installed wheel starts."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.conftest import Synth

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
RUNTIME_LOCK = ROOT / "requirements-runtime.lock"
FULL_LOCK = ROOT / "requirements.lock"
UV = ROOT / ".tools" / "bin" / "uv"
#: Packages of the dev and deploy groups that must never reach the image.
NOT_RUNTIME = ("aws-cdk-lib", "constructs", "jsii", "pytest", "ruff", "mypy", "import-linter")


def _instructions() -> Iterator[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            instruction, _, arguments = line.partition(" ")
            yield instruction.upper(), arguments.strip()


def _copies() -> list[tuple[list[str], str]]:
    """(sources, destination) of each COPY from the build context (not --from a stage)."""
    found = []
    for instruction, arguments in _instructions():
        words = shlex.split(arguments)
        if instruction == "COPY" and not any(w.startswith("--from") for w in words):
            found.append((words[:-1], words[-1]))
    return found


def _pins(lock: Path) -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", lock.read_text(), flags=re.M))


def test_every_copy_source_exists_and_reaches_the_build_context(synth: Synth) -> None:
    (asset,) = synth.outdir.glob("asset.*/Dockerfile")
    context = asset.parent
    copies = _copies()

    assert copies
    for sources, _ in copies:
        for source in sources:
            assert (ROOT / source).exists(), source
            # The staged asset is the build context CDK hands Docker (.dockerignore applied).
            assert (context / source).exists(), f"{source} is excluded by .dockerignore"


def test_install_steps_name_files_the_image_has() -> None:
    copied = {
        str(Path(destination) / Path(source).name) if destination.endswith("/") else destination
        for sources, destination in _copies()
        for source in sources
    }
    runs = " ".join(arguments for instruction, arguments in _instructions() if instruction == "RUN")
    named = set(re.findall(r"(?<![\w/])(/src/[\w./-]+)", runs))

    assert "/src/requirements-runtime.lock" in named
    assert named - {"/src"} <= copied | {str(Path(p).parent) for p in copied}
    assert "--require-hashes" in runs


def test_the_image_runs_as_a_non_root_user_and_serves_by_default() -> None:
    instructions = list(_instructions())
    user = [arguments for instruction, arguments in instructions if instruction == "USER"]
    stages = [arguments for instruction, arguments in instructions if instruction == "FROM"]

    assert len(stages) == 2
    assert all(s.startswith("python:3.11-slim") for s in stages)
    assert user
    assert not user[-1].startswith(("root", "0"))
    assert instructions[-1] == ("CMD", '["listbackup", "serve"]')


def test_the_runtime_lock_has_no_dev_or_deploy_packages_and_the_tested_pins() -> None:
    runtime, full = _pins(RUNTIME_LOCK), _pins(FULL_LOCK)

    assert runtime
    assert not [name for name in NOT_RUNTIME if name in runtime]
    assert {name: full.get(name) for name in runtime} == runtime
    assert all(name in full for name in ("aws-cdk-lib", "pytest"))


def _cli_has(command: str) -> bool:
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "listbackup", command, "--help"],
        capture_output=True,
        check=False,
        timeout=60,
    )
    return result.returncode == 0


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the Dockerfile builds, outside Docker: the runtime lock, then the wheel alone,
    in a clean virtualenv (uv's cache keeps this to a few seconds)."""
    assert UV.exists(), "run `make install` first"
    work = tmp_path_factory.mktemp("image")
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}

    def uv(*args: str) -> None:
        subprocess.run([str(UV), *args], check=True, env=env, capture_output=True, timeout=300)  # noqa: S603

    uv("build", "--wheel", "--quiet", "--out-dir", str(work / "dist"), str(ROOT))
    venv = work / "venv"
    uv("venv", "--quiet", "--python", "3.11", str(venv))
    python = str(venv / "bin" / "python")
    uv("pip", "sync", "--quiet", "--python", python, "--require-hashes", str(RUNTIME_LOCK))
    (wheel,) = (work / "dist").glob("listbackup-*.whl")
    uv("pip", "install", "--quiet", "--python", python, "--no-deps", str(wheel))
    return venv


def _start(venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed console script with no settings at all, from outside the repo."""
    return subprocess.run(  # noqa: S603 - the script we just installed
        [str(venv / "bin" / "listbackup"), *args],
        env={"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(venv)},
        cwd=venv,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_serve_starts_from_the_wheel_and_stops_on_missing_settings(image_venv: Path) -> None:
    result = _start(image_venv, "serve")

    assert result.returncode == 2
    assert result.stderr.startswith("listbackup: missing setting LISTBACKUP_STAGE")
    assert result.stderr.count("\n") == 1


@pytest.mark.skipif(
    not _cli_has("worker"), reason="`listbackup worker` does not exist yet; this turns on with it"
)
def test_worker_starts_from_the_wheel_and_stops_on_missing_settings(image_venv: Path) -> None:
    assert _start(image_venv, "worker", "--help").returncode == 0
    result = _start(image_venv, "worker")

    assert result.returncode == 2
    assert result.stderr.startswith("listbackup: missing setting LISTBACKUP_STAGE")
    assert result.stderr.count("\n") == 1

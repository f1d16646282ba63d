"""Start-up of the local stack: from spawning ``listbackup dev`` to its first ready answer.

    .venv/bin/python bench/dev_startup.py [--runs 5] [--compare DIR]

Each run starts ``listbackup dev`` on a free loopback port, as a developer does (its own
moto, no AWS or ListBackup variables of ours), polls ``GET /readyz`` until it answers 200,
records the wall time since the spawn, and stops the stack with SIGINT (Ctrl-C). One
warm-up run first: the figure is for a warm virtualenv and a warm page cache. It prints
min, median and max, and the time the stack reported in its own ready line.

On Linux it also prints the CPU time the stack had used by then (``listbackup dev`` and
its local AWS, user + system). On a machine whose cores are shared, wall time follows
the load of the moment; the CPU time hardly does, and tells whether a change removed
work or only moved it.

``--compare DIR`` runs another version of the package, in the same virtualenv, turn
about with this one, so that both see the same load: DIR holds a ``listbackup/``
directory, e.g. ``git archive <commit> listbackup | tar -x -C DIR``.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from listbackup.devstack import free_port

ROOT = Path(__file__).resolve().parents[1]
LISTBACKUP = ROOT / ".venv" / "bin" / "listbackup"
_TIMEOUT = 60.0
_READY_LINE = re.compile(r"ListBackup is ready in (\d+\.\d) s\.")


@dataclass
class Runs:
    name: str
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    reported: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"{self.name}: spawn to first 200 from /readyz over {len(self.walls)} runs: "
            f"min {min(self.walls):.2f} s, median {statistics.median(self.walls):.2f} s, "
            f"max {max(self.walls):.2f} s (the stack reported {', '.join(self.reported)} s)"
        ]
        if self.cpus:
            lines.append(
                f"{self.name}: CPU time until then (listbackup dev + local AWS): "
                f"min {min(self.cpus):.2f} s, median {statistics.median(self.cpus):.2f} s, "
                f"max {max(self.cpus):.2f} s"
            )
        return "\n".join(lines)


def _environment(tree: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LISTBACKUP_"))}
    # Measure a developer's machine: bytecode is cached as `make install` leaves it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), env.get("PYTHONPATH")]))
    return env


def _command() -> list[str]:
    if LISTBACKUP.exists():
        return [str(LISTBACKUP), "dev"]
    return [sys.executable, "-m", "listbackup", "dev"]


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process and its children so far (Linux), or None."""
    proc = Path("/proc")
    try:
        stats = {int(p.parent.name): p.read_text() for p in proc.glob("[0-9]*/stat")}
    except OSError:
        return None
    family = {pid} | {
        child for child, stat in stats.items() if int(stat.rsplit(")", 1)[1].split()[1]) == pid
    }
    ticks = 0
    for member in family:
        if member not in stats:
            return None
        fields = stats[member].rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def one_run(tree: Path | None = None) -> tuple[float, float | None, str]:
    """Seconds from spawn to the first 200 from /readyz, the CPU seconds the stack used
    until then, and its ready line; ``tree`` runs the package found there."""
    port = free_port("127.0.0.1")
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - our own command
        [*_command(), "--port", str(port)],
        env=_environment(tree),
        # Not the repository's root: there the checkout (sys.path's first entry for the
        # local AWS's `python -m`) would shadow the package under comparison.
        cwd=ROOT / "bench",
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=2) as http:
            while True:
                if time.perf_counter() - started > _TIMEOUT:
                    raise SystemExit(f"not ready within {_TIMEOUT:.0f} s")
                if process.poll() is not None:
                    raise SystemExit(f"listbackup dev exited with {process.returncode}")
                try:
                    if http.get("/readyz").status_code == 200:
                        elapsed = time.perf_counter() - started
                        cpu = _cpu_seconds(process.pid)
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.02)
        assert process.stdout is not None
        ready_line = process.stdout.readline().strip()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
    return elapsed, cpu, ready_line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--compare", type=Path, metavar="DIR", help="a tree to run turn about")
    args = parser.parse_args()
    if args.compare is not None and not (args.compare / "listbackup").is_dir():
        parser.error(f"{args.compare} holds no listbackup/ directory")

    variants: list[tuple[Runs, Path | None]] = [(Runs("this tree"), None)]
    if args.compare is not None:
        variants.append((Runs(str(args.compare)), args.compare.resolve()))
    for _, tree in variants:
        one_run(tree)  # warm-up: page cache, bytecode of our own modules
    for run in range(1, args.runs + 1):
        # Alternate which goes first, so neither always follows the other's shutdown.
        for runs, tree in variants if run % 2 else variants[::-1]:
            wall, cpu, line = one_run(tree)
            runs.walls.append(wall)
            if cpu is not None:
                runs.cpus.append(cpu)
            found = _READY_LINE.search(line)
            runs.reported.append(found.group(1) if found else "?")
            used = "" if cpu is None else f", {cpu:.2f} s of CPU"
            print(f"{runs.name}, run {run}: ready after {wall:.2f} s{used}; {line}", flush=True)
    for runs, _ in variants:
        print(runs.summary())


if __name__ == "__main__":
    main()

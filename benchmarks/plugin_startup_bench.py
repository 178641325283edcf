"""What the ``invoicebox_flow`` pytest plugin adds to the start-up of an unrelated test run.

A one-test project (``def test_one(): assert 1 + 1 == 2``) runs ``python -m pytest`` again and
again, in rounds of three set-ups (shuffled within each round); each run's wall time and CPU
time (user + system of the child: less disturbed by other load on the machine) are taken:

* without the plugin (``-p no:invoicebox_flow``) — the baseline;
* with the plugin, as installed (it registers its fixtures and the step library);
* the sandbox imported at start-up, as the 0.1 plugin did (``-p no:invoicebox_flow -p
  invoicebox_flow.sandbox.pytest_plugin``: the compatibility module imports the sandbox package).

Twice: with byte-code caching (Python's default; the caches go to a temporary
``PYTHONPYCACHEPREFIX``, warmed by a first run) and with ``PYTHONDONTWRITEBYTECODE=1``, where
every run compiles the modules again and pytest rewrites the asserts of the plugin's modules
(it does so for every plugin installed through an entry point). Target: the plugin adds < 50 ms
of CPU time with byte-code caching, judged on the two estimates least disturbed by other load
on the machine: min against min, and the median of the per-round differences. The import time
of the plugin's own modules (``python -X importtime``) is printed too::

    .venv/bin/python benchmarks/plugin_startup_bench.py            # --runs 15
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SETUPS = {
    "without the plugin (-p no:invoicebox_flow)": ["-p", "no:invoicebox_flow"],
    "with the plugin": [],
    "sandbox imported at start-up (as in 0.1)": ["-p", "no:invoicebox_flow", "-p", "invoicebox_flow.sandbox.pytest_plugin"],
}
BASELINE, PLUGIN = list(SETUPS)[:2]
TARGET_MS = 50.0


def environments(cache: Path) -> dict[str, dict[str, str]]:
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cached["PYTHONPYCACHEPREFIX"] = str(cache)
    uncached = {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"}
    uncached["PYTHONDONTWRITEBYTECODE"] = "1"
    return {"byte-code cached (Python's default)": cached, "PYTHONDONTWRITEBYTECODE=1": uncached}


def one_run(project: Path, extra: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU milliseconds of one pytest run of the project."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra, "test_one.py"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, check=False)
    wall = (time.perf_counter() - started) * 1000.0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000.0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return wall, cpu


def plugin_import_ms(env: dict[str, str]) -> float:
    """Cumulative import time of the plugin and the modules it registers, pytest and pytest-bdd
    already imported (as they are when pytest loads plugins)."""
    code = ("import importlib, pytest, pytest_bdd\n"
            "plugin = importlib.import_module('invoicebox_flow.testing.plugin')\n"
            "[importlib.import_module(m) for m in plugin.LIBRARY]\n")
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env, capture_output=True, text=True,
                          check=True)
    total = 0
    for line in done.stderr.splitlines():  # "import time: self | cumulative | name", nesting by indent
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)", line)
        if match and not match.group(2) and match.group(3).startswith("invoicebox_flow"):
            total += int(match.group(1))
    return total / 1000.0


def _row(name: str, values: list[float]) -> str:
    return f"  {name:<44} {min(values):8.1f} {statistics.median(values):8.1f} {max(values):8.1f}"


def report(mode: str, wall: dict[str, list[float]], cpu: dict[str, list[float]], env: dict[str, str]) -> None:
    print(f"\n{mode}")
    for title, table in (("wall time", wall), ("CPU time (user + system)", cpu)):
        print(f"  {title:<44} {'min':>8} {'median':>8} {'max':>8}")
        for name, values in table.items():
            print(_row(name, values))
    base, plugin = cpu[BASELINE], cpu[PLUGIN]
    added_median = statistics.median(plugin) - statistics.median(base)
    added_min = min(plugin) - min(base)
    paired = statistics.median(p - b for p, b in zip(plugin, base, strict=True))  # same round, same load
    verdict = "within" if max(paired, added_min) < TARGET_MS else "OVER"
    print(f"  added by the plugin (CPU): {added_median:+.1f} ms median, {added_min:+.1f} ms min, {paired:+.1f} ms "
          f"median of the per-round differences — {verdict} the {TARGET_MS:.0f} ms target "
          f"(the baseline's own median - min: {statistics.median(base) - min(base):.1f} ms)")
    imports = sorted(plugin_import_ms(env) for _ in range(5))
    print(f"  import time of the plugin's modules (-X importtime): min {imports[0]:.1f} ms, "
          f"median {statistics.median(imports):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per set-up and mode (at least 5)")
    args = parser.parse_args()
    runs = max(args.runs, 5)
    with tempfile.TemporaryDirectory() as folder:
        project, cache = Path(folder) / "project", Path(folder) / "pycache"
        project.mkdir()
        (project / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n", encoding="utf-8")
        print(f"one-test pytest run, {runs} runs per set-up, ms (python {sys.version.split()[0]}, "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")
        shuffler = random.Random(20240601)
        for mode, env in environments(cache).items():
            for extra in SETUPS.values():  # warm the byte-code caches and the file system cache
                one_run(project, extra, env)
            wall: dict[str, list[float]] = {name: [] for name in SETUPS}
            cpu: dict[str, list[float]] = {name: [] for name in SETUPS}
            for _ in range(runs):
                # every set-up once per round (drifts hit them alike), in a shuffled order: a run
                # straight after another is measurably slower, whichever set-up it is
                for name in shuffler.sample(list(SETUPS), len(SETUPS)):
                    w, c = one_run(project, SETUPS[name], env)
                    wall[name].append(w)
                    cpu[name].append(c)
            report(mode, wall, cpu, env)


if __name__ == "__main__":
    main()

"""What the ``invoicebox_flow`` pytest plugin adds to the start-up of an unrelated test run.

A one-test project (``def test_one(): assert 1 + 1 == 2``) runs ``python -m pytest`` again and
again, round-robin in three set-ups; each run's wall time and CPU time (user + system of the
child: less disturbed by other load on the machine) are taken:

* without the plugin (``-p no:invoicebox_flow``) — the baseline;
* with the plugin, as installed (it registers its fixtures and the step library);
* the sandbox imported at start-up, as the 0.1 plugin did (``-p no:invoicebox_flow -p
  invoicebox_flow.sandbox.pytest_plugin``: the compatibility module imports the sandbox package).

Target: the plugin adds < 50 ms (median against median, and min against min, CPU time). The
import time of the plugin's own modules (``python -X importtime``) is printed too::

    .venv/bin/python benchmarks/plugin_startup_bench.py            # --runs 15
"""

from __future__ import annotations

import argparse
import os
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
TARGET_MS = 50.0


def one_run(project: Path, extra: list[str]) -> tuple[float, float]:
    """Wall and CPU milliseconds of one pytest run of the project."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra, "test_one.py"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)
    wall = (time.perf_counter() - started) * 1000.0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000.0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return wall, cpu


def plugin_import_ms() -> float:
    """Cumulative import time of the plugin and the modules it registers, pytest and pytest-bdd
    already imported (as they are when pytest loads plugins)."""
    code = ("import importlib, pytest, pytest_bdd\n"
            "plugin = importlib.import_module('invoicebox_flow.testing.plugin')\n"
            "[importlib.import_module(m) for m in plugin.pytest_plugins]\n")
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                          check=True)
    total = 0
    for line in done.stderr.splitlines():  # "import time: self | cumulative | name", nesting by indent
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)", line)
        if match and not match.group(2) and match.group(3).startswith("invoicebox_flow"):
            total += int(match.group(1))
    return total / 1000.0


def _row(name: str, values: list[float]) -> str:
    return f"{name:<46} {min(values):8.1f} {statistics.median(values):8.1f} {max(values):8.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per set-up (at least 5)")
    args = parser.parse_args()
    runs = max(args.runs, 5)
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        (project / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n", encoding="utf-8")
        for extra in SETUPS.values():  # warm the file system cache and the byte-code
            one_run(project, extra)
        wall: dict[str, list[float]] = {name: [] for name in SETUPS}
        cpu: dict[str, list[float]] = {name: [] for name in SETUPS}
        for _ in range(runs):
            for name, extra in SETUPS.items():  # round-robin, so that drifts hit every set-up alike
                w, c = one_run(project, extra)
                wall[name].append(w)
                cpu[name].append(c)
    print(f"one-test pytest run, {runs} runs per set-up, ms (python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")
    for title, table in (("wall time", wall), ("CPU time (user + system)", cpu)):
        print(f"\n{title:<46} {'min':>8} {'median':>8} {'max':>8}")
        for name, values in table.items():
            print(_row(name, values))
    base, plugin = cpu[next(iter(SETUPS))], cpu["with the plugin"]
    added_median = statistics.median(plugin) - statistics.median(base)
    added_min = min(plugin) - min(base)
    paired = statistics.median(p - b for p, b in zip(plugin, base, strict=True))  # same round, same load
    spread = statistics.median(base) - min(base)
    verdict = "within" if max(added_median, added_min) < TARGET_MS else "OVER"
    print(f"\nadded by the plugin (CPU): {added_median:+.1f} ms median, {added_min:+.1f} ms min, "
          f"{paired:+.1f} ms median of the paired differences ({verdict} the {TARGET_MS:.0f} ms target; "
          f"the baseline's own median - min is {spread:.1f} ms)")
    imports = sorted(plugin_import_ms() for _ in range(runs))
    print(f"import time of the plugin's modules (-X importtime): min {imports[0]:.1f} ms, "
          f"median {statistics.median(imports):.1f} ms")


if __name__ == "__main__":
    main()

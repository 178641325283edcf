"""What invoicebox-flow costs a shop before it does anything: import time and installed packages.

    python benchmarks/footprint_bench.py [--runs 7] [--no-install]

1. Import time, each in a fresh interpreter (``--runs`` times; min / median / max): ``import
   invoicebox_flow`` next to ``import requests`` measured in the same run (what stripe-python
   and the YooKassa SDK need alone). Target: ≤ 2× ``import requests``. For context, the cost
   of the first names a shop uses: the client only, then the engine with its store.
2. Install footprint: the distributions ``pip install`` would add to an empty environment for
   the core and for each extra, resolved with ``pip install --dry-run --ignore-installed
   --report`` (nothing is installed), next to ``requests`` alone.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
TARGET = 2.0  # × import requests
EXTRAS = ("sandbox", "server", "postgres", "svg", "all", "test")

IMPORTS = {
    "import requests (baseline)": "import requests",
    "import invoicebox_flow": "import invoicebox_flow",
    "… then InvoiceboxClient": "import invoicebox_flow; invoicebox_flow.InvoiceboxClient",
    "… then OrderFlow, Store": "import invoicebox_flow; invoicebox_flow.OrderFlow; invoicebox_flow.Store",
}


def import_seconds(statement: str) -> float:
    """Seconds ``statement`` takes in a fresh interpreter (start-up itself not counted)."""
    code = f"import time\nstart = time.perf_counter()\n{statement}\nprint(time.perf_counter() - start)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=PROJECT)
    return float(out.stdout.strip())


def resolved(requirement: str) -> list[str]:
    """The distributions ``pip install requirement`` would install into an empty environment."""
    out = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                          "--report", "-", requirement], check=True, capture_output=True, text=True, cwd=PROJECT)
    report = json.loads(out.stdout)
    return sorted(item["metadata"]["name"] for item in report["install"])


def print_imports(runs: int) -> None:
    print(f"import time, {runs} fresh interpreters each (ms)       min   median      max")
    medians = {}
    for label, statement in IMPORTS.items():
        times = sorted(import_seconds(statement) * 1000 for _ in range(runs))
        medians[label] = statistics.median(times)
        print(f"  {label:<44} {times[0]:7.1f} {medians[label]:8.1f} {times[-1]:8.1f}")
    ratio = medians["import invoicebox_flow"] / medians["import requests (baseline)"]
    print(f"  import invoicebox_flow / import requests: {ratio:.2f}× (target ≤ {TARGET:g}×: "
          f"{'met' if ratio <= TARGET else 'NOT met'})")


def print_installs() -> None:
    print("\npackages an empty environment gets (pip install --dry-run --ignore-installed)")
    baseline = resolved("requests")
    print(f"  requests (baseline)        {len(baseline):3d}  {', '.join(baseline)}")
    core = resolved(str(PROJECT))
    print(f"  invoicebox-flow            {len(core):3d}  {', '.join(core)}")
    for extra in EXTRAS:
        names = resolved(f"{PROJECT}[{extra}]")
        added = [name for name in names if name not in core]
        print(f"  invoicebox-flow[{extra}]{' ' * (10 - len(extra))}{len(names):3d}  +{len(added)}: {', '.join(added)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per import (≥ 5)")
    parser.add_argument("--no-install", action="store_true", help="skip the install footprint (needs the index)")
    args = parser.parse_args()
    print_imports(max(args.runs, 5))
    if not args.no_install:
        print_installs()


if __name__ == "__main__":
    main()

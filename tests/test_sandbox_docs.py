"""docs/sandbox.md stays true: its example runs against the sandbox, and it names every option
of ``Sandbox(...)`` and every control of ``Sandbox`` and ``SandboxInspector``."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from invoicebox_flow.sandbox import Sandbox, SandboxInspector

DOC = (Path(__file__).resolve().parent.parent / "docs" / "sandbox.md").read_text(encoding="utf-8")
LIFECYCLE = {"start", "stop", "close"}


def test_the_example_runs():
    [example] = re.findall(r"^```python\n(.*?)^```", DOC, flags=re.M | re.S)
    exec(compile(example, "docs/sandbox.md", "exec"), {"__name__": "docs_sandbox"})


def test_every_option_is_documented():
    options = [name for name in inspect.signature(Sandbox).parameters]
    assert [name for name in options if f"`{name}`" not in DOC] == []


def test_every_control_is_documented():
    for cls in (Sandbox, SandboxInspector):
        public = [name for name, member in vars(cls).items()
                  if callable(member) and not name.startswith("_") and name not in LIFECYCLE]
        assert [name for name in public if not re.search(rf"`(inspect\.)?{name}\(", DOC)] == [], cls.__name__

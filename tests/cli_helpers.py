"""Running the ``invoicebox-flow`` console script as a process, the way a person runs it.

The console script of the virtual environment is started with a clean environment (no
``INVOICEBOX_*`` variables unless a test sets them). Long-running commands (``sandbox``,
``webhook serve``) are started, read until they print where they listen, and terminated.
"""

from __future__ import annotations

import os
import pty
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

CLI = Path(sys.executable).parent / "invoicebox-flow"
REPO = Path(__file__).resolve().parent.parent
RUN_TIMEOUT = 60  # a safety net against a hung process, not a speed check
START_TIMEOUT = 20


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without ``INVOICEBOX_*`` settings, 80 columns wide, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVOICEBOX_")}
    env.update(PYTHONIOENCODING="utf-8", NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
               COLUMNS="80")
    env.update(extra)
    return env


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
        prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """The console script with ``args``; ``prefix`` runs it with another interpreter command
    (``tests/environments.py``: an environment without some extras)."""
    return subprocess.run([*prefix, str(CLI), *args], check=False, capture_output=True, text=True, encoding="utf-8",
                          env=env or clean_env(), cwd=cwd, timeout=RUN_TIMEOUT)


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def assert_one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0, result.stdout
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Running:
    """A long-running command: its stdout lines are read in a thread, its stderr goes to a file."""

    def __init__(self, args: list[str], env: dict[str, str], stderr_path: Path, cwd: Path | None = None):
        self.stderr_path = stderr_path
        self._stderr = stderr_path.open("w", encoding="utf-8")
        self.proc = subprocess.Popen([str(CLI), *args], stdout=subprocess.PIPE, stderr=self._stderr, text=True,
                                     encoding="utf-8", env=env, cwd=cwd)
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str) -> re.Match:
        """The first stdout line matching ``pattern``; fails if the process exits or stays silent."""
        seen: list[str] = []
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None and self._lines.empty():
                    break
                continue
            seen.append(line)
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(f"no line matching {pattern!r}; stdout {seen!r}; "
                             f"stderr {self.stderr_path.read_text(encoding='utf-8')!r}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()


needs_cli = pytest.mark.skipif(not CLI.exists(), reason="the invoicebox-flow console script is not installed")


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> tuple[str, dict[str, str]]:
    """A store filled by one ``invoicebox-flow demo`` run (named by $INVOICEBOX_FLOW_DB, as a
    deployment would): its URL and ``{label: order id}``."""
    folder = tmp_path_factory.mktemp("demo")
    db = f"sqlite:///{folder / 'store.db'}"
    result = run("demo", "--trace-dir", str(folder / "diagrams"), cwd=folder, env=clean_env(INVOICEBOX_FLOW_DB=db))
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (folder / "invoicebox-flow.db").exists()  # the variable was honoured, not the default
    orders = {label: order_id for order_id, label in
              re.findall(r"^order (\S+) — ([^:]+):", result.stdout, flags=re.MULTILINE)}
    assert len(orders) == 4, result.stdout
    return db, orders


def run_with_terminal_stderr(command: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run ``command`` with stderr on a pseudo-terminal (as in a person's shell) and stdout on a
    pipe; returns the exit status, stdout, and what the terminal showed."""
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=terminal, text=True, env=env)
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the child closed the terminal (Linux reports EIO)
                break
            if not chunk:
                break
            shown += chunk
        stdout, _ = proc.communicate(timeout=RUN_TIMEOUT)
    finally:
        os.close(controller)
    return proc.returncode, stdout, shown.decode("utf-8", errors="replace")

"""The two other ways to start the sandbox: the pytest plugin's fixtures and ``serve()`` from
a shell. Both run in a child process, as an integrator would use them. The fixtures come from
the ``invoicebox_flow`` plugin, and from its former home ``invoicebox_flow.sandbox.pytest_plugin``
for suites that still load that by name."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests

import invoicebox_flow

PACKAGE_ROOT = str(Path(invoicebox_flow.__file__).resolve().parent.parent)


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_ROOT, env.get("PYTHONPATH")]))
    return env


@pytest.mark.parametrize("plugin", ["invoicebox_flow.testing.plugin", "invoicebox_flow.sandbox.pytest_plugin"])
def test_the_pytest_plugin_provides_the_fixtures(tmp_path, plugin):
    (tmp_path / "test_shop.py").write_text(textwrap.dedent('''
        import pytest, requests

        def auth(ib):
            return requests.get(ib.url + "/v3/security/api/auth/auth",
                                headers={"Authorization": "Bearer " + ib.token})

        def check_auth(ib):
            return auth(ib).json()["data"]["userId"]

        def test_function_sandbox(invoicebox_sandbox, invoicebox_buyer):
            assert check_auth(invoicebox_sandbox) is not None
            assert invoicebox_sandbox.orders() == []

        @pytest.mark.invoicebox_sandbox(rate_limit=1, merchant_id="ffffffff-ffff-ffff-ffff-ffffffffffff")
        def test_marker_options(invoicebox_sandbox):
            assert invoicebox_sandbox.merchant_id == "ffffffff-ffff-ffff-ffff-ffffffffffff"
            check_auth(invoicebox_sandbox)
            assert auth(invoicebox_sandbox).status_code == 429

        def test_session_sandbox_is_shared(invoicebox_sandbox_session, request):
            invoicebox_sandbox_session.reset()
            assert check_auth(invoicebox_sandbox_session) is not None

        def test_session_sandbox_again(invoicebox_sandbox_session):
            assert len(invoicebox_sandbox_session.requests()) == 1
    '''))
    # Load the plugin by module name; block the entry point in case the package is installed.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:invoicebox_flow",
         "-p", plugin, "-W", "error::pytest.PytestUnknownMarkWarning", str(tmp_path / "test_shop.py")],
        cwd=tmp_path, env=child_env(), capture_output=True, text=True, timeout=120, check=False,
    )
    assert "4 passed" in result.stdout, result.stdout + result.stderr


def test_serve_prints_how_to_reach_it_and_stops_on_ctrl_c():
    process = subprocess.Popen(
        [sys.executable, "-m", "invoicebox_flow.sandbox.server", "--port", "0", "--token", "local-token-1"],
        env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        lines = dict(process.stdout.readline().strip().split(": ", 1) for _ in range(4))
        assert set(lines) == {"url", "token", "notification_key", "merchant_id"}
        assert lines["token"] == "local-token-1" and lines["url"].startswith("http://127.0.0.1:")
        response = requests.get(lines["url"] + "/v3/security/api/auth/auth",
                                headers={"Authorization": "Bearer local-token-1"}, timeout=5)
        assert response.json()["data"]["userId"] is not None
        info = requests.get(lines["url"] + "/_sandbox/info", timeout=5).json()["data"]
        assert info["merchantId"] == lines["merchant_id"]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

"""``python -m invoicebox_flow.sandbox.server`` takes the sandbox's options as flags."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])


def test_the_server_flags_set_the_sandbox_options():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_ROOT, env.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, "-m", "invoicebox_flow.sandbox.server", "--port", "0", "--no-retry-after",
         "--notification-shape", "production", "--status-notification", "canceled", "--status-notification",
         "expired", "--refund-payout-delay", "172800", "--auto-shipment", "--payment-instrument", "card"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip().removeprefix("url: ")
        info = requests.get(url + "/_sandbox/info", timeout=5).json()["data"]
        assert (info["rateLimitRetryAfter"], info["notificationShape"], info["statusNotifications"],
                info["refundPayoutDelay"], info["autoShipment"], info["paymentInstrument"]) == \
            (False, "production", ["canceled", "expired"], 172800, True, "card")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

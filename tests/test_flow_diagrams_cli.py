"""``invoicebox-flow diagrams --definition MODULE:ATTR --out DIR``: an integrator's own flow's
diagrams, generated into and checked in their own repository."""

from __future__ import annotations

import os

from cli_helpers import REPO, run


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVOICEBOX_")}
    return {**env, "PYTHONPATH": str(REPO / "tests"), **extra}


def test_generate_check_then_a_changed_definition_names_the_stale_page(tmp_path):
    out = tmp_path / "docs" / "flow-diagrams"
    made = run("diagrams", "--definition", "helpers:packing_flow", "--out", str(out), env=_env())
    assert made.returncode == 0, made.stderr
    written = {line for line in made.stdout.splitlines()}
    assert {"flow-diagrams/shop-private-shipment.md", "flow-diagrams/shop-private-lifecycle.md",
            "flow-diagrams/README.md"} <= written
    lifecycle = (out / "shop-private-lifecycle.md").read_text(encoding="utf-8")
    assert 'state "упакован" as packed' in lifecycle and 'state "доставлен" as delivered' in lifecycle
    shipment = (out / "shop-private-shipment.md").read_text(encoding="utf-8")
    assert "Магазин->>Покупатель: Заказ собран и упакован" in shipment

    clean = run("diagrams", "--definition", "helpers:packing_flow", "--out", str(out), "--check", env=_env())
    assert clean.returncode == 0, clean.stderr
    assert "flow-diagrams is up to date" in clean.stdout

    # the documented flow is another definition: its lifecycle pages differ, the shop's are extra
    changed = run("diagrams", "--out", str(out), "--check", env=_env())
    assert changed.returncode == 1
    assert "flow-diagrams/shop-private-shipment.md: extra (nothing generates it)" in changed.stderr.splitlines()
    assert "flow-diagrams/private-lifecycle.md: missing" in changed.stderr.splitlines()


def test_a_changed_extension_names_exactly_its_pages(tmp_path):
    out = tmp_path / "flow"
    (tmp_path / "myshop.py").write_text(
        "from helpers import packing_flow\n"
        "def renamed():\n"
        "    from invoicebox_flow.flows import BUYER, SHOP, Message\n"
        "    return packing_flow().add_transition('repack', 'packed', 'packed',\n"
        "                                         message=Message(SHOP, BUYER, 'Заказ переупакован'))\n",
        encoding="utf-8")
    env = _env(PYTHONPATH=f"{tmp_path}{os.pathsep}{REPO / 'tests'}")
    assert run("diagrams", "--definition", "helpers:packing_flow", "--out", str(out), env=env).returncode == 0
    stale = run("diagrams", "--definition", "myshop:renamed", "--out", str(out), "--check", env=env)
    assert stale.returncode == 1
    named = dict(line.split(": ", 1) for line in stale.stderr.splitlines()[:-1])
    # the new step is drawn in the payment phase: its extended pages are new, the lifecycles and index change
    assert named == {"flow/shop-private-payment.md": "missing", "flow/shop-legal-payment.md": "missing",
                     "flow/shop-private-lifecycle.md": "stale", "flow/shop-legal-lifecycle.md": "stale",
                     "flow/README.md": "stale"}
    assert stale.stderr.splitlines()[-1].startswith("flow/ is out of date (2 missing, 3 stale)")

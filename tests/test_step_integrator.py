"""A scenario an integrator copies from ``features/`` runs unchanged in their repository.

The project below is what an integrator's repository holds: two of this repository's feature
files, copied as they are, a test module that only calls ``scenarios(...)``, and a
``conftest.py`` that only says how to build *their* shop. It runs in its own interpreter with
nothing of ``tests/`` importable; the steps, the sandbox and the buyer come from the installed
``invoicebox_flow`` plugin.
"""

from __future__ import annotations

import shutil
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from pytest_bdd.feature import get_features

pytest_plugins = ["pytester"]

FEATURES = Path(__file__).resolve().parent.parent / "features"
COPIED = ("private-payment.feature", "refund-limits.feature")

INTEGRATOR_CONFTEST = '''
from datetime import timedelta

import pytest

from invoicebox_flow import OrderFlow


@pytest.fixture
def invoicebox_flow_factory():
    """My shop: my URLs, my order lifetime, my fulfilment policy unless a scenario says otherwise."""
    def my_shop(parts):
        return OrderFlow(parts.client, parts.store, merchant_id=parts.merchant_id,
                         notification_key=parts.notification_key, notification_url=parts.notification_url,
                         success_url="https://my-shop.example/thanks", fail_url="https://my-shop.example/sorry",
                         order_lifetime=timedelta(days=2), actor="my-shop",
                         can_fulfil=parts.can_fulfil or (lambda order: True))
    return my_shop
'''


def scenario_count(folder: Path) -> int:
    """Test items the feature files define: one per scenario, one per outline example."""
    return sum(sum(len(list(e.as_contexts())) for e in template.examples) or 1
               for feature in get_features([str(folder)]) for template in feature.scenarios.values())


def test_the_plugin_is_installed_under_its_entry_point():
    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins.get("invoicebox_flow") == "invoicebox_flow.testing.plugin", (
        "the package's pytest11 entry point is missing or stale: reinstall it (pip install -e .)")


def test_two_of_our_feature_files_run_unchanged_in_an_integrators_project(pytester: pytest.Pytester):
    specs = pytester.path / "specs"
    specs.mkdir()
    for name in COPIED:
        shutil.copy(FEATURES / name, specs / name)
    pytester.makeconftest(INTEGRATOR_CONFTEST)
    pytester.makepyfile(test_my_shop=textwrap.dedent('''
        from pytest_bdd import scenarios

        scenarios("specs")
    '''))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--flow-coverage", timeout=600)
    result.assert_outcomes(passed=scenario_count(specs))
    result.stdout.fnmatch_lines(["*invoicebox-flow coverage*", "transitions exercised: * of *",
                                 "documented steps exercised: * of *"])
    assert "tests" not in {p.name for p in pytester.path.iterdir()}  # nothing of ours but the features

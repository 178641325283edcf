"""The executable specs in ``features/``: every scenario runs on the public step library
(:mod:`invoicebox_flow.testing.steps`, registered by the package's pytest plugin) against the
package's own :class:`~invoicebox_flow.OrderFlow` — exactly as in an integrator's repository,
where only the ``invoicebox_flow_factory`` fixture differs.

Each scenario drives the real engine against a live sandbox over HTTP: the simulated buyer
pays or declines on the payment page, the sandbox delivers its signed notification to the
shop's webhook served on loopback, and the ``Тогда`` steps look at what really happened. The
plugin traces every scenario for ``test_trace_matches_definitions.py``.
"""

import pytest
from pytest_bdd import scenarios

pytestmark = pytest.mark.xdist_group("specs")  # with their coverage checks: one worker runs both (conftest.py)

scenarios(".")

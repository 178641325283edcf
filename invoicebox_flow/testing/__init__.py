"""Test your shop with Gherkin: the step library, fixtures and pytest plugin of invoicebox-flow.

Installed with the package, the ``invoicebox_flow`` pytest plugin gives every test suite:

* the fixtures of :mod:`invoicebox_flow.testing.fixtures` — a local InvoiceBox
  (``invoicebox_sandbox``, ``invoicebox_sandbox_session``), a buyer, and what the steps run on;
* with pytest-bdd, the Russian and English steps of :mod:`invoicebox_flow.testing.steps`
  (catalogue: ``docs/steps.md``), so that ``scenarios("features")`` runs this repository's
  feature files, or yours, against *your* shop: override ``invoicebox_flow_factory``
  (:class:`ShopParts` → your :class:`~invoicebox_flow.OrderFlow`);
* ``--trace-diagrams DIR``, ``--flow-coverage`` and ``--flow-coverage-fail-under=PCT``.

Importing this package imports no sandbox, store or engine. The rest of the API lives in its
modules: :mod:`.world` (``InvoiceboxWorld``, what the steps share), :mod:`.recording`
(``FlowRecord``), :mod:`.coverage` (``flow_elements``, ``coverage_of``), :mod:`.catalogue`
(the step catalogue).
"""

from .shop import AppFactory, FlowFactory, ShopParts, default_flow_factory, default_shop_app

__all__ = ["AppFactory", "FlowFactory", "ShopParts", "default_flow_factory", "default_shop_app"]

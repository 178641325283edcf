"""The public Gherkin step library, in Russian (``# language: ru``) and English.

Every step works on the ``invoicebox_world`` fixture (:class:`~invoicebox_flow.testing.world.InvoiceboxWorld`)
and is registered for pytest-bdd by the ``invoicebox_flow`` pytest plugin, which lists
:data:`MODULES`. The modules import nothing heavy: the sandbox, the store and the engine load
when a scenario first uses the world. ``docs/steps.md`` is generated from these modules
(``python -m invoicebox_flow.testing.catalogue``).

A step of yours with the same text, in your ``conftest.py``, takes precedence over the library's.
"""

from __future__ import annotations

MODULES = (
    "invoicebox_flow.testing.steps.orders",
    "invoicebox_flow.testing.steps.setup",
    "invoicebox_flow.testing.steps.payment",
    "invoicebox_flow.testing.steps.notifications",
    "invoicebox_flow.testing.steps.fulfilment",
    "invoicebox_flow.testing.steps.shop_checks",
    "invoicebox_flow.testing.steps.invoicebox_checks",
    "invoicebox_flow.testing.steps.real_world",
    "invoicebox_flow.testing.steps.reconciliation",
)

"""The order states a command accepts (``orders list --state``), from the flow definition."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..flows import FlowDefinition


def known_states(definition: FlowDefinition | None = None) -> tuple[str, ...]:
    """Every state an order of ``definition`` (the documented flow by default) can be in."""
    from ..flows import DOCUMENTED_FLOW

    return (definition or DOCUMENTED_FLOW).state_names

"""The order states a command accepts (``orders list --state``), from the lifecycle definition."""

from __future__ import annotations


def known_states() -> tuple[str, ...]:
    """Every state an order can be in, in lifecycle order."""
    from ..flows import State

    return tuple(state.value for state in State)

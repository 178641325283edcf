"""The six documented sequences (data) and the lifecycle machines built from them."""

from .lifecycle import (
    FINAL_STATES,
    TRANSITIONS,
    State,
    Transition,
    allowed_triggers,
    lifecycle_machine,
    sequence_machine,
    transitions_for,
)
from .sequences import SEQUENCES, sequence, sequences_of
from .steps import BUYER, CASH_REGISTER, INVOICEBOX, SHOP, Arrow, Effect, Phase, Sequence, Step, StepKind, Variant

__all__ = [
    "BUYER", "CASH_REGISTER", "FINAL_STATES", "INVOICEBOX", "SEQUENCES", "SHOP", "TRANSITIONS",
    "Arrow", "Effect", "Phase", "Sequence", "State", "Step", "StepKind", "Transition", "Variant",
    "allowed_triggers", "lifecycle_machine", "sequence", "sequence_machine", "sequences_of", "transitions_for",
]

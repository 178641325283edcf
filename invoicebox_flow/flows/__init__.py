"""The flow definition: the six documented sequences (data) and the lifecycles built from them.

* :mod:`.steps` — the vocabulary (steps, sequences, transitions, messages);
* :mod:`.sequences` — the six documented sequences, each step with the transitions it declares;
* :mod:`.states` — the lifecycle's states, their labels and traits;
* :mod:`.lifecycle` — the undrawn paths and :data:`DOCUMENTED_FLOW`;
* :mod:`.definition` — :class:`FlowDefinition` and :class:`Lifecycle`, the values the engine is given;
* :mod:`.checks` — what every definition must satisfy; :mod:`.extended` — an extended flow's diagrams;
* :mod:`.machines` — the `transitions` machines, one per lifecycle.
"""

from .definition import CallTriggers, FlowDefinition, Lifecycle
from .extended import extended_sequence
from .lifecycle import DOCUMENTED_FLOW, UNDRAWN, build_lifecycle, documented_flow, documented_transitions
from .machines import lifecycle_machine, phase_machine, phase_transitions
from .sequences import SEQUENCES, sequence, sequences_of
from .states import DOCUMENTED_STATES, State, StateSpec
from .steps import (
    BUYER,
    CASH_REGISTER,
    INVOICEBOX,
    RESUME,
    SHOP,
    Arrow,
    CallRole,
    Effect,
    Message,
    OneOf,
    Origin,
    Phase,
    Resume,
    Sequence,
    Step,
    StepKind,
    Transition,
    Variant,
)
from .triggers import Trigger

__all__ = [
    "BUYER", "CASH_REGISTER", "DOCUMENTED_FLOW", "DOCUMENTED_STATES", "INVOICEBOX", "RESUME", "SEQUENCES", "SHOP",
    "UNDRAWN", "Arrow", "CallRole", "CallTriggers", "Effect", "FlowDefinition", "Lifecycle", "Message", "OneOf",
    "Origin", "Phase", "Resume", "Sequence", "State", "StateSpec", "Step", "StepKind", "Transition", "Trigger", "Variant",
    "build_lifecycle", "documented_flow", "documented_transitions", "extended_sequence", "lifecycle_machine", "phase_machine",
    "phase_transitions", "sequence", "sequences_of",
]

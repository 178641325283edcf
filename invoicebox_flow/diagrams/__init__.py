"""Diagrams that cannot lie: Mermaid drawn from the definitions, checked for staleness.

- :func:`render_sequence` — the documented ``sequenceDiagram`` of a sequence, line for line;
- :func:`render_state_diagram` — a ``stateDiagram-v2`` of a machine or its transitions;
- :func:`render_lifecycle_overview` — a lifecycle at a glance, one composite per phase;
- :func:`story_of` — what happened to one order (:class:`OrderStory`: its diagram, its deviations);
- :func:`generate`, :func:`write`, :func:`check` — the pages of ``diagrams/``;
- :func:`render_svgs` — pictures, with the optional ``svg`` extra;
- :func:`cli_diagrams` — the ``invoicebox-flow diagrams`` command's behaviour.

Module by concern: ``mermaid`` (escaping), ``sequence``, ``state``, ``layout`` (composites
Mermaid can draw), ``overview``, ``order`` and ``invoicebox_events`` (real orders), ``pages``,
``files``, ``svg``, ``command``.
"""

from ..mermaid import check_participant, escape_text
from .command import cli_diagrams
from .files import check, write
from .order import OrderStory, story_of
from .overview import render_lifecycle_overview
from .pages import HEADER, generate
from .sequence import render_sequence, render_steps
from .state import render_state_diagram
from .svg import MissingExtraError, mermaid_blocks, render_svgs

__all__ = [
    "HEADER",
    "MissingExtraError",
    "OrderStory",
    "check",
    "check_participant",
    "cli_diagrams",
    "escape_text",
    "generate",
    "mermaid_blocks",
    "render_lifecycle_overview",
    "render_sequence",
    "render_state_diagram",
    "render_steps",
    "render_svgs",
    "story_of",
    "write",
]

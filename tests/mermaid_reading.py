"""Reading back what a generated ``stateDiagram-v2`` draws, as the tests check it: composites,
the lines written in each, and the moves they stand for. Also the text of a rendered SVG as a
non-browser renderer sees it (``<text>`` elements only)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import attrs

from invoicebox_flow.flows import Lifecycle

_DECLARE = re.compile(r'^\s*state "(.*)" as (\w+)( \{)?$')
_ARC = re.compile(r"^\s*(\S+) --> (\S+)(?: : (.*))?$")
START = "[*]"
SVG = "{http://www.w3.org/2000/svg}"


@attrs.define
class StateDiagram:
    labels: dict[str, str] = attrs.Factory(dict)  # state or composite -> its label
    parent: dict[str, str | None] = attrs.Factory(dict)
    arcs: list[tuple[str | None, str, str, str]] = attrs.Factory(list)  # (written in, source, target, label)

    @property
    def composites(self) -> set[str]:
        return {p for p in self.parent.values() if p is not None}

    def members(self, node: str) -> list[str]:
        """The states a node stands for: itself, or every state inside a composite."""
        if node not in self.composites:
            return [node]
        return [leaf for child, up in self.parent.items() if up == node for leaf in self.members(child)]

    def ancestors(self, node: str) -> list[str | None]:
        chain: list[str | None] = []
        while node is not None:
            node = self.parent.get(node)  # type: ignore[assignment]
            chain.append(node)
        return chain

    def starts(self, block: str | None) -> list[str]:
        return [t for b, s, t, _ in self.arcs if b == block and s == START]

    def edges(self) -> list[tuple[str, str, str]]:
        """(source, target, label) of every line but the [*] ones, a loop's labels split."""
        return [(s, t, label) for _, s, t, labels in self.arcs if START not in (s, t)
                for label in labels.split("<br/>")]


def read_state_diagram(text: str) -> StateDiagram:
    drawn = StateDiagram()
    stack: list[str | None] = [None]
    for line in text.splitlines():
        if line.strip() == "}":
            stack.pop()
        elif match := _DECLARE.match(line):
            drawn.labels[match.group(2)] = match.group(1)
            drawn.parent[match.group(2)] = stack[-1]
            if match.group(3):
                stack.append(match.group(2))
        elif (match := _ARC.match(line)) and not line.strip().startswith("class"):
            drawn.arcs.append((stack[-1], match.group(1), match.group(2), match.group(3) or ""))
    return drawn


def drawn_moves(text: str, lifecycle: Lifecycle) -> set[tuple[str, str, str]]:
    """(source, destination, trigger) of every move a state diagram draws.

    An edge from a composite leaves each of its states; a loop on a composite is a loop on each;
    an edge into a composite lands on its ``[*]``, unless its destination is chosen at run time
    (a refused call returning where it was requested from): then on any state inside."""
    drawn = read_state_diagram(text)
    moves = set()
    for source, target, label in drawn.edges():
        trigger = label.split(" ")[0]
        for state in drawn.members(source):
            if target == source:
                moves.add((state, state, trigger))
                continue
            transition = lifecycle.transition(trigger, state)
            if target in drawn.composites and not (transition is not None and lifecycle.is_dynamic(transition)):
                targets = drawn.starts(target)
            else:
                targets = drawn.members(target)
            moves.update((state, t, trigger) for t in targets)
    return moves


def svg_texts(svg: str) -> list[str]:
    """The text of every ``<text>`` element, as rsvg or any non-browser renderer draws it."""
    root = ET.fromstring(svg)
    return [" ".join("".join(node.itertext()).split()) for node in root.iter(f"{SVG}text")]

"""Writing a ``stateDiagram-v2`` with composite states, within what Mermaid draws correctly.

Mermaid documents that it cannot draw a transition between internal states of *different*
composite states (tried: the composites overlap and the edges cross them). So every line is
written in the innermost composite holding both of its ends — a state or a composite — and
callers connect composites to each other, never their insides.

Two things keep a diagram small:

* **shared sources**: when several transitions leave the very same set of states (a payment
  notification, expiry and refusal all leave the four states where InvoiceBox holds an unpaid
  order), those states become one composite and each transition one edge from it;
* **entries**: an edge from outside into such a composite goes to the composite, and its ``[*]``
  says which state it lands on.

The output depends only on the input, so pages stay byte-stable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import attrs

from ..mermaid import escape_text

INDENT = " " * 4
START = "[*]"
LOOP_SEPARATOR = "<br/>"  # a state's internal transitions share one loop, one label line each

# How a kind of state is drawn: a call under way is grey and dashed, a state of another phase
# is faded, a final state has a heavy border.
CLASS_STYLES = {
    "call": "fill:#f2f2f2,stroke:#888,stroke-dasharray:4 3,color:#555",
    "elsewhere": "fill:#ffffff,stroke:#bbb,color:#777",
    "final": "stroke-width:3px",
}


@attrs.frozen
class Arc:
    """One drawn line: ``source --> target : label`` (a state or a composite at each end)."""

    source: str
    target: str
    label: str = ""


@attrs.define
class Layout:
    """What to draw: states, composites (``parent``), lines, entries and ends, classes."""

    labels: dict[str, str]  # state -> its name for people (composites: their title)
    parent: dict[str, str | None] = attrs.Factory(dict)  # state or composite -> composite (None: top)
    arcs: list[Arc] = attrs.Factory(list)
    starts: list[str] = attrs.Factory(list)  # [*] --> x, written in x's composite
    ends: list[str] = attrs.Factory(list)  # x --> [*]
    classes: dict[str, list[str]] = attrs.Factory(dict)  # class -> states

    def composite(self, name: str, title: str, parent: str | None = None) -> str:
        self.labels[name] = title
        self.parent[name] = parent
        return name

    def ancestors(self, node: str) -> list[str | None]:
        chain: list[str | None] = []
        current: str | None = node
        while current is not None:
            current = self.parent.get(current)
            chain.append(current)
        return chain

    def scope_of(self, arc: Arc) -> str | None:
        """The innermost composite holding both ends of ``arc`` (None: the top level)."""
        theirs = self.ancestors(arc.target) if arc.target != START else [self.parent.get(arc.source)]
        for block in self.ancestors(arc.source):
            if block in theirs and block not in (arc.source, arc.target):
                return block
        return None


def joins_two_insides(layout: Layout, arc: Arc) -> bool:
    """True when ``arc`` would join states inside two different composites of its scope."""
    scope = layout.scope_of(arc)
    return all(layout.parent.get(end) != scope for end in (arc.source, arc.target))


def shared_states(arcs: Iterable[Arc], eligible: Callable[[frozenset[str]], bool]) -> list[frozenset[str]]:
    """Disjoint sets of states that two or more transitions all leave, or all may lead to.

    A candidate is the exact set of sources of one (label, target), or of targets of one
    (source, label) — a refused call returns to whichever state it was requested from. It is
    chosen when it is used twice or more, ``eligible`` accepts it and it does not overlap a set
    chosen before (most used first)."""
    sources: dict[tuple[str, str], set[str]] = {}
    targets: dict[tuple[str, str], set[str]] = {}
    for arc in arcs:
        if arc.source != arc.target:
            sources.setdefault((arc.label, arc.target), set()).add(arc.source)
            targets.setdefault((arc.source, arc.label), set()).add(arc.target)
    uses: dict[frozenset[str], int] = {}
    candidates = [(frozenset(found), target) for (_, target), found in sources.items()]
    candidates += [(frozenset(found), source) for (source, _), found in targets.items()]
    for group, other_end in candidates:
        if len(group) > 1 and other_end not in group:
            uses[group] = uses.get(group, 0) + 1
    chosen: list[frozenset[str]] = []
    for group in sorted(uses, key=lambda g: (-uses[g], -len(g))):  # sorted() is stable: first seen first
        if uses[group] > 1 and eligible(group) and not any(group & other for other in chosen):
            chosen.append(group)
    return chosen


def bundle(layout: Layout, arcs: list[Arc], group: frozenset[str], name: str, initial: str | None = None) -> list[Arc]:
    """``arcs`` with the composite ``name`` drawn for ``group``: a transition leaving every state
    of it, or possibly leading to every one, is one edge from or to the composite, internal
    transitions every state of it has are one loop on the composite; the other
    edges entering it go to the composite too when they all land on one state (its ``[*]``),
    unless the diagram starts inside it."""
    leaving: dict[tuple[str, str], set[str]] = {}
    arriving: dict[tuple[str, str], set[str]] = {}
    for arc in arcs:
        if arc.source in group and arc.target not in group:
            leaving.setdefault((arc.label, arc.target), set()).add(arc.source)
        if arc.target in group and arc.source not in group:
            arriving.setdefault((arc.source, arc.label), set()).add(arc.target)
    fanned = {key for key, found in arriving.items() if found >= group}
    # a transition that may lead to several states (a refused call returns where it came from)
    # and reaches only some of this group is drawn to those states, never to the group's [*]
    reach: dict[tuple[str, str], set[str]] = {}
    for arc in arcs:
        reach.setdefault((arc.source, arc.label), set()).add(arc.target)
    partial = {key for key, found in arriving.items() if key not in fanned and len(reach[key]) > 1}
    entries = {arc.target for arc in arcs if arc.target in group and arc.source not in group
               and (arc.source, arc.label) not in fanned and (arc.source, arc.label) not in partial}
    if initial in group:
        entries = set()  # one [*] in the composite: where the diagram starts
    # internal transitions every state of the group has: one loop on the composite
    loops = {arc.source: arc.label.split(LOOP_SEPARATOR) for arc in arcs if arc.source == arc.target and arc.source in group}
    shared = [line for line in next(iter(loops.values()), []) if loops.keys() >= group
              and all(line in lines for lines in loops.values())]
    out: list[Arc] = []
    bundled: Arc | None
    for arc in arcs:
        if shared and arc.source == arc.target and arc.source in group:
            loop = Arc(name, name, LOOP_SEPARATOR.join(shared))
            if loop not in out:
                out.append(loop)
            rest = [line for line in loops[arc.source] if line not in shared]
            bundled = Arc(arc.source, arc.source, LOOP_SEPARATOR.join(rest)) if rest else None
        elif arc.source in group and leaving.get((arc.label, arc.target), set()) >= group:
            bundled = Arc(name, arc.target, arc.label)
        elif (arc.target in group and (arc.source, arc.label) in fanned) or (
                arc.target in group and arc.source not in group and len(entries) == 1
                and (arc.source, arc.label) not in partial):
            bundled = Arc(arc.source, name, arc.label)
        else:
            bundled = arc
        if bundled is not None and bundled not in out:
            out.append(bundled)
    if len(entries) == 1:
        layout.starts.append(next(iter(entries)))
    return out


def render(layout: Layout, title: str, order: Iterable[str]) -> str:
    """The diagram text: front matter title, class styles, composites (states declared with
    their labels, in ``order``), entries, lines, ends, then which state has which class."""
    order = list(order)
    rank = {name: i for i, name in enumerate(order)}
    children: dict[str | None, list[str]] = {}
    for node in layout.labels:
        children.setdefault(layout.parent.get(node), []).append(node)
    for found in children.values():
        found.sort(key=lambda n: _first_rank(layout, children, n, rank))
    lines_of: dict[str | None, list[str]] = {}
    for start in layout.starts:
        lines_of.setdefault(layout.parent.get(start), []).append(f"{START} --> {start}")
    for arc in layout.arcs:
        label = f" : {escape_text(arc.label)}" if arc.label else ""
        lines_of.setdefault(layout.scope_of(arc), []).append(f"{arc.source} --> {arc.target}{label}")
    for end in layout.ends:
        lines_of.setdefault(layout.parent.get(end), []).append(f"{end} --> {START}")

    lines = ["---", f"title: {_yaml_string(title)}", "---", "stateDiagram-v2"]
    used = [name for name in CLASS_STYLES if layout.classes.get(name)]
    lines += [f"{INDENT}classDef {name} {CLASS_STYLES[name]}" for name in used]

    def write(block: str | None, depth: int) -> None:
        pad = INDENT * depth
        for node in children.get(block, []):
            label = escape_text(layout.labels[node]).replace('"', "'")
            if node in children:
                lines.append(f'{pad}state "{label}" as {node} {{')
                write(node, depth + 1)
                lines.append(f"{pad}}}")
            else:
                lines.append(f'{pad}state "{label}" as {node}')
        lines.extend(pad + line for line in lines_of.get(block, []))

    write(None, 1)
    lines += [f"{INDENT}class {', '.join(layout.classes[name])} {name}" for name in used]
    return "\n".join(lines) + "\n"


def _first_rank(layout: Layout, children: Mapping[str | None, list[str]], node: str, rank: Mapping[str, int]) -> int:
    """A state's place in the lifecycle; a composite's is that of its first state."""
    if node not in children:
        return rank.get(node, len(rank))
    return min((_first_rank(layout, children, child, rank) for child in children[node]), default=len(rank))


def _yaml_string(text: str) -> str:
    """A double-quoted YAML scalar (Mermaid reads the title from YAML front matter)."""
    escaped = " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'

"""What Mermaid can and cannot carry, in one place.

Mermaid's parsers are line based and forgiving in surprising ways: inside a message ``;`` ends
the statement (the rest is parsed as a new one) and ``#`` starts an entity, so an unescaped
``#`` silently cuts the text. Both are written as numeric entities, ``#59;`` and ``#35;``,
which Mermaid turns back into the characters when it draws. A participant called ``end``
closes the enclosing block and breaks the parse; some characters cannot appear in a
participant name at all. Those are refused here with an error naming the culprit, rather
than producing a diagram that renders wrong.
"""

from __future__ import annotations

import re

from .errors import ValidationError

# One pass over the text: escaping "#" first would leave a ";" for the second pass to mangle.
_ENTITIES = {"#": "#35;", ";": "#59;"}
_NEEDS_ENTITY = re.compile("[#;]")
# Characters that end or split a participant name in Mermaid's sequence grammar.
_PARTICIPANT_FORBIDDEN = re.compile(r"[;:,#\n\r<>]|->|--")
_RESERVED_WORDS = frozenset({"end"})

UNRENDERABLE = "mermaid_unrenderable"


def escape_text(text: str) -> str:
    """Message or label text made safe for Mermaid: ``;`` -> ``#59;``, ``#`` -> ``#35;``.

    A line break cannot be carried by a one-line statement and is refused.
    """
    if "\n" in text or "\r" in text:
        raise ValidationError(f"Mermaid text cannot contain a line break: {text!r}", code=UNRENDERABLE)
    return _NEEDS_ENTITY.sub(lambda m: _ENTITIES[m.group(0)], text)


def check_participant(name: str) -> str:
    """Return ``name`` if Mermaid can use it as a participant; raise ValidationError otherwise."""
    if not name.strip():
        raise ValidationError("a Mermaid participant needs a non-empty name", code=UNRENDERABLE)
    if name.strip().lower() in _RESERVED_WORDS:
        raise ValidationError(
            f"a participant named {name!r} is a Mermaid parse error ('end' closes a block); rename it",
            code=UNRENDERABLE,
        )
    bad = _PARTICIPANT_FORBIDDEN.search(name)
    if bad:
        raise ValidationError(
            f"Mermaid cannot carry {bad.group(0)!r} in the participant name {name!r}", code=UNRENDERABLE
        )
    return name

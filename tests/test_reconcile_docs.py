"""docs/reconcile.md tells each kind of drift as the code has it: its meaning, whether it is healed,
and what is done about it."""

from __future__ import annotations

from pathlib import Path

from invoicebox_flow.reconcile import MEANINGS, Drift

DOC = Path(__file__).resolve().parent.parent / "docs" / "reconcile.md"


def kinds_table() -> str:
    rows = ["| kind | healed by `--heal` | what it means | what is done |", "| --- | --- | --- | --- |"]
    rows += [f"| `{kind}` | {'yes' if MEANINGS[kind].safe else 'no: a person'} | {MEANINGS[kind].meaning} | "
             f"{MEANINGS[kind].action} |" for kind in Drift]
    return "\n".join(rows)


def test_the_docs_table_is_the_code_s_table():
    assert kinds_table() in DOC.read_text(encoding="utf-8"), "regenerate the table: print(kinds_table())"


def test_every_kind_has_a_meaning_and_the_safe_ones_come_first():
    assert set(MEANINGS) == set(Drift)
    safe = [kind.safe for kind in Drift]
    assert safe == sorted(safe, reverse=True) and any(safe) and not all(safe)

"""Receipts and documents: what the documentation promises for each event, and matching them
with what InvoiceBox's side actually issued."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import attrs

from ..fiscal import Receipt, document_kinds
from ..flows import Variant
from .document import Fact


class Issuer(Protocol):
    """Something that lists what InvoiceBox's side issued: the sandbox's inspection client."""

    def receipts(self, order_id: str) -> list[dict[str, Any]]: ...

    def documents(self, order_id: str) -> list[dict[str, Any]]: ...


def expected_facts(variant: Variant, event: str, lines: Iterable[Mapping[str, Any]], source: str) -> tuple[Fact, ...]:
    """Receipts (private) or documents (legal) InvoiceBox issues for an event (``payment``,
    ``shipment:<id>``, ``refund:<merchantOrderId>``), per its docs."""
    if variant is Variant.PRIVATE:
        return (Fact("receipt", Receipt.for_event(event).value, event, source),)
    if event == "payment":
        return ()  # organisations get documents on shipment and refund only
    refund = not event.startswith("shipment")
    return tuple(Fact("document", kind, event, source) for kind in document_kinds(lines, refund=refund))


def matched(facts: Iterable[Fact], issuer: Issuer, invoicebox_id: str) -> tuple[tuple[Fact, ...], int]:
    """``facts`` with the ids of what ``issuer`` issued filled in, and how many were issued.

    Issued items nobody expected are added with source ``"sandbox"`` and event
    ``"unexpected"``, so a duplicate receipt shows up instead of hiding."""
    issued = [("receipt", r["type"], r["id"]) for r in issuer.receipts(invoicebox_id)]
    issued += [("document", d["kind"], d["id"]) for d in issuer.documents(invoicebox_id)]
    out = list(facts)
    known = {f.ref for f in out if f.ref}
    for kind, type_, ref in issued:
        if ref in known:
            continue
        waiting = next((i for i, f in enumerate(out) if not f.ref and (f.kind, f.type) == (kind, type_)), None)
        if waiting is not None:
            out[waiting] = attrs.evolve(out[waiting], ref=ref)
        else:
            out.append(Fact(kind, type_, "unexpected", "sandbox", ref))
    return tuple(out), len(issued)

"""Generated diagrams equal the documented ones, stay fresh, escape what Mermaid cannot carry,
draw every transition, and a traced run draws the documented diagram only when it ran it all."""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import attrs
import pytest
from helpers import packing_flow
from mermaid_reading import START, drawn_moves, read_state_diagram, svg_texts

from invoicebox_flow.diagrams import (
    HEADER,
    MissingExtraError,
    check,
    cli_diagrams,
    escape_text,
    generate,
    mermaid_blocks,
    render_sequence,
    render_state_diagram,
    render_svgs,
    write,
)
from invoicebox_flow.diagrams.overview import phase_block, render_lifecycle_overview
from invoicebox_flow.diagrams.state import PHASE_WORDS, UNDRAWN
from invoicebox_flow.diagrams.svg import (
    SvgJob,
    picture_source_digest,
    render_picture,
    stale_pictures,
    stale_pngs,
    write_pngs,
)
from invoicebox_flow.errors import ValidationError
from invoicebox_flow.flows import (
    DOCUMENTED_FLOW,
    SEQUENCES,
    FlowDefinition,
    Origin,
    Phase,
    Variant,
    build_lifecycle,
    lifecycle_machine,
    phase_machine,
    phase_transitions,
    sequence,
    sequences_of,
)
from invoicebox_flow.trace import Trace

ROOT = Path(__file__).resolve().parents[1]
SEED = Path(__file__).parent / "data" / "interaction-scheme.md"


def seed_diagrams() -> list[str]:
    text = SEED.read_text(encoding="utf-8")
    return re.findall(r'<div class="mermaid">\n(.*?)</div>', text, re.DOTALL)


def significant_lines(text: str) -> list[str]:
    """Lines with trailing whitespace and blank lines set aside (the seed has a trailing space)."""
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def with_step_text(seq, number, text):
    steps = tuple(attrs.evolve(s, text=text) if s.number == number else s for s in seq.steps)
    return attrs.evolve(seq, steps=steps)


# --- the documented sequence diagrams ----------------------------------------------------------


def test_seed_has_the_six_documented_diagrams_in_definition_order():
    blocks = seed_diagrams()
    assert len(blocks) == len(SEQUENCES) == 6


@pytest.mark.parametrize("index", range(6), ids=[s.name for s in SEQUENCES])
def test_generated_sequence_diagram_equals_documented_one_line_for_line(index):
    seq, documented = SEQUENCES[index], seed_diagrams()[index]
    assert significant_lines(render_sequence(seq)) == significant_lines(documented)
    # and the page carries exactly that diagram as its first Mermaid block
    page = generate()[f"diagrams/{seq.name}.md"]
    assert significant_lines(mermaid_blocks(page)[0]) == significant_lines(documented)


def test_sequence_diagram_uses_documented_indentation():
    lines = render_sequence(sequence("private-refund")).splitlines()
    assert lines[:3] == ["sequenceDiagram", "    autonumber", "    participant Покупатель"]
    assert lines[6] == "    rect rgb(204, 204, 255)"
    assert lines[8] == "      Магазин-->ИнвойсБокс: Получение списка позиций в заказе"
    assert lines[-1] == "    end"


# --- escaping ------------------------------------------------------------------------------------


def test_escape_replaces_semicolon_and_hash_in_one_pass():
    assert escape_text("a;b#c") == "a#59;b#35;c"
    # an already escaped-looking text is escaped, not left to be decoded into something else
    assert escape_text("#59;") == "#35;59#59;"
    assert escape_text('Чек "предоплата 100%"') == 'Чек "предоплата 100%"'


def test_message_with_semicolon_and_hash_renders_entities():
    seq = with_step_text(sequence("legal-payment"), 6, "Оплата счёта; номер #42")
    assert "      Покупатель->>ИнвойсБокс: Оплата счёта#59; номер #35;42" in render_sequence(seq).splitlines()


def test_message_with_line_break_is_refused():
    seq = with_step_text(sequence("legal-payment"), 6, "Оплата\nсчёта")
    with pytest.raises(ValidationError, match="line break"):
        render_sequence(seq)


@pytest.mark.parametrize("name", ["end", "End", " end "])
def test_participant_named_end_is_refused(name):
    seq = sequence("legal-shipment")
    seq = attrs.evolve(seq, participants=(name, *seq.participants[1:]))
    with pytest.raises(ValidationError, match="'end'") as raised:
        render_sequence(seq)
    assert raised.value.code == "mermaid_unrenderable"


def test_participant_with_unusable_character_is_refused():
    seq = sequence("legal-shipment")
    seq = attrs.evolve(seq, participants=(*seq.participants[:2], "Инвойс;Бокс"))
    with pytest.raises(ValidationError, match="';'"):
        render_sequence(seq)


def test_message_from_a_non_participant_is_refused():
    seq = sequence("legal-shipment")  # no cash register among its participants
    seq = attrs.evolve(seq, steps=(*seq.steps, attrs.evolve(sequence("private-shipment").step(2), number=4)))
    with pytest.raises(ValidationError, match="Онлайн касса"):
        render_sequence(seq)


def test_mermaid_draws_escaped_text_back_as_written():
    mermaidx = pytest.importorskip("mermaidx")
    seq = with_step_text(sequence("legal-shipment"), 1, "Отгрузка; заказ #7")
    svg = mermaidx.render(render_sequence(seq)).svg()
    assert "Отгрузка; заказ #7" in svg


# --- state diagrams -----------------------------------------------------------------------------


def machine_moves(machine) -> set[tuple[str, str, str]]:
    return {
        (source, move.dest or source, name)
        for name, event in machine.events.items()
        for source, moves in event.transitions.items()
        for move in moves
    }


def _machines():
    out = []
    for lc in DOCUMENTED_FLOW:
        out.append((f"{lc.variant.value}-lifecycle", lc, lifecycle_machine(lc), lc.transitions, None))
        for seq in lc.sequences:
            out.append((seq.name, lc, phase_machine(lc, seq.phase), phase_transitions(lc, seq.phase), seq.phase))
    return out


MACHINES = _machines()


@pytest.mark.parametrize("name,lifecycle,machine,data,phase", MACHINES, ids=[m[0] for m in MACHINES])
def test_state_diagram_draws_every_transition_and_nothing_else(name, lifecycle, machine, data, phase):
    text = render_state_diagram(lifecycle, name, machine=machine, transitions=data, phase=phase)
    assert drawn_moves(text, lifecycle) == machine_moves(machine)
    assert render_state_diagram(lifecycle, name, machine=machine, transitions=data, phase=phase) == text


@pytest.mark.parametrize("name,lifecycle,machine,data,phase", MACHINES, ids=[m[0] for m in MACHINES])
def test_machine_and_its_transition_data_draw_the_same_diagram(name, lifecycle, machine, data, phase):
    from_machine = render_state_diagram(lifecycle, name, machine=machine, transitions=data)
    assert render_state_diagram(lifecycle, name, transitions=data, initial=machine.initial) == from_machine
    # the machine of an equal but distinct lifecycle value is built anew, and draws identically
    twin = attrs.evolve(lifecycle)
    rebuilt = lifecycle_machine(twin) if phase is None else phase_machine(twin, phase)
    assert rebuilt is not machine
    assert render_state_diagram(twin, name, machine=rebuilt, transitions=data) == from_machine


@pytest.mark.parametrize("name,lifecycle,machine,data,phase", MACHINES, ids=[m[0] for m in MACHINES])
def test_no_line_joins_the_insides_of_two_composites(name, lifecycle, machine, data, phase):
    """Mermaid cannot draw those: a line is written in a composite holding both its ends, one
    of them at least directly."""
    drawn = read_state_diagram(render_state_diagram(lifecycle, name, machine=machine, transitions=data, phase=phase))
    for block, source, target, _ in drawn.arcs:
        ends = [end for end in (source, target) if end != START]
        assert any(drawn.parent[end] == block for end in ends), (source, target, block)
        assert all(block in drawn.ancestors(end) for end in ends), (source, target, block)


@pytest.mark.parametrize("lifecycle", DOCUMENTED_FLOW.lifecycles, ids=lambda lc: lc.variant.value)
def test_states_carry_their_russian_names_and_kinds(lifecycle):
    text = render_state_diagram(lifecycle, "t", transitions=phase_transitions(lifecycle, Phase.SHIPMENT),
                                phase=Phase.SHIPMENT)
    drawn = read_state_diagram(text)
    states = set(drawn.labels) - drawn.composites
    assert {name: drawn.labels[name] for name in states} == {name: lifecycle.state(name).ru for name in states}
    assert "    class shipment_requested call" in text.splitlines()  # a call under way, drawn distinctly
    assert "    class paid, partially_refunded elsewhere" in text.splitlines()  # states of another phase


def test_dynamic_destinations_all_appear():
    moves = drawn_moves(render_state_diagram(DOCUMENTED_FLOW.private, "t"), DOCUMENTED_FLOW.private)
    for dest in ("paid", "shipped", "partially_refunded", "shipping_unavailable"):
        assert ("refund_requested", dest, "refund_failed") in moves
    for dest in ("partially_refunded", "refunded"):
        assert ("refund_requested", dest, "refund_accepted") in moves


@pytest.mark.parametrize("lifecycle", DOCUMENTED_FLOW.lifecycles, ids=lambda lc: lc.variant.value)
def test_lifecycle_marks_documented_steps_and_undrawn_paths(lifecycle):
    text = render_state_diagram(lifecycle, "t", machine=lifecycle_machine(lifecycle))
    lines = text.splitlines()
    assert lines[:4] == ["---", 'title: "t"', "---", "stateDiagram-v2"]
    drawn = read_state_diagram(text)
    assert drawn.starts(None) == ["new"]
    for final in ("refunded", "canceled", "expired"):
        assert any(s == final and t == START for _, s, t, _ in drawn.arcs)
    labels = [(state, label) for source, _, label in drawn.edges() for state in drawn.members(source)]
    for tr in lifecycle.transitions:
        for source in tr.sources:
            mine = [label for src, label in labels if src == source and label.split(" ")[0] == tr.trigger]
            assert mine, (tr.trigger, source)
            expected = f"({PHASE_WORDS[tr.phase]}, шаг {tr.step})" if tr.origin is Origin.DOCUMENTED else f"({UNDRAWN})"
            assert all(label.endswith(expected) for label in mine), (tr.trigger, source, mine)


def test_one_trigger_marks_the_step_of_each_source():
    drawn = read_state_diagram(render_state_diagram(DOCUMENTED_FLOW.legal, "t"))
    loops = {(state, label) for source, target, label in drawn.edges() if source == target
             for state in drawn.members(source)}
    assert ("shipped", "send_documents (отгрузка, шаг 3)") in loops  # on shipped or a composite holding it
    assert ("refunded", "send_documents (возврат, шаг 6)") in loops


def test_phase_machine_labels_name_the_step():
    lc = DOCUMENTED_FLOW.private
    lines = render_state_diagram(lc, "t", machine=phase_machine(lc, Phase.PAYMENT),
                                 transitions=phase_transitions(lc, Phase.PAYMENT)).splitlines()
    assert "    new --> order_placed : place (шаг 1)" in lines
    # the four states where InvoiceBox holds the unpaid order share their ways out
    assert '    state "у ИнвойсБокса, не оплачен" as unpaid_at_invoicebox {' in lines
    assert "    unpaid_at_invoicebox --> paid : confirm_payment (шаг 10)" in lines
    assert "    unpaid_at_invoicebox --> canceled : cancel (вне схемы)" in lines
    assert "    order_placed --> canceled : cancel (вне схемы)" in lines
    assert "    unpaid_at_invoicebox --> unpaid_at_invoicebox : update (вне схемы)" in lines
    # the answer to create order lands on the composite's [*]: the payment link
    assert "    invoice_requested --> unpaid_at_invoicebox : issue_payment_link (шаг 3)" in lines
    assert "        [*] --> payment_link_issued" in lines


def test_guards_and_run_time_destinations_are_drawn():
    lc = DOCUMENTED_FLOW.private
    lines = render_state_diagram(lc, "t", transitions=phase_transitions(lc, Phase.SHIPMENT)).splitlines()
    assert "    shippable --> shipment_requested : request_shipment [something_to_ship] (шаг 1)" in lines
    assert "    shipment_requested --> shippable : shipment_failed (вне схемы)" in lines


def test_state_diagram_title_is_quoted_for_yaml():
    text = render_state_diagram(DOCUMENTED_FLOW.private, 'Чек "полный расчёт": x')
    assert text.splitlines()[1] == 'title: "Чек \\"полный расчёт\\": x"'


# --- the lifecycle overview ---------------------------------------------------------------------


@pytest.mark.parametrize("lifecycle", DOCUMENTED_FLOW.lifecycles, ids=lambda lc: lc.variant.value)
def test_overview_draws_each_phase_as_a_composite_and_folds_calls(lifecycle):
    drawn = read_state_diagram(render_lifecycle_overview(lifecycle, "t"))
    for name in lifecycle.state_names:
        spec = lifecycle.state(name)
        if spec.requested:
            assert name not in drawn.labels  # folded into the edge of its request
        else:
            assert drawn.labels[name] == spec.ru
            up = drawn.parent[name]
            while up not in (phase_block(p) for p in Phase):
                up = drawn.parent[up]
            assert up == phase_block(spec.phase), name
    edges = drawn.edges()
    assert ("order_placed", "unpaid_at_invoicebox", "request_invoice (шаг 2, 3)") in edges
    assert drawn.starts("unpaid_at_invoicebox") == ["payment_link_issued"]
    assert ("phase_payment", "phase_shipment", "request_shipment [something_to_ship] (отгрузка, шаг 1)") in edges
    assert ("phase_refund", "phase_shipment", "request_shipment [something_to_ship] (отгрузка, шаг 1)") in edges
    assert ("phase_shipment", "phase_refund", "request_refund (возврат, шаг 3)") in edges
    assert ("partially_refunded", "refunded", "request_refund (шаг 3)") in edges
    assert set(drawn.starts("phase_refund")) == {"partially_refunded", "refunded"}
    assert not any("_failed" in label for _, _, label in edges)  # refused calls: in the phase diagrams
    for block, source, target, _ in drawn.arcs:
        for end in {source, target} - {START}:
            assert drawn.parent[end] == block, (source, target, block)


def test_overview_of_an_extended_flow_shows_its_states():
    flow = packing_flow()
    drawn = read_state_diagram(render_lifecycle_overview(flow.private, "t"))
    assert drawn.labels["packed"] == "упакован" and drawn.labels["delivered"] == "доставлен"
    assert ("paid", "packed", "pack [in_stock] (шаг магазина)") in drawn.edges()
    assert ("shipped", "delivered", "confirm_delivery (шаг магазина)") in drawn.edges()


# --- pictures that render outside browsers -----------------------------------------------------


def test_pictures_have_plain_text_labels_a_non_browser_renderer_draws():
    pytest.importorskip("mermaidx")
    lc = DOCUMENTED_FLOW.legal
    page = generate()["diagrams/legal-shipment.md"]  # one of the quicker state diagrams to draw
    svg = render_picture(mermaid_blocks(page)[1])
    assert "foreignObject" not in svg  # HTML labels: blank in rsvg, many viewers and IDE previews
    texts = svg_texts(svg)
    for name in ("paid", "shipment_requested", "shipped"):
        assert lc.state(name).ru in texts
    # words are separate <tspan>s: the spaces between them survive only with xml:space="preserve"
    assert 'xml:space="preserve"' in svg.split(">", 1)[0]
    assert any(text.startswith("send_documents (шаг") for text in texts), texts


def test_committed_lifecycle_pictures_are_drawn_from_the_current_definition():
    assert stale_pictures(ROOT / "docs") == []


def test_a_picture_of_another_definition_is_stale(tmp_path):
    names = ["private-lifecycle.png", "legal-lifecycle.png"]
    for name in names:  # drawn by `diagrams --png docs` (minutes: the test below draws small ones)
        shutil.copyfile(ROOT / "docs" / name, tmp_path / name)
    assert stale_pictures(tmp_path) == []
    flow = packing_flow()
    (tmp_path / "shop-private-lifecycle.png").write_bytes((tmp_path / "private-lifecycle.png").read_bytes())
    assert set(stale_pictures(tmp_path, flow)) == {(tmp_path / f"shop-{n}").as_posix() for n in names}


@pytest.mark.slow  # draws two small pictures
def test_a_drawn_picture_carries_the_digest_of_its_source(tmp_path):
    pytest.importorskip("mermaidx")
    pictures = {"ab.png": "stateDiagram-v2\n    a --> b", "abc.png": "stateDiagram-v2\n    a --> b\n    b --> c"}
    written = write_pngs(tmp_path, pictures)
    assert [p.name for p in written] == ["ab.png", "abc.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in written)
    assert stale_pngs(tmp_path, pictures) == []
    swapped = {"ab.png": pictures["abc.png"], "abc.png": pictures["abc.png"], "new.png": pictures["ab.png"]}
    assert stale_pngs(tmp_path, swapped) == [(tmp_path / "ab.png").as_posix(), (tmp_path / "new.png").as_posix()]
    assert picture_source_digest(b"\x89PNG\r\n\x1a\n") is None and picture_source_digest(b"GIF89a") is None


# --- generation and staleness ------------------------------------------------------------------


def test_generate_lists_every_page_with_the_header():
    pages = generate()
    expected = {f"diagrams/{s.name}.md" for s in SEQUENCES} | {
        "diagrams/private-lifecycle.md", "diagrams/legal-lifecycle.md", "diagrams/README.md"}
    assert set(pages) == expected
    for text in pages.values():
        assert text.startswith(HEADER + "\n")
    index = pages["diagrams/README.md"]
    for rel in expected - {"diagrams/README.md"}:
        assert f"]({Path(rel).name})" in index
    assert "invoicebox-flow diagrams" in index


def test_sequence_page_has_the_steps_table_and_the_machine():
    page = generate()["diagrams/private-shipment.md"]
    assert ("| 1 | Магазин | ИнвойсБокс | `->>` | Вызов метода отгрузки по заказу | shop_action "
            "| `request_shipment`, `shipment_accepted` | `create_shipment` |  |") in page
    assert "| `receipt_registered` (full_settlement) |" in page
    blocks = mermaid_blocks(page)
    assert len(blocks) == 2 and "stateDiagram-v2" in blocks[1]


def test_committed_diagrams_are_up_to_date():
    assert check(ROOT) == []


def test_changed_message_text_names_exactly_its_file(tmp_path):
    write(tmp_path)
    assert check(tmp_path) == []
    changed = with_step_text(sequence("legal-shipment"), 1, "Вызов метода отгрузки заказа")
    legal = build_lifecycle(Variant.LEGAL, [changed if s.name == changed.name else s
                                            for s in sequences_of(Variant.LEGAL)])
    flow = FlowDefinition(DOCUMENTED_FLOW.name, private=DOCUMENTED_FLOW.private, legal=legal)
    assert check(tmp_path, flow) == ["diagrams/legal-shipment.md"]
    assert check(ROOT, flow) == ["diagrams/legal-shipment.md"]


def test_missing_extra_and_hand_edited_files_are_named(tmp_path):
    write(tmp_path)
    (tmp_path / "diagrams/private-payment.md").unlink()
    (tmp_path / "diagrams/renamed-sequence.md").write_text("old page\n", encoding="utf-8")
    edited = tmp_path / "diagrams/legal-lifecycle.md"
    edited.write_text(edited.read_text(encoding="utf-8").replace("paid", "payed", 1), encoding="utf-8")
    (tmp_path / "diagrams/svg").mkdir()
    (tmp_path / "diagrams/svg/private-payment-1.svg").write_text("<svg/>", encoding="utf-8")  # not a page
    assert check(tmp_path) == [
        "diagrams/legal-lifecycle.md", "diagrams/private-payment.md", "diagrams/renamed-sequence.md"]
    write(tmp_path)
    assert check(tmp_path) == []
    assert not (tmp_path / "diagrams/renamed-sequence.md").exists()


def test_crlf_checkout_is_not_stale(tmp_path):
    write(tmp_path)
    page = tmp_path / "diagrams/README.md"
    page.write_bytes(page.read_bytes().replace(b"\n", b"\r\n"))
    assert check(tmp_path) == []


def test_cli_check_names_stale_files_on_stderr_then_write_fixes_them(tmp_path, capsys):
    assert cli_diagrams(tmp_path, check=True, svg=False) == 1
    err = capsys.readouterr().err.splitlines()
    assert {f"{rel}: missing" for rel in generate()} <= set(err)
    assert cli_diagrams(tmp_path, check=False, svg=False) == 0
    assert "diagrams/README.md" in capsys.readouterr().out.splitlines()
    assert cli_diagrams(tmp_path, check=True, svg=False) == 0
    assert capsys.readouterr().err == ""


def test_svg_without_the_extra_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(__import__("sys").modules, "mermaidx", None)  # as if not installed
    with pytest.raises(MissingExtraError, match=re.escape("pip install 'invoicebox-flow[svg]'")):
        render_svgs(tmp_path)
    assert cli_diagrams(tmp_path, check=False, svg=True) == 2
    assert "pip install 'invoicebox-flow[svg]'" in capsys.readouterr().err


@pytest.mark.slow  # mermaidx takes seconds per small diagram and a minute or two per lifecycle
def test_render_svgs_schedules_every_block_and_draws_them_as_plain_svg_text(tmp_path):
    pytest.importorskip("mermaidx")
    scheduled: list[SvgJob] = []

    def the_two_sequence_pictures(jobs: list[SvgJob]) -> list[SvgJob]:
        scheduled.extend(jobs)  # every block becomes a job; drawing two of them shows the drawing
        return [job for job in jobs if job.path.name in {"private-payment-1.svg", "legal-refund-1.svg"}]

    paths = render_svgs(tmp_path, track=the_two_sequence_pictures)
    blocks = [source for text in generate().values() for source in mermaid_blocks(text)]
    assert [job.source for job in scheduled] == blocks and len({job.path for job in scheduled}) == len(blocks)
    assert [p.name for p in paths] == ["private-payment-1.svg", "legal-refund-1.svg"]
    for path in paths:
        svg = path.read_text(encoding="utf-8")
        assert svg.lstrip().startswith('<svg xml:space="preserve" ') and "<foreignObject" not in svg
        assert "<text" in svg


# --- traces -------------------------------------------------------------------------------------


def record_run(trace, seq, order_ref, steps, start=0.0, source="journal"):
    for offset, number in enumerate(steps):
        trace.record(seq.name, number, at=start + offset, order_ref=order_ref, source=source)


@pytest.mark.parametrize("seq", SEQUENCES, ids=[s.name for s in SEQUENCES])
def test_full_in_order_run_renders_the_definition(seq):
    trace = Trace()
    record_run(trace, seq, "order-1", [s.number for s in seq.steps])
    [run] = trace.runs(seq.name)
    assert trace.render(seq.name, run) == render_sequence(seq)


def test_run_missing_a_step_renders_differently():
    seq = sequence("private-payment")
    trace = Trace()
    record_run(trace, seq, "order-1", [n for n in range(1, 11) if n != 8])
    [run] = trace.runs(seq.name)
    drawn = trace.render(seq.name, run)
    assert drawn != render_sequence(seq)
    assert '      ИнвойсБокс->>Онлайн касса: Чек "предоплата 100%"' not in drawn.splitlines()
    assert len(drawn.splitlines()) == len(render_sequence(seq).splitlines()) - 1


def test_run_in_wrong_order_renders_differently():
    seq = sequence("legal-payment")
    trace = Trace()
    # recorded out of time order is fine: messages are sorted by time
    for at, number in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (7, 7), (6, 8)]:
        trace.record(seq.name, number, at=at, order_ref="o", source="journal")
    runs = trace.runs(seq.name)
    # notification (8) came before the redirect back (7): step 7 does not increase, a new run starts
    assert [[m.step for m in r] for r in runs] == [[1, 2, 3, 4, 5, 6, 8], [7]]
    assert all(trace.render(seq.name, r) != render_sequence(seq) for r in runs)
    swapped = sorted(runs[0] + runs[1], key=lambda m: m.at)
    assert trace.render(seq.name, swapped) != render_sequence(seq)


def test_repeated_refunds_of_one_order_split_into_runs():
    seq = sequence("private-refund")
    trace = Trace()
    record_run(trace, seq, "order-1", [1, 2, 3, 4, 5, 6], start=0)
    record_run(trace, seq, "order-2", [1, 2, 3, 4, 5, 6], start=3.5)  # interleaved in time
    record_run(trace, seq, "order-1", [1, 3, 4, 5, 6], start=20)  # second refund, no optional step 2
    runs = trace.runs(seq.name)
    assert [(r[0].order_ref, [m.step for m in r]) for r in runs] == [
        ("order-1", [1, 2, 3, 4, 5, 6]),
        ("order-2", [1, 2, 3, 4, 5, 6]),
        ("order-1", [1, 3, 4, 5, 6]),
    ]
    assert trace.render(seq.name, runs[0]) == render_sequence(seq)
    assert trace.render(seq.name, runs[2]) != render_sequence(seq)


def test_messages_filter_and_sort_by_time_then_step():
    trace = Trace()
    trace.record("private-shipment", 2, at=5.0, order_ref="a", source="sandbox")
    trace.record("private-shipment", 1, at=5.0, order_ref="a", source="journal")
    trace.record("legal-shipment", 1, at=1.0, order_ref="b", source="journal", evidence={"status": 201})
    assert [(m.sequence, m.step) for m in trace.messages()] == [
        ("legal-shipment", 1), ("private-shipment", 1), ("private-shipment", 2)]
    assert [m.step for m in trace.messages("private-shipment", order_ref="a")] == [1, 2]
    assert trace.messages(order_ref="b")[0].evidence == {"status": 201}
    assert trace.steps_seen() == {("private-shipment", 1), ("private-shipment", 2), ("legal-shipment", 1)}


@pytest.mark.parametrize("kwargs,match", [
    ({"sequence": "private-delivery", "step": 1, "source": "journal"}, "no documented sequence"),
    ({"sequence": "legal-payment", "step": 9, "source": "journal"}, "steps 1..8"),
    ({"sequence": "legal-payment", "step": 0, "source": "journal"}, "steps 1..8"),
    ({"sequence": "legal-payment", "step": 1, "source": "engine"}, "one of journal, sandbox, buyer"),
])
def test_record_refuses_what_no_definition_has(kwargs, match):
    trace = Trace()
    with pytest.raises(ValidationError, match=match):
        trace.record(kwargs.pop("sequence"), kwargs.pop("step"), at=0.0, order_ref="o", **kwargs)
    assert trace.messages() == []


def test_render_refuses_messages_of_another_sequence():
    trace = Trace()
    trace.record("legal-refund", 1, at=0.0, order_ref="o", source="journal")
    with pytest.raises(ValidationError, match="legal-refund"):
        trace.render("private-refund", trace.messages())


def test_recording_from_many_threads_keeps_every_message():
    trace = Trace()

    def worker(n):
        for i in range(200):
            trace.record("legal-refund", 1 + i % 6, at=float(i), order_ref=f"order-{n}", source="sandbox")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(trace.messages()) == 800
    assert len(trace.runs("legal-refund")) == 4 * 34  # 200 messages cycling through 6 steps


def test_write_one_readable_page_per_run_without_secrets(tmp_path):
    seq = sequence("legal-shipment")
    trace = Trace()
    trace.record(seq.name, 1, at=10.0, order_ref="shop/42", source="journal",
                 evidence={"method": "POST", "path": "/v3/billing/api/order/shipment", "status": 200,
                           "headers": {"Authorization": "Bearer tok-SECRET", "X-Request-Id": "r-1"}})
    trace.record(seq.name, 2, at=10.5, order_ref="shop/42", source="sandbox")
    trace.record(seq.name, 3, at=11.0, order_ref="shop/42", source="journal")
    trace.record(seq.name, 1, at=12.0, order_ref="shop/43", source="journal")
    paths = trace.write(tmp_path)
    assert len(paths) == 2 and len({p.name for p in paths}) == 2
    assert all("/" not in p.name and p.parent == tmp_path for p in paths)
    full = next(p for p in paths if "run1" in p.name and "43" not in p.name).read_text(encoding="utf-8")
    assert "Equals the documented diagram: yes." in full
    assert render_sequence(seq).rstrip("\n") in full
    assert "tok-SECRET" not in full and "r-1" in full and "/v3/billing/api/order/shipment" in full
    partial = next(p for p in paths if "43" in p.name).read_text(encoding="utf-8")
    assert "Equals the documented diagram: no (steps not run: 2, 3)." in partial

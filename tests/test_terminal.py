"""Tables that fit the terminal and progress that only a terminal sees (invoicebox_flow.terminal)."""

from __future__ import annotations

import os
import sys

from cli_helpers import run_with_terminal_stderr

from invoicebox_flow.terminal import ELLIPSIS, progress, table, truncate

HEADER = ("order", "state", "amount", "name")
ROWS = [("A-1", "paid", "1200.00", "Онлайн-курс «Python для аналитиков», доступ 90 дней"),
        ("A-1002", "partially_refunded", "25000.00", "Кружка")]


def test_a_table_that_fits_keeps_every_cell_whole_and_aligns_numbers_right():
    lines = table(HEADER, ROWS, right={2}, width=200)
    assert lines[0].split() == list(HEADER)
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].startswith("A-1     paid                 1200.00  Онлайн-курс")
    assert ROWS[0][3] in lines[2] and lines[3].rstrip().endswith("Кружка")
    assert lines[2].index("1200.00") + len("1200.00") == lines[3].index("25000.00") + len("25000.00")


def test_a_narrow_terminal_truncates_free_text_with_an_ellipsis_and_nothing_else():
    lines = table(HEADER, ROWS, right={2}, shrink={3}, width=50)
    assert all(len(line) <= 50 for line in lines)
    assert lines[2].endswith(ELLIPSIS)
    assert "partially_refunded" in lines[3] and "25000.00" in lines[3] and "A-1002" in lines[3]


def test_optional_columns_go_first_then_what_cannot_shrink_wraps():
    lines = table(HEADER, ROWS, right={2}, optional={3}, width=40)
    assert lines[0].split() == ["order", "state", "amount"]
    assert all(len(line) <= 40 for line in lines)
    too_narrow = table(HEADER, ROWS, right={2}, width=20)  # no column may shrink or go: values stay whole
    assert "partially_refunded" in too_narrow[3] and ROWS[0][3] in too_narrow[2]


def test_truncate():
    assert truncate("abcdef", 6) == "abcdef"
    assert truncate("abcdef", 4) == "abc" + ELLIPSIS
    assert truncate("abcdef", 0) == ""


def test_progress_off_a_terminal_is_one_line_per_finished_item(capsys):
    seen = []
    for item in progress(["a", "b", "c"], label="work", describe=str, finished=lambda x: f"done {x}"):
        seen.append((item, capsys.readouterr().out))  # what was printed before this item was worked on
    assert seen == [("a", ""), ("b", "done a\n"), ("c", "done b\n")]
    assert capsys.readouterr().out == "done c\n"


PROGRESS_SCRIPT = """
import time
from invoicebox_flow.terminal import progress
for item in progress(["one", "two"], label="rendering", describe=str, finished=lambda x: "finished " + x):
    time.sleep(0.6)  # click redraws at most every half second
"""


def test_progress_on_a_terminal_is_a_bar_on_stderr_and_nothing_on_stdout():
    status, stdout, text = run_with_terminal_stderr([sys.executable, "-c", PROGRESS_SCRIPT],
                                                    {**os.environ, "COLUMNS": "80"})
    assert status == 0
    assert stdout == ""
    assert "rendering" in text and "2/2" in text and "two" in text

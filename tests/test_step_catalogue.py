"""``docs/steps.md`` is the step registry, rendered: a step added to the library without the
catalogue regenerated fails here, naming the command that regenerates it."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from invoicebox_flow.testing import catalogue

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / catalogue.DEFAULT_PATH


def test_the_catalogue_is_the_registry_rendered():
    assert CATALOGUE.read_text(encoding="utf-8") == catalogue.render_catalogue(), (
        f"{catalogue.DEFAULT_PATH} is stale: run python -m invoicebox_flow.testing.catalogue")


def test_a_new_step_shows_in_the_catalogue_with_both_texts(tmp_path, monkeypatch):
    (tmp_path / "my_steps.py").write_text(textwrap.dedent('''
        """Steps of a shop.

        What they are for.
        """
        from pytest_bdd import then

        @then("магазин доволен")
        @then("the shop is happy")
        def shop_is_happy():
            """The shop is happy."""
    '''), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        text = catalogue.render_catalogue(["my_steps"])
    finally:
        sys.modules.pop("my_steps", None)
    assert "## Steps of a shop\n\n`my_steps`: What they are for.\n" in text
    assert "### `shop_is_happy`\n\n- **Тогда** `магазин доволен`\n- **Then** `the shop is happy`\n\nThe shop is happy." in text


def test_check_fails_on_a_stale_file_and_writing_fixes_it(tmp_path, capsys):
    target = tmp_path / "steps.md"
    target.write_text("# old\n", encoding="utf-8")
    assert catalogue.main(["--check", str(target)]) == 1
    assert "is stale" in capsys.readouterr().err
    assert catalogue.main([str(target)]) == 0
    assert catalogue.main(["--check", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == catalogue.render_catalogue()


@pytest.mark.parametrize("module", catalogue.MODULES)
def test_every_step_function_of_the_library_has_an_entry(module):
    [(_, funcs)] = catalogue.step_functions([module])
    text = CATALOGUE.read_text(encoding="utf-8")
    assert funcs and all(f"### `{f.__name__}`" in text for f in funcs)

"""The console script on a core install (no extra's packages at all, tests/environments.py): the
core commands work, and a feature whose extra is missing says, in one line, what to install."""

from __future__ import annotations

import pytest
from cli_helpers import REPO, assert_one_line_error, closed_port, needs_cli, run
from environments import CORE_ONLY, python_without

from invoicebox_flow.store import Store

pytestmark = needs_cli


@pytest.fixture(scope="module")
def core(tmp_path_factory) -> tuple[tuple[str, ...], dict[str, str]]:
    prefix, env = python_without(tmp_path_factory.mktemp("core"), *CORE_ONLY)
    return tuple(prefix), env


@pytest.mark.parametrize(("args", "message"), [
    (("sandbox", "--port", "0"), "the local sandbox needs the 'sandbox' extra: pip install 'invoicebox-flow[sandbox]'"),
    (("demo",), "the demo needs the 'sandbox' extra: pip install 'invoicebox-flow[sandbox]'"),
    (("webhook", "serve", "--port", "0"),
     "the webhook server needs the 'server' extra: pip install 'invoicebox-flow[server]'"),
    (("orders", "list", "--db", "postgresql+psycopg://shop@127.0.0.1/shop"),
     "a PostgreSQL store needs the 'postgres' extra: pip install 'invoicebox-flow[postgres]'"),
    (("diagrams", "--svg", "--root", "{tmp}"), "rendering pictures needs the 'svg' extra: pip install 'invoicebox-flow[svg]'"),
], ids=["sandbox", "demo", "webhook-serve", "postgres", "svg"])
def test_a_missing_extra_is_one_line_naming_it(core, tmp_path, args, message):
    prefix, env = core
    result = run(*(a.format(tmp=tmp_path) for a in args), prefix=prefix, env=env, cwd=tmp_path)
    assert assert_one_line_error(result) == f"error: {message}"
    assert not any(tmp_path.iterdir())  # refused before anything was written


def test_the_core_commands_work_without_any_extra(core, tmp_path):
    prefix, env = core
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    with Store(db) as store:
        store.counts()  # an empty, real store
    listed = run("orders", "list", "--db", db, prefix=prefix, env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip() == "no orders"
    checked = run("diagrams", "--check", prefix=prefix, env=env, cwd=REPO)
    assert checked.returncode == 0, checked.stderr
    env_with_token = {**env, "INVOICEBOX_TOKEN": "0" * 32}
    auth = run("check-auth", "--base-url", f"http://127.0.0.1:{closed_port()}", prefix=prefix, env=env_with_token)
    assert "connection" in assert_one_line_error(auth).lower()

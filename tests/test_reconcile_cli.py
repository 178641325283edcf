"""``invoicebox-flow reconcile`` as cron runs it: the console script against a sandbox and a store."""

from __future__ import annotations

import json

from cli_helpers import assert_one_line_error, clean_env, run
from reconcile_helpers import paid, paid_unannounced

from invoicebox_flow.reconcile import ACTOR


def env_for(sandbox, store) -> dict[str, str]:
    return clean_env(INVOICEBOX_TOKEN=sandbox.token, INVOICEBOX_BASE_URL=sandbox.url, INVOICEBOX_FLOW_DB=store.url)


def test_the_exit_status_says_agree_healed_or_needs_a_person(flow, buyer, sandbox, store):
    env = env_for(sandbox, store)
    paid(flow, buyer, sandbox, "A-1")
    agree = run("reconcile", env=env)
    assert agree.returncode == 0, agree.stderr
    assert "the books agree" in agree.stdout and "1 order(s)" in agree.stdout

    paid_unannounced(flow, buyer, sandbox, "A-2")
    found = run("reconcile", env=env)
    assert found.returncode == 1, found.stderr
    assert "missed_payment" in found.stdout and "run with --heal" in found.stdout
    healed = run("reconcile", "--heal", env=env)
    assert healed.returncode == 1 and "healed (1): A-2 (missed_payment)" in healed.stdout
    assert [e.trigger for e in flow.history("A-2") if e.actor == ACTOR] == ["confirm_payment"]

    sandbox.drift_refund(flow.get("A-1").invoicebox_id)
    human = run("reconcile", "--heal", "--json", env=env)
    assert human.returncode == 2, human.stderr
    report = json.loads(human.stdout)
    assert report["counts"] == {"unknown_refund": 1} and report["exit_code"] == 2
    [finding] = report["findings"]
    assert (finding["order"], finding["safe"], finding["outcome"], finding["needs_human"]) == (
        "A-1", False, "found", True)
    assert report["orders"] == 2 and report["api_calls"] == 3 and report["calls_per_order"] == "1.500"


def test_it_needs_only_the_api_settings_and_an_existing_store(sandbox, store, tmp_path):
    env = env_for(sandbox, store)
    missing = run("reconcile", env={k: v for k, v in env.items() if k != "INVOICEBOX_TOKEN"})
    assert missing.returncode == 3 and "INVOICEBOX_TOKEN" in assert_one_line_error(missing)
    nowhere = run("reconcile", "--db", f"sqlite:///{tmp_path / 'typo.db'}", env=env)
    assert nowhere.returncode == 3 and "no store at" in assert_one_line_error(nowhere)
    assert not (tmp_path / "typo.db").exists()
    bad = run("reconcile", "--since", "yesterday", env=env)
    assert bad.returncode == 3 and "ISO 8601" in assert_one_line_error(bad)
    usage = run("reconcile", "--hael", env=env)
    assert usage.returncode == 3 and "--hael" in assert_one_line_error(usage)


def test_the_worker_sweeps_periodically_and_heals(flow, buyer, sandbox, store):
    paid_unannounced(flow, buyer, sandbox, "A-1")
    sandbox.drift_refund(paid(flow, buyer, sandbox, "A-2").invoicebox_id)
    done = run("worker", "--once", "--reconcile-every", "3600", env=env_for(sandbox, store))
    assert done.returncode == 0, done.stderr
    assert "reconciliation sweep 1: 2 order(s), 2 difference(s), 1 healed" in done.stderr
    assert "order A-2 needs a person: unknown_refund" in done.stderr
    assert flow.get("A-1").state == "paid"
    assert [e.trigger for e in flow.history("A-1") if e.actor == ACTOR] == ["confirm_payment"]

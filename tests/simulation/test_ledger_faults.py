"""Seeded fault simulation of the ledger on SQLite and PostgreSQL (see
``shebao.devtools.ledger_simulation``): a few thousand operations — postings, retries with the same
key, the same key with changed content, reversals, bad requests, concurrent writers on the
same accounts, connections dropped mid-transaction and writer processes killed with SIGKILL
mid-transaction — with the database compared to a shadow model and the invariants checked
after every step. Longer runs: ``bench/ledger_sim.py --ops 10000 --seed S``."""
import os

from shebao.devtools.ledger_simulation import Simulator

SEED = int(os.environ.get("SHEBAO_SIM_SEED", "20261128"))
OPS = int(os.environ.get("SHEBAO_SIM_OPS", "2000"))


def test_ledger_fault_simulation(db_url):
    sim = Simulator(db_url, SEED, persons=30, kill_every=OPS // 3, full_every=200)
    out = sim.run(OPS)
    assert out["violations"] == 0
    assert out["ops"] >= OPS
    # the faults really happened, and were refused / survived as the model predicted
    assert out["by_op"].get("kill", 0) >= 2
    assert out["by_op"]["concurrent"] >= 1 and out["by_op"]["drop"] >= 1
    assert out["refused_as_expected"]["conflict"] >= 1
    assert out["refused_as_expected"]["bad_request"] >= 1
    assert out["refused_as_expected"]["negative"] >= 1
    assert out["entries"] > OPS // 2

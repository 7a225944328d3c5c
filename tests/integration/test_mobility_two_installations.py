"""A pension relation moves between two separate installations over real HTTP (issue #15
point 1): Shanghai ("sh": the sample world on PostgreSQL) is the old place, Zhejiang ("zj": a
fresh SQLite database) the new one; each a uvicorn server with its own signing key, each
registered at the other as a partner of kind ``installation`` serving its province.

The person applies in Hangzhou → Zhejiang's contact letter travels to Shanghai, which opens its
copy and its case → Shanghai's two clerks issue the certificate and the funds leave through its
ledger (transfer clearing) → the certificate travels to Zhejiang, whose clerk records the history
and the funds through its ledger → the acknowledgement closes Shanghai's copy. Every message is
a signed ``notify`` of event ``transfer`` from sharing's outbox, kept in the exchange with its
purpose and audited; both ledgers balance; a retried message changes nothing."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text

from tests.integration.test_sharing_two_installations import (  # noqa: F401
    ADMIN, _world_pg, installations)
from tests.service.mobility.conftest import fund_account, fund_pool
from shebao.benefits import determination
from shebao.benefits.history import history_rows
from shebao.cases import queries as case_queries
from shebao.core.actor import Actor
from shebao.ledger import check
from shebao.ledger import service as ledger
from shebao.ledger.model import account_code
from shebao.mobility import queries as mobility
from shebao.mobility import transfers
from shebao.registry import service as registry
from shebao.registry.queries import person_facts
from shebao.security.tables import audit_log
from shebao.sharing import outbound, partners, queries
from shebao.sharing.mobility_link import COURIER

SH_OLD, ZJ_NEW = "310104", "330106"
SH_MAKER = Actor(id="sh-clerk-a", role="benefits_clerk", scope="310000")
SH_CHECKER = Actor(id="sh-clerk-b", role="benefits_clerk", scope="310000")
ZJ_CLERK = Actor(id="zj-clerk", role="benefits_clerk", scope="330000")
SYSTEM = Actor(id="system", role="system")
REGISTRAR = Actor(id="reg", role="system")


def _bal(engine, region, kind, person=None):
    return ledger.balance(engine, account_code(region, "pension", kind, person))


def _region(engine, pid):
    with engine.connect() as c:
        return person_facts(c, [pid])[pid]["pension_region"]


def test_a_pension_relation_moves_between_two_installations(installations):
    world, (sh, ksh, sh_http), (zj, kzj, zj_http) = installations
    _, zj_at_sh_id, zj_at_sh_secret = partners.register(
        sh, ADMIN, code="zj", name="浙江省社会保险经办机构", kind="installation", region="310000",
        scopes=["notify:transfer"], public_key=kzj.public.x, base_url=zj_http,
        serves=["330000"])
    _, sh_at_zj_id, sh_at_zj_secret = partners.register(
        zj, ADMIN, code="sh", name="上海市社会保险事业管理中心", kind="installation",
        region="330000", scopes=["notify:transfer"], public_key=ksh.public.x, base_url=sh_http,
        serves=["310000"])

    def deliver(engine, key, us):        # each side's sharing worker, over HTTP
        creds = {"sh": (zj_at_sh_id, zj_at_sh_secret), "zj": (sh_at_zj_id, sh_at_zj_secret)}
        return outbound.deliver_due(engine, key, us=us, credentials=lambda code: creds[code])

    # Shanghai's record of the person: ten years of history, the account, the pool
    cid, sh_pid = world.citizen_ids[SH_OLD], world.persons[SH_OLD]
    determination.record_history(sh, REGISTRAR, sh_pid, [
        {"region": SH_OLD, "period_start": dt.date(y, 1, 1), "months": 12,
         "base_total_fen": 12 * (600_000 if y < 2015 else 800_000), "kind": "paid"}
        for y in range(2010, 2020)], source="legacy import")
    fund_account(sh, SH_OLD, sh_pid, 6_720_000, dt.date(2019, 12, 31))
    fund_pool(sh, SH_OLD, 50_000_000, dt.date(2019, 12, 31))
    with sh.connect() as c:
        sh_periods = history_rows(c, [sh_pid])[sh_pid][0]
    # the person is known in Zhejiang (enrolled with a Hangzhou employer)
    zj_pid = registry.register_person(zj, REGISTRAR, citizen_id=cid, name="李娜",
                                      hukou_region=ZJ_NEW, valid_from=dt.date(2020, 1, 1))

    # 1. the application at the new place: the old place is another installation
    applied = dt.date(2025, 3, 3)
    tid = transfers.apply(zj, ZJ_CLERK, kind="pension", person_id=zj_pid, to_region=ZJ_NEW,
                          from_region=SH_OLD, on=applied, courier=COURIER)
    t = mobility.transfer(zj, tid)
    assert (t["peer"], t["status"], t["temporary"]) == ("sh", "applied", False)
    ref = t["peer_ref"]
    transfers.send_contact_letter(zj, ZJ_CLERK, tid, on=dt.date(2025, 3, 5), courier=COURIER)
    # Zhejiang cannot do Shanghai's step
    try:
        transfers.request_transfer_out(zj, ZJ_CLERK, tid)
        raise AssertionError("the old place's step was done at the new place")
    except Exception as exc:
        assert "installation sh" in str(exc)
    assert (deliver(zj, kzj, "zj").sent, deliver(zj, kzj, "zj").sent) == (1, 0)

    # 2. Shanghai received the letter: its copy, its case, its transfer_out clock (10 WD)
    (copy,) = mobility.transfers_of(sh, SYSTEM, sh_pid)
    assert (copy["peer"], copy["peer_ref"], copy["status"], copy["from_region"],
            copy["to_region"]) == ("zj", ref, "letter_sent", SH_OLD, ZJ_NEW)
    assert [(s["step"], s["region"], s["done_on"], s["due_on"]) for s in copy["steps"]] == [
        ("contact_letter", ZJ_NEW, dt.date(2025, 3, 5), dt.date(2025, 3, 24)),
        ("transfer_out", SH_OLD, None, copy["steps"][1]["due_on"])]
    assert copy["steps"][1]["due_on"] > dt.date(2025, 3, 5)
    assert case_queries.get(sh, copy["case_out_id"]).status in ("received", "in_progress")
    with sh.connect() as c:
        (row,) = c.execute(select(audit_log.c.actor, audit_log.c.purpose).where(
            audit_log.c.action == "mobility.transfer.letter_received")).all()
    assert row == ("partner:zj", "pension relation transfer: contact letter")

    # 3. Shanghai: the certificate, four eyes, the funds leave through its ledger
    held = _bal(sh, SH_OLD, "individual", sh_pid)     # the world's months and the funding
    assert held >= 6_720_000
    transfers.request_transfer_out(sh, SH_MAKER, copy["id"])
    transfers.approve_transfer_out(sh, SH_CHECKER, copy["id"], on=dt.date(2025, 3, 10),
                                   courier=COURIER)
    copy = mobility.transfer(sh, copy["id"])
    account, pooled = copy["account_fen"], copy["pooled_fen"]
    # the account in full; 12% of the bases of 2010–19 (rules-2 §1.2: 840,000 → 100,800)
    assert (account, pooled) == (held, 10_080_000)
    assert _bal(sh, SH_OLD, "individual", sh_pid) == 0
    assert _bal(sh, SH_OLD, "transfer_clearing") == -(account + pooled)
    assert check.run_check(sh).ok
    assert deliver(sh, ksh, "sh").sent == 1

    # 4. Zhejiang has the certificate; its record_in clock runs; it records
    t = mobility.transfer(zj, tid)
    assert t["status"] == "funds_sent" and (t["account_fen"], t["pooled_fen"]) == (account, pooled)
    assert [(s["step"], s["done_by"]) for s in t["steps"]][:2] == [
        ("contact_letter", "zj-clerk"), ("transfer_out", "partner:sh")]
    transfers.record_in(zj, ZJ_CLERK, tid, on=dt.date(2025, 3, 12), courier=COURIER)
    assert _bal(zj, ZJ_NEW, "individual", zj_pid) == account
    assert _bal(zj, ZJ_NEW, "pooled_fund") == pooled
    assert _bal(zj, ZJ_NEW, "transfer_clearing") == account + pooled
    assert _bal(sh, SH_OLD, "transfer_clearing") + _bal(zj, ZJ_NEW, "transfer_clearing") == 0
    assert check.run_check(zj).ok
    # the person's history arrived: the same periods, still Shanghai's
    with zj.connect() as c:
        zj_periods = history_rows(c, [zj_pid])[zj_pid][0]
    assert [(p.region, p.period_start, p.months, p.base_total_fen) for p in zj_periods] == \
        [(p.region, p.period_start, p.months, p.base_total_fen) for p in sh_periods]
    assert sum(p.months for p in zj_periods) == 120
    assert _region(zj, zj_pid) == ZJ_NEW
    assert deliver(zj, kzj, "zj").sent == 1

    # 5. both copies recorded, both cases closed, every step within its limit
    for engine, tr, case_key, outcome in ((zj, tid, "case_in_id", "recorded"),
                                          (sh, copy["id"], "case_out_id", "transferred")):
        x = mobility.transfer(engine, tr)
        assert x["status"] == "recorded"
        assert [(s["step"], s["outcome"]) for s in x["steps"]] == [
            ("contact_letter", "done"), ("transfer_out", "done"), ("record_in", "done")]
        assert all(s["done_on"] <= s["due_on"] for s in x["steps"])
        case = case_queries.get(engine, x[case_key])
        assert (case.status, case.outcome) == ("closed", outcome)
    assert _region(sh, sh_pid) == ZJ_NEW           # Shanghai knows where the relation went

    # every message is kept at both ends with its purpose
    assert [e["kind"] for e in queries.exchanges(sh, partner_code="zj", direction="in")] == \
        ["notify:transfer"] * 2
    assert [e["purpose"] for e in queries.exchanges(zj, partner_code="sh", direction="in")] == \
        ["pension relation transfer: contribution certificate and funds"]

    # a retry after a lost answer (the sender's outbox sends the certificate again under the
    # same reference): the stored answer, nothing done twice
    with sh.begin() as c:
        c.execute(text("UPDATE partner_delivery SET status = 'pending' "
                       "WHERE reference_id = :r"), {"r": f"{ref}.out"})
    assert deliver(sh, ksh, "sh").sent == 1
    assert _bal(zj, ZJ_NEW, "individual", zj_pid) == account
    assert len(queries.exchanges(zj, partner_code="sh", direction="in")) == 1


def test_refusals_travel_and_an_unknown_person_is_rejected(installations):
    """A letter about someone the old installation does not know is rejected there, and the
    new place's delivery fails with the reason (for a clerk); a refusal in writing at the old
    place ends the transfer at both ends."""
    world, (sh, ksh, sh_http), (zj, kzj, zj_http) = installations
    _, a_id, a_secret = partners.register(
        sh, ADMIN, code="zj", name="浙江", kind="installation", region="310000",
        scopes=["notify:transfer"], public_key=kzj.public.x, base_url=zj_http, serves=["330000"])
    _, b_id, b_secret = partners.register(
        zj, ADMIN, code="sh", name="上海", kind="installation", region="330000",
        scopes=["notify:transfer"], public_key=ksh.public.x, base_url=sh_http, serves=["310000"])
    creds = {"sh": (a_id, a_secret), "zj": (b_id, b_secret)}

    def deliver(engine, key, us):
        return outbound.deliver_due(engine, key, us=us, credentials=lambda code: creds[code])

    on = dt.date(2025, 3, 3)
    stranger = registry.register_person(zj, REGISTRAR, citizen_id="330106199001010018",
                                        name="王五", hukou_region=ZJ_NEW,
                                        valid_from=dt.date(2020, 1, 1))
    t1 = transfers.apply(zj, ZJ_CLERK, kind="pension", person_id=stranger, to_region=ZJ_NEW,
                         from_region=SH_OLD, on=on, courier=COURIER)
    transfers.send_contact_letter(zj, ZJ_CLERK, t1, on=on, courier=COURIER)
    res = deliver(zj, kzj, "zj")
    assert (res.sent, res.failed) == (0, 1)
    (failed,) = outbound.pending(zj)
    assert failed["status"] == "failed" and "no person" in failed["last_error"]

    cid, sh_pid = world.citizen_ids[SH_OLD], world.persons[SH_OLD]
    zj_pid = registry.register_person(zj, REGISTRAR, citizen_id=cid, name="李娜",
                                      hukou_region=ZJ_NEW, valid_from=dt.date(2020, 1, 1))
    t2 = transfers.apply(zj, ZJ_CLERK, kind="pension", person_id=zj_pid, to_region=ZJ_NEW,
                         from_region=SH_OLD, on=on, courier=COURIER)
    transfers.send_contact_letter(zj, ZJ_CLERK, t2, on=on, courier=COURIER)
    assert deliver(zj, kzj, "zj").sent == 1
    (copy,) = mobility.transfers_of(sh, SYSTEM, sh_pid)
    transfers.refuse(sh, SH_MAKER, copy["id"], "contributions under review by inspection",
                     on=dt.date(2025, 3, 6), courier=COURIER)
    assert deliver(sh, ksh, "sh").sent == 1
    x = mobility.transfer(zj, t2)
    assert (x["status"], x["reason"]) == ("refused", "contributions under review by inspection")
    assert [(s["step"], s["outcome"], s["done_by"]) for s in x["steps"]] == [
        ("contact_letter", "done", "zj-clerk"), ("transfer_out", "refused", "partner:sh")]
    case = case_queries.get(zj, x["case_in_id"])
    assert (case.status, case.outcome) == ("closed", "refused")
    assert case_queries.get(sh, copy["case_out_id"]).outcome == "refused"
    # a new application is possible afterwards
    assert transfers.apply(zj, ZJ_CLERK, kind="pension", person_id=zj_pid, to_region=ZJ_NEW,
                           from_region=SH_OLD, on=on, courier=COURIER) != t2

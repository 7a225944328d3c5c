"""The living-certification cycle of pensioners (领取待遇资格认证; rules-2.md §5; SAR art. 26).

    run_month(db, actor, region, month) -> RunResult        # set-based, the whole region
    record_signals(db, actor, rows, source) -> int          # data feeds (hospital, travel, …)
    certify(db, actor, person_id, on, method) -> dict       # the person (portal, e-card) or a counter

State per pensioner (``certification_state``, the pure rules in :mod:`.model`): *certified*
(the last certification and its method), *suspended* from a month, *deceased*. The monthly run:

1. pensioners with an award in payment (``benefits.queries.awards_sql``) and no state yet
   enter as certified on their award's start (determination checked their identity);
2. **data comparison**: the newest certifying signal (``mobility.certification_signal_kinds``)
   after a pensioner's last certification certifies them on its date; a suspended pensioner
   resumes (from the month after, or this month) with the suspended months back-paid;
3. **deaths** (``registry`` death dates, from the civil-affairs/hukou feeds): deceased; the
   payments after the month of death become overpayments (``benefits.life_events
   .detect_overpayments``: recovery with ledger entries; the award stops);
4. **expiry**: a certified pensioner whose last certification is older than the window
   (``mobility.certification_window_months``) is suspended from this month;
5. the payroll learns of 3–4 through ``living_certification`` (``benefits.life_events
   .record_certification_outcomes``, set-based): a failure stops payment, a pass resumes it.

Every step is one statement over the region (or over the rows that changed, staged from
numpy): no loop over people touches the database. One transaction, one audit row per run.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from sqlalchemy import insert, select, text

from shebao.benefits import awards, life_events
from shebao.benefits.claims import LineSpec
from shebao.benefits import queries as benefits_queries
from shebao.core.actor import SYSTEM, Actor
from shebao.core.errors import ConflictError, InputError
from shebao.core.periods import add_months
from shebao.db import bulk, dialect
from shebao.db.uow import now, transaction
from shebao.notices import bulk as bulk_notices
from shebao.notices import outbox
from shebao.registry import access as registry_access
from shebao.registry import queries as registry_queries
from shebao.rules import load_rules
from shebao.security import audit, policy

from . import model
from .tables import certification_event, certification_run, certification_signal, certification_state

EPOCH = dt.date(1970, 1, 1)


def _day(d: dt.date) -> int:
    return (d - EPOCH).days


def _date(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(n))


def _months_index(days: np.ndarray) -> np.ndarray:
    """Day numbers → months since 1970-01 (vectorised)."""
    return (np.datetime64("1970-01-01") + days.astype("timedelta64[D]")).astype(
        "datetime64[M]").astype(np.int64)


def _month_day(mi: np.ndarray) -> np.ndarray:
    """Months since 1970-01 → the day number of the month's first day."""
    return (mi.astype("datetime64[M]").astype("datetime64[D]") - np.datetime64("1970-01-01")
            ).astype(np.int64)


@dataclass
class RunResult:
    run_id: int
    region: str
    month: dt.date
    pensioners: int
    entered: int
    data_certified: int
    resumed: int
    back_pay_months: int
    deceased: int
    suspended: int
    due: int
    overpayments: int
    notices: dict | None = None     # {'due': n, 'suspended': n} enqueued by this run


def _signal_kinds(rules, region: str, month: dt.date) -> list[str]:
    kinds = rules.value("mobility.certification_signal_kinds", region, month)
    return sorted(k for k, on in kinds.items() if on)


def run_month(db, actor: Actor, region: str, month: dt.date) -> RunResult:
    """The monthly run over every pensioner of ``region`` (see the module doc)."""
    if actor.role != "system":
        policy.require(actor, "mobility.certification.work")
        policy.require_region(actor, region)
    m = month.replace(day=1)
    nxt = add_months(m, 1)
    rules = load_rules()
    window = int(rules.value("mobility.certification_window_months", region, m))
    remind = int(rules.value("mobility.certification_reminder_months", region, m))
    kinds = _signal_kinds(rules, region, m)
    cutoff = model.expiry_cutoff(m, window)
    with transaction(db) as conn:
        if conn.execute(select(certification_run.c.id).where(
                certification_run.c.region == region, certification_run.c.month == m)).first():
            raise ConflictError(f"the certification run of {region} for {m:%Y-%m} was done")
        rid = conn.execute(insert(certification_run).values(
            region=region, month=m, n_pensioners=0, n_data=0, n_suspended=0, n_resumed=0,
            n_deceased=0, n_due=0, run_by=actor.id, run_at=now()
        ).returning(certification_run.c.id)).scalar_one()
        p = {"r": region, "m": m, "by": actor.id, "rid": rid}
        entered = conn.execute(text(
            "INSERT INTO certification_state (person_id, region, state, last_certified_on, "
            "last_method, back_pay_months, updated_month) "
            "SELECT a.person_id, a.region, 'certified', min(a.start_month), 'award', 0, :m "
            f"FROM ({benefits_queries.awards_sql()}) a WHERE a.region = :r "
            "AND a.status = 'active' AND NOT EXISTS (SELECT 1 FROM certification_state s "
            "WHERE s.person_id = a.person_id) GROUP BY a.person_id, a.region"), p).rowcount
        data_n, resumed, back_months = _data_comparison(conn, actor, rid, region, m, nxt, kinds)
        deceased, over = _deaths(conn, actor, rid, region, m)
        suspended = _expire(conn, actor, rid, region, m, cutoff)
        due = conn.execute(text(
            "SELECT count(*) FROM certification_state WHERE region = :r AND state = 'certified' "
            "AND last_certified_on >= :c AND last_certified_on < :c2"),
            {"r": region, "c": cutoff, "c2": add_months(cutoff, remind)}).scalar_one()
        notices = _notices(conn, region, m, cutoff, remind)
        total = conn.execute(text("SELECT count(*) FROM certification_state WHERE region = :r"),
                             p).scalar_one()
        conn.execute(certification_run.update().where(certification_run.c.id == rid).values(
            n_pensioners=total, n_data=data_n, n_suspended=suspended, n_resumed=resumed,
            n_deceased=deceased, n_due=due))
        audit.record(conn, actor, "mobility.certification.run", "region", region, detail={
            "month": m, "run": rid, "pensioners": total, "entered": entered,
            "data_certified": data_n, "resumed": resumed, "back_pay_months": back_months,
            "deceased": deceased, "suspended": suspended, "due": due, "overpayments": over,
            "window_months": window, "notices": notices})
        return RunResult(rid, region, m, int(total), int(entered), data_n, resumed, back_months,
                         deceased, suspended, int(due), over, notices)


def _data_comparison(conn, actor, rid, region, m, nxt, kinds) -> tuple[int, int, int]:
    """Newest certifying signal after each pensioner's last certification (rows that change
    only): certified on its date; the suspended ones resume with back pay."""
    if not kinds:
        return 0, 0, 0
    marks = ", ".join(f":k{i}" for i in range(len(kinds)))
    params = {"r": region, "nxt": nxt, **{f"k{i}": k for i, k in enumerate(kinds)}}
    d = lambda c: dialect.days_since_epoch(conn, c)  # noqa: E731
    rows = bulk.fetch_int_matrix(conn, (
        f"SELECT s.person_id, {d('max(g.seen_on)')}, "
        f"CASE WHEN s.state = 'suspended' THEN 1 ELSE 0 END, "
        f"COALESCE({d('s.suspended_from')}, 0) "
        "FROM certification_state s JOIN certification_signal g ON g.person_id = s.person_id "
        f"WHERE s.region = :r AND s.state <> 'deceased' AND g.kind IN ({marks}) "
        "AND g.seen_on > s.last_certified_on AND g.seen_on < :nxt "
        "GROUP BY s.person_id, s.state, s.suspended_from"), params, 4, order_by="c0")
    if len(rows) == 0:
        return 0, 0, 0
    pid, seen, susp, sfrom = rows[:, 0], rows[:, 1], rows[:, 2] == 1, rows[:, 3]
    # resume from max(month after the signal, this month, the suspension) — model.on_certified
    m_idx = (m.year - 1970) * 12 + m.month - 1
    resume_mi = np.maximum(np.maximum(_months_index(seen) + 1, m_idx), _months_index(sfrom))
    back = np.where(susp, resume_mi - _months_index(sfrom), 0)
    resume_day = np.where(susp, _month_day(resume_mi), 0)
    bulk.stage(conn, "cert_data_stage", [("person_id", "i8"), ("seen", "date"),
                                         ("susp", "i8"), ("resume", "date"), ("back", "i8")],
               {"person_id": pid, "seen": seen, "susp": susp.astype(np.int64),
                "resume": resume_day, "back": back})
    conn.execute(text(
        "UPDATE certification_state SET last_certified_on = x.seen, last_method = 'data', "
        "state = 'certified', updated_month = :m, "
        "suspended_from = CASE WHEN x.susp = 1 THEN NULL ELSE certification_state.suspended_from END, "
        "resumed_from = CASE WHEN x.susp = 1 THEN x.resume ELSE certification_state.resumed_from END, "
        "back_pay_months = CASE WHEN x.susp = 1 THEN x.back "
        "ELSE certification_state.back_pay_months END "
        "FROM cert_data_stage x WHERE certification_state.person_id = x.person_id"), {"m": m})
    conn.execute(text(
        "INSERT INTO certification_event (person_id, event, on_date, method, months, run_id, "
        "recorded_by) SELECT person_id, CASE WHEN susp = 1 THEN 'resume' ELSE 'data' END, "
        "CASE WHEN susp = 1 THEN resume ELSE seen END, 'data', "
        "CASE WHEN susp = 1 THEN back ELSE NULL END, :rid, :by FROM cert_data_stage"),
        {"by": actor.id, "rid": rid})
    if susp.any():
        life_events.record_certification_outcomes(conn, actor, pid[susp], seen[susp], True,
                                                  "data comparison")
        # the suspended months paid back from the resumption month (one batch per month)
        for day in np.unique(resume_day[susp]):
            sel = susp & (resume_day == day)
            awards.pension_back_pay_bulk(
                conn, actor, _date(day), pid[sel], back[sel],
                "pension back pay after a living certification found by data comparison "
                "(人社部发〔2015〕32号 art. 49)", f"mobility.certification:{rid}")
    return int(len(pid)), int(susp.sum()), int(back.sum())


def _deaths(conn, actor, rid, region, m) -> tuple[int, int]:
    """Deaths known to the registry: deceased; overpayments after the month of death."""
    d = dialect.days_since_epoch(conn, "r.death_date")
    rows = bulk.fetch_int_matrix(conn, (
        f"SELECT s.person_id, {d} FROM certification_state s "
        f"JOIN ({registry_queries.payees_sql()}) r ON r.person_id = s.person_id "
        "WHERE s.region = :r AND s.state <> 'deceased' AND r.death_date IS NOT NULL"),
        {"r": region}, 2, order_by="c0")
    if len(rows) == 0:
        return 0, 0
    bulk.stage(conn, "cert_death_stage", [("person_id", "i8"), ("death", "date")],
               {"person_id": rows[:, 0], "death": rows[:, 1]})
    conn.execute(text(
        "UPDATE certification_state SET state = 'deceased', death_date = x.death, "
        "updated_month = :m FROM cert_death_stage x "
        "WHERE certification_state.person_id = x.person_id"), {"m": m})
    conn.execute(text(
        "INSERT INTO certification_event (person_id, event, on_date, method, run_id, "
        "recorded_by) SELECT person_id, 'death', death, 'registry', :rid, :by "
        "FROM cert_death_stage"), {"by": actor.id, "rid": rid})
    res = life_events.detect_overpayments(conn, actor, region)
    return int(len(rows)), int(res.n)


def _expire(conn, actor, rid, region, m, cutoff) -> int:
    """Certified pensioners past the window: suspended from this month; payroll told."""
    d = dialect.days_since_epoch(conn, "last_certified_on")
    ids = bulk.fetch_int_matrix(conn, (
        f"SELECT person_id, {d} FROM certification_state WHERE region = :r "
        "AND state = 'certified' AND last_certified_on < :c"), {"r": region, "c": cutoff}, 2,
        order_by="c0")
    if len(ids) == 0:
        return 0
    p = {"r": region, "m": m, "c": cutoff, "by": actor.id, "rid": rid}
    conn.execute(text(
        "INSERT INTO certification_event (person_id, event, on_date, method, run_id, "
        "recorded_by) SELECT person_id, 'suspend', :m, NULL, :rid, :by FROM certification_state "
        "WHERE region = :r AND state = 'certified' AND last_certified_on < :c"), p)
    conn.execute(text(
        "UPDATE certification_state SET state = 'suspended', suspended_from = :m, "
        "resumed_from = NULL, back_pay_months = 0, updated_month = :m "
        "WHERE region = :r AND state = 'certified' AND last_certified_on < :c"), p)
    # payroll: a failure checked the day before the first month not paid
    life_events.record_certification_outcomes(
        conn, actor, ids[:, 0], np.full(len(ids), _day(m) - 1, dtype=np.int64), False,
        "not certified in time")
    return int(len(ids))


def _notices(conn, region: str, m: dt.date, cutoff: dt.date, remind: int) -> dict[str, int]:
    """In the run's transaction, set-based (``notices.bulk.enqueue_from``): a reminder
    (``certification.due``) to each certified pensioner whose window ends within ``remind``
    months — one statement per month of the lead time, each cohort with its own last day — and
    a suspension notice to each pensioner suspended from this month. The keys (person × due
    day, person × suspension month) make a repeated run or the next month's add nothing."""
    due = 0
    for k in range(remind):           # the lead time's months, not the people
        last_day = add_months(m, k + 1) - dt.timedelta(days=1)
        due += bulk_notices.enqueue_from(
            conn, "SELECT person_id AS recipient_id, region FROM certification_state "
            "WHERE region = :r AND state = 'certified' AND last_certified_on >= :lo "
            "AND last_certified_on < :hi", {"r": region, "lo": add_months(cutoff, k),
                                            "hi": add_months(cutoff, k + 1)},
            recipient_type="person", template="certification.due",
            key_prefix=f"certification:due:{last_day.isoformat()}:",
            data={"due_on": last_day.isoformat()})
    suspended = bulk_notices.enqueue_from(
        conn, "SELECT person_id AS recipient_id, region FROM certification_state "
        "WHERE region = :r AND state = 'suspended' AND suspended_from = :m",
        {"r": region, "m": m}, recipient_type="person", template="certification.suspended",
        key_prefix=f"certification:suspended:{m:%Y-%m}:",
        data={"suspended_from": f"{m:%Y-%m}"})
    return {"due": int(due), "suspended": int(suspended)}


# ------------------------------------------------------------------------------ data feeds
def record_signals(db, actor: Actor, person_ids, kinds, seen_days, source: str) -> int:
    """A data feed's certifying signals (arrays: person id, kind, day number seen), in bulk."""
    if actor.role != "system":
        policy.require(actor, "mobility.certification.work")
    ids = np.asarray(person_ids, dtype=np.int64)
    kinds = np.asarray(kinds).astype(str)
    known = set(_signal_kinds(load_rules(), "national", now().date()))
    bad = sorted(set(kinds.tolist()) - known)
    if bad:
        raise InputError(f"unknown signal kind(s) {bad}; known: {sorted(known)}", field="kind")
    with transaction(db) as conn:
        n = bulk.insert_columns(conn, "certification_signal", [
            ("person_id", "i8"), ("kind", "T"), ("seen_on", "date"), ("source", "T"),
            ("recorded_at", "ts")],
            {"person_id": ids, "kind": kinds.astype(object), "seen_on": np.asarray(seen_days),
             "source": source[:64], "recorded_at": now()})
        audit.record(conn, actor, "mobility.certification.signals", "feed", source[:64],
                     detail={"rows": n})
        return n


# ------------------------------------------------------------------------ self certification
METHODS = ("portal", "e_card", "face", "counter", "home_visit")


def certify(db, actor: Actor, person_id: int, on: dt.date | None = None,
            method: str = "portal") -> dict:
    """The pensioner certifies (portal, e-card, face check) or a clerk at a counter or on a
    home visit does. A suspended pensioner resumes with back pay (:func:`model.on_certified`)."""
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}", field="method")
    on = on or now().date()
    if on > now().date():
        raise InputError("a certification cannot be dated in the future", field="on")
    with transaction(db) as conn:
        if actor.role == "citizen":
            policy.require(actor, "mobility.certification.self")
            registry_access.check_person(conn, actor, person_id)
        row = conn.execute(select(certification_state).where(
            certification_state.c.person_id == person_id)).mappings().first()
        if row is None:
            raise InputError(f"person {person_id} is not a pensioner in the certification "
                             "cycle", field="person_id")
        if actor.role not in ("citizen", "system"):
            policy.require(actor, "mobility.certification.work")
            policy.require_region(actor, row["region"])
        s = model.CertState(row["state"], _d(row["last_certified_on"]),
                            _d(row["suspended_from"]), _d(row["resumed_from"]),
                            int(row["back_pay_months"] or 0), _d(row["death_date"]))
        was = s.state
        s = model.on_certified(s, on, on.replace(day=1))
        conn.execute(certification_state.update().where(
            certification_state.c.person_id == person_id).values(
            state=s.state, last_certified_on=s.last_certified_on, last_method=method,
            suspended_from=s.suspended_from, resumed_from=s.resumed_from,
            back_pay_months=s.back_pay_months, updated_month=on.replace(day=1)))
        events = [dict(person_id=person_id, event="self", on_date=on, method=method,
                       recorded_by=actor.id)]
        if was == model.SUSPENDED:
            events.append(dict(person_id=person_id, event="resume", on_date=s.resumed_from,
                               method=method, months=s.back_pay_months, recorded_by=actor.id))
            # the payroll resumes: recorded by the platform on the pensioner's behalf
            life_events.record_certification_outcomes(
                conn, SYSTEM if actor.role == "citizen" else actor, [person_id], [_day(on)],
                True, method)
        conn.execute(insert(certification_event), events)
        back_fen = 0
        if was == model.SUSPENDED and s.back_pay_months:
            back_fen = _back_pay(conn, actor, person_id, s)
        if was == model.SUSPENDED:
            outbox.enqueue(conn, recipient_type="person", recipient_id=person_id,
                           region=row["region"], template="certification.resumed",
                           data={"certified_on": on, "resumed_from": s.resumed_from,
                                 "back_pay_months": s.back_pay_months},
                           key=f"certification:{person_id}:resumed:{on.isoformat()}")
        audit.record(conn, actor, "mobility.certification.certify", "person", person_id,
                     detail={"on": on, "method": method, "was": was,
                             "resumed_from": s.resumed_from,
                             "back_pay_months": s.back_pay_months if was == "suspended" else 0,
                             "back_pay_fen": back_fen})
        return {"state": s.state, "resumed_from": s.resumed_from,
                "back_pay_months": s.back_pay_months if was == model.SUSPENDED else 0}


def _d(v):
    return dt.date.fromisoformat(v[:10]) if isinstance(v, str) else v


def _back_pay(conn, actor: Actor, person_id: int, s: model.CertState) -> int:
    """The suspended months paid back with the next payroll (人社部发〔2015〕32号 art. 49): an
    award of kind ``pension_back_pay`` with one line from the pooled pension fund
    (``benefits.awards.create_award``; payroll pays its lines) — months × the pension in
    payment now (an indexation during the suspension is not split out)."""
    rows = conn.execute(text(
        f"SELECT a.award_id, a.region, a.monthly_fen FROM ({benefits_queries.awards_sql()}) a "
        "WHERE a.person_id = :p AND a.status = 'active' ORDER BY a.award_id"),
        {"p": person_id}).all()
    if not rows:
        return 0
    case_id = benefits_queries.case_of_award(conn, rows[0].award_id)
    owed = s.back_pay_months * sum(int(r.monthly_fen) for r in rows)
    first = add_months(s.resumed_from, -s.back_pay_months)
    awards.create_award(conn, SYSTEM, case_id=case_id, kind="pension_back_pay",
                        person_id=person_id, region=rows[0].region, lines=[LineSpec(
                            "once", "back_pay", "pension", owed, s.resumed_from,
                            f"pension back pay {first:%Y-%m}..{add_months(s.resumed_from, -1):%Y-%m}"
                            " after a late living certification (人社部发〔2015〕32号 art. 49)")],
                        source="mobility.certification")
    return owed

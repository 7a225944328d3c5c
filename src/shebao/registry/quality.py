"""Data quality report: ``shebao quality report [--json]``.

Measured, not assumed. Each check gives a count and a few masked samples:

* ``invalid_citizen_id``      — not 18 characters, non-digits, impossible birth date, wrong
                                 GB 11643 check character;
* ``id_birth_date_mismatch``  — recorded birth date differs from the one in the ID;
* ``id_sex_mismatch``         — recorded sex differs from the ID's sequence parity;
* ``missing_<field>``         — mandatory fields empty (name, sex, birth date, hukou region,
                                 residence region; a bank account for pension receivers is
                                 counted as ``missing_bank_account_retired``);
* ``suspected_duplicates``    — pending pairs in the review queue, plus unqueued pairs with
                                 equal pinyin name and birth date;
* ``overlapping_enrolments``  — persons with two enrolments in one scheme overlapping;
* ``deceased_open_enrolments``— deceased persons with an enrolment open or ending after the
                                 death date.

The checks over IDs run vectorised over keyset chunks; the rest is SQL.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import and_, func, or_, select, text

from shebao.core.actor import Actor
from shebao.core.ids import mask_id, mask_name
from shebao.security import audit

from .service import transaction
from .tables import dedup_candidate, enrolment, person

SAMPLES = 5
MANDATORY = ("name", "sex", "birth_date", "hukou_region", "residence_region")
_W = np.array([2 ** (17 - i) % 11 for i in range(17)], dtype=np.int64)
_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)


def _id_checks(ids: list[str], births: list, sexes: list) -> tuple[np.ndarray, np.ndarray,
                                                                   np.ndarray]:
    """(invalid, birth mismatch, sex mismatch) boolean arrays for a chunk."""
    n = len(ids)
    norm = [(c or "") for c in ids]
    ok_len = np.array([len(c) == 18 for c in norm])
    buf = np.frombuffer("".join(c if len(c) == 18 else "#" * 18 for c in norm)
                        .encode("ascii", "replace"), dtype=np.uint8).reshape(n, 18)
    dig = buf[:, :17].astype(np.int64) - 48
    ok_dig = np.all((dig >= 0) & (dig <= 9), axis=1)
    s = (np.clip(dig, 0, 9) * _W).sum(axis=1) % 11
    ok_chk = _CHECK[s] == buf[:, 17]
    ymd = np.array([c[6:14] if len(c) == 18 else "" for c in norm])
    id_birth = np.array([f"{y[:4]}-{y[4:6]}-{y[6:]}" if len(y) == 8 else "" for y in ymd],
                        dtype="U10")
    parsed = np.array([_as_day(x) for x in id_birth], dtype="datetime64[D]")
    today = np.datetime64(dt.date.today(), "D")
    ok_date = ~np.isnat(parsed) & (parsed <= today) & (parsed >= np.datetime64("1880-01-01"))
    invalid = ~(ok_len & ok_dig & ok_chk & ok_date)
    rec_birth = np.array([b.isoformat() if b else "" for b in births], dtype="U10")
    birth_mm = ~invalid & (rec_birth != "") & (rec_birth != id_birth)
    id_sex = np.where(dig[:, 16] % 2 == 1, "M", "F")
    rec_sex = np.array([x or "" for x in sexes])
    sex_mm = ~invalid & (rec_sex != "") & (rec_sex != id_sex)
    return invalid, birth_mm, sex_mm


def _as_day(x: str):
    try:
        dt.date.fromisoformat(x)
        return np.datetime64(x, "D")
    except ValueError:
        return np.datetime64("NaT")


def report(bind, actor: Actor, *, samples: int = SAMPLES) -> dict:
    """Compute the report; one audited read (samples are masked)."""
    out: dict = {"generated_at": dt.datetime.now(dt.timezone.utc).isoformat(), "checks": {}}
    checks = out["checks"]

    def put(key, count, sample):
        checks[key] = {"count": int(count), "samples": sample[:samples]}

    with transaction(bind) as conn:
        live = person.c.status != "merged"
        out["persons"] = conn.execute(select(func.count()).select_from(person).where(live)
                                      ).scalar()
        counts = {"invalid_citizen_id": 0, "id_birth_date_mismatch": 0, "id_sex_mismatch": 0}
        smp: dict[str, list] = {k: [] for k in counts}
        last = 0
        while True:
            rows = conn.execute(select(person.c.id, person.c.citizen_id, person.c.birth_date,
                                       person.c.sex, person.c.name)
                                .where(live, person.c.id > last).order_by(person.c.id)
                                .limit(50_000)).all()
            if not rows:
                break
            last = rows[-1][0]
            inv, bmm, smm = _id_checks([r[1] for r in rows], [r[2] for r in rows],
                                       [r[3] for r in rows])
            for key, mask in (("invalid_citizen_id", inv), ("id_birth_date_mismatch", bmm),
                              ("id_sex_mismatch", smm)):
                counts[key] += int(mask.sum())
                for i in np.flatnonzero(mask)[:samples]:
                    if len(smp[key]) < samples:
                        r = rows[i]
                        smp[key].append({"person_id": r[0], "citizen_id": mask_id(r[1]),
                                         "name": mask_name(r[4]),
                                         "birth_date": r[2].isoformat() if r[2] else None,
                                         "sex": r[3]})
        for k in counts:
            put(k, counts[k], smp[k])
        for f in MANDATORY:
            col = person.c[f]
            cond = and_(live, or_(col.is_(None), col == "") if f != "birth_date"
                        else col.is_(None))
            n = conn.execute(select(func.count()).select_from(person).where(cond)).scalar()
            s = [{"person_id": r[0], "citizen_id": mask_id(r[1])} for r in conn.execute(
                select(person.c.id, person.c.citizen_id).where(cond).order_by(person.c.id)
                .limit(samples))]
            put(f"missing_{f}", n, s)
        # receivers of a pension need a bank account: retired = ended spells by retirement
        retired = select(enrolment.c.person_id).where(
            enrolment.c.scheme == "pension", enrolment.c.end_reason.like("%retirement%"))
        cond = and_(live, person.c.status == "active", person.c.bank_account.is_(None),
                    person.c.id.in_(retired))
        put("missing_bank_account_retired",
            conn.execute(select(func.count()).select_from(person).where(cond)).scalar(),
            [{"person_id": r[0], "citizen_id": mask_id(r[1])} for r in conn.execute(
                select(person.c.id, person.c.citizen_id).where(cond).limit(samples))])
        # duplicates
        pending = conn.execute(select(func.count()).select_from(dedup_candidate).where(
            dedup_candidate.c.status == "pending")).scalar()
        s = [{"candidate_id": r[0], "person_a": r[1], "person_b": r[2],
              "match_probability": round(r[3], 4)} for r in conn.execute(
            select(dedup_candidate.c.id, dedup_candidate.c.person_a, dedup_candidate.c.person_b,
                   dedup_candidate.c.match_probability)
            .where(dedup_candidate.c.status == "pending")
            .order_by(dedup_candidate.c.match_probability.desc()).limit(samples))]
        same = conn.execute(text(
            "SELECT count(*) FROM (SELECT name_pinyin, birth_date FROM person "
            "WHERE status <> 'merged' AND name_pinyin IS NOT NULL AND birth_date IS NOT NULL "
            "GROUP BY name_pinyin, birth_date HAVING count(*) > 1) g")).scalar()
        put("suspected_duplicates", pending, s)
        checks["suspected_duplicates"]["same_pinyin_and_birth_date_groups"] = int(same)
        # overlapping enrolments (same person, same scheme)
        a, b = enrolment.alias("a"), enrolment.alias("b")
        far = dt.date(9999, 12, 31)
        ov = and_(a.c.person_id == b.c.person_id, a.c.scheme == b.c.scheme, a.c.id < b.c.id,
                  a.c.start_date <= func.coalesce(b.c.end_date, far),
                  b.c.start_date <= func.coalesce(a.c.end_date, far))
        q = select(a.c.person_id, a.c.scheme, a.c.id, b.c.id).where(ov)
        n = conn.execute(select(func.count(func.distinct(a.c.person_id))).where(ov)).scalar()
        put("overlapping_enrolments", n,
            [{"person_id": r[0], "scheme": r[1], "enrolments": [r[2], r[3]]}
             for r in conn.execute(q.order_by(a.c.person_id).limit(samples))])
        # deceased with enrolments open or running past the death date
        cond = and_(person.c.status == "deceased", enrolment.c.person_id == person.c.id,
                    or_(enrolment.c.end_date.is_(None),
                        enrolment.c.end_date > person.c.death_date))
        n = conn.execute(select(func.count(func.distinct(person.c.id))).where(cond)).scalar()
        put("deceased_open_enrolments", n,
            [{"person_id": r[0], "citizen_id": mask_id(r[1]), "death_date": r[2].isoformat(),
              "enrolment_id": r[3], "scheme": r[4]} for r in conn.execute(
                select(person.c.id, person.c.citizen_id, person.c.death_date, enrolment.c.id,
                       enrolment.c.scheme).where(cond).order_by(person.c.id).limit(samples))])
        audit.record(conn, actor, "registry.quality.report", "registry", None,
                     fields=["citizen_id", "name", "birth_date", "sex"],
                     purpose="data quality report",
                     detail={k: v["count"] for k, v in checks.items()})
    return out


def render(rep: dict) -> str:
    lines = [f"Registry data quality — {rep['persons']} persons ({rep['generated_at']})"]
    for key, v in rep["checks"].items():
        lines.append(f"  {key:<32} {v['count']:>9}")
        for s in v["samples"]:
            lines.append("      " + ", ".join(f"{k}={x}" for k, x in s.items()))
    return "\n".join(lines)

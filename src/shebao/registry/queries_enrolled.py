"""Registry reads for the individual accounts (re-exported by :mod:`.queries`): who is enrolled
in a scheme with individual accounts, for ``collection.enrolment`` to open them."""
from __future__ import annotations

import numpy as np
from sqlalchemy import text

from shebao.db.bulk import fetch_int_matrix

# ---- who needs an individual account (read by collection.enrolment, which opens them)
_ACCOUNT_KINDS = "('employee', 'flexible', 'resident')"


def last_enrolment_id(conn) -> int:
    """The largest enrolment id now (a mark: the enrolments a use case adds come after it)."""
    return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM enrolment")).scalar_one())


def enrolled_persons(conn, schemes, *, region: str | None = None,
                     after_id: int = 0) -> list[tuple[str, str, np.ndarray]]:
    """``(region, scheme, person ids)`` (ids unique, ascending) of the enrolments in
    ``schemes`` (status active or ended, kinds employee / flexible / resident, as the
    assessment reads them) with ids above ``after_id``, of one region or all."""
    where = (f"scheme IN ({', '.join(repr(str(s)) for s in schemes)}) AND id > :after AND "
             f"status IN ('active', 'ended') AND kind IN {_ACCOUNT_KINDS}"
             + (" AND region = :r" if region else ""))
    p = {"after": int(after_id), "r": region}
    pairs = conn.execute(text(f"SELECT DISTINCT region, scheme FROM enrolment WHERE {where} "
                              "ORDER BY region, scheme"), p).all()
    out = []
    for r, s in pairs:
        ids = fetch_int_matrix(conn, f"SELECT DISTINCT person_id FROM enrolment WHERE {where} "
                               "AND region = :pr AND scheme = :ps", {**p, "pr": r, "ps": s}, 1)
        out.append((str(r), str(s), np.unique(ids[:, 0])))
    return out

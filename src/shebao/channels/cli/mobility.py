"""``shebao transfer …`` (relation transfers between regions and schemes), ``shebao certification
…`` (the pensioners' living certification), ``shebao compare`` and ``shebao scenario``.

    shebao transfer apply --person 42 --to 110000 [--kind pension|medical|bridge] --actor bj-clerk
    shebao transfer letter 7 --actor bj-clerk               # new place: contact letter
    shebao transfer prepare-out 7 [--months 96] --actor sh-clerk-a   # old place: sheet (maker)
    shebao transfer approve-out 7 --actor sh-clerk-b        # checker: the funds leave
    shebao transfer record-in 7 --actor bj-clerk            # new place records
    shebao transfer refuse 7 --reason "…" --actor …
    shebao transfer show 7 --actor …
    shebao transfer queue --actor …                          # open steps of my region, due first
    shebao transfer claim-place --person 42 [--date 2030-06-01] --actor …   # 待遇领取地

    shebao certification run --region 310000 --month 2025-06 --actor clerk
    shebao certification certify --person 42 --date 2025-09-12 --method counter --actor clerk
    shebao certification signals FILE.csv --source "hospital feed" --actor clerk
                                                   # person_id,kind,seen_on
    shebao certification show --person 42 --actor clerk

    shebao compare --regions 310000,110000 --date 2025-07-01 [--prefix contribution.] [--diff]
                   [--json]
    shebao scenario --region 310000 --date 2025-07-01 --overlay reform.yaml [--chart out.svg]
                    [--json] --actor clerk

Output is JSON on stdout (compare and scenario print a table unless ``--json``); bad input or a
refused account exits 2 with the reason.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Optional

import typer

from shebao.core.errors import InputError
from shebao.core.periods import parse_month

from .actor import ACTOR, engine_and_actor
from .common import out as _out

transfer_app = typer.Typer(no_args_is_help=True,
                           help="Relation transfers between regions and schemes.")
certification_app = typer.Typer(no_args_is_help=True,
                                help="Pensioners' living certification: runs, self and counter "
                                     "certification, data feeds.")


def _date(text: str | None, field: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text!r} is not a date YYYY-MM-DD", field=field) from None


def _transfer(engine, tid: int) -> dict:
    from shebao.mobility import queries
    t = queries.transfer(engine, tid)
    if t is None:
        raise InputError(f"no transfer {tid}", field="transfer_id")
    return t


# ----------------------------------------------------------------------------- transfers
@transfer_app.command("apply")
def apply_cmd(person: int = typer.Option(..., "--person"), to: str = typer.Option(..., "--to"),
              kind: str = typer.Option("pension", "--kind"),
              from_region: Optional[str] = typer.Option(None, "--from"),
              date: Optional[str] = typer.Option(None, "--date"), actor: Optional[str] = ACTOR):
    """Apply at the new place (a clerk of the new place)."""
    from shebao.mobility import transfers
    from shebao.sharing.mobility_link import COURIER
    eng, who = engine_and_actor(actor, permission="mobility.transfer.apply", region=to)
    tid = transfers.apply(eng, who, kind=kind, person_id=person, to_region=to,
                          from_region=from_region, channel="counter", on=_date(date, "date"),
                          courier=COURIER)
    _out(_transfer(eng, tid))


@transfer_app.command("letter")
def letter_cmd(transfer: int, date: Optional[str] = typer.Option(None, "--date"),
               actor: Optional[str] = ACTOR):
    """New place: send the contact letter (联系函)."""
    from shebao.mobility import transfers
    from shebao.sharing.mobility_link import COURIER
    eng, who = engine_and_actor(actor, permission="mobility.transfer.work")
    transfers.send_contact_letter(eng, who, transfer, on=_date(date, "date"), courier=COURIER)
    _out(_transfer(eng, transfer))


@transfer_app.command("prepare-out")
def prepare_out_cmd(transfer: int, months: Optional[int] = typer.Option(None, "--months"),
                    actor: Optional[str] = ACTOR):
    """Old place: build the information sheet and submit the funds for a second check."""
    from shebao.mobility import transfers
    eng, who = engine_and_actor(actor, permission="mobility.transfer.work")
    aid = transfers.request_transfer_out(eng, who, transfer, months=months)
    _out({"approval_id": aid, **_transfer(eng, transfer)})


@transfer_app.command("approve-out")
def approve_out_cmd(transfer: int, date: Optional[str] = typer.Option(None, "--date"),
                    actor: Optional[str] = ACTOR):
    """Old place, second clerk: approve; the funds leave through the clearing account."""
    from shebao.mobility import transfers
    from shebao.sharing.mobility_link import COURIER
    eng, who = engine_and_actor(actor, permission="mobility.transfer.approve")
    entry = transfers.approve_transfer_out(eng, who, transfer, on=_date(date, "date"),
                                           courier=COURIER)
    _out({"ledger_entry": entry, **_transfer(eng, transfer)})


@transfer_app.command("record-in")
def record_in_cmd(transfer: int, date: Optional[str] = typer.Option(None, "--date"),
                  gap_months: Optional[int] = typer.Option(None, "--gap-months",
                                                         help="medical: months uninsured"),
                  actor: Optional[str] = ACTOR):
    """New place: record the history and the funds."""
    from shebao.mobility import transfers
    from shebao.sharing.mobility_link import COURIER
    eng, who = engine_and_actor(actor, permission="mobility.transfer.work")
    entry = transfers.record_in(eng, who, transfer, on=_date(date, "date"), gap_months=gap_months,
                                courier=COURIER)
    _out({"ledger_entry": entry, **_transfer(eng, transfer)})


@transfer_app.command("refuse")
def refuse_cmd(transfer: int, reason: str = typer.Option(..., "--reason"),
               actor: Optional[str] = ACTOR):
    """The side whose step is open refuses, with reasons in writing."""
    from shebao.mobility import transfers
    from shebao.sharing.mobility_link import COURIER
    eng, who = engine_and_actor(actor, permission="mobility.transfer.work")
    transfers.refuse(eng, who, transfer, reason, courier=COURIER)
    _out(_transfer(eng, transfer))


@transfer_app.command("show")
def show_cmd(transfer: int, actor: Optional[str] = ACTOR):
    """One transfer with its steps and due dates (staff of either end)."""
    from shebao.mobility import access
    eng, who = engine_and_actor(actor, permission="mobility.transfer.read")
    _out(access.access_transfer(eng, who, transfer, "cli show"))


@transfer_app.command("queue")
def queue_cmd(limit: int = typer.Option(100, "--limit"), actor: Optional[str] = ACTOR):
    """The open steps my region must act on, soonest due first."""
    from shebao.mobility import queries
    eng, who = engine_and_actor(actor, permission="mobility.transfer.work")
    _out(queries.work_queue(eng, who, limit=limit))


@transfer_app.command("claim-place")
def claim_place_cmd(person: int = typer.Option(..., "--person"),
                    date: Optional[str] = typer.Option(None, "--date"),
                    actor: Optional[str] = ACTOR):
    """Where the person claims the pension (待遇领取地), decided from the record."""
    from shebao.mobility import transfers
    eng, who = engine_and_actor(actor, permission="mobility.transfer.read")
    _out(transfers.claim_place(eng, who, person, _date(date, "date")))


# ------------------------------------------------------------------------- certification
@certification_app.command("run")
def cert_run_cmd(region: str = typer.Option(...), month: str = typer.Option(..., help="YYYY-MM"),
                 actor: Optional[str] = ACTOR):
    """The monthly run over every pensioner of the region."""
    from shebao.mobility import certification
    try:
        m = parse_month(month)
    except ValueError as exc:
        raise InputError(str(exc), field="month") from None
    eng, who = engine_and_actor(actor, permission="mobility.certification.work", region=region)
    _out(certification.run_month(eng, who, region, m).__dict__)


@certification_app.command("certify")
def cert_certify_cmd(person: int = typer.Option(..., "--person"),
                     date: Optional[str] = typer.Option(None, "--date"),
                     method: str = typer.Option("counter", "--method"),
                     actor: Optional[str] = ACTOR):
    """A clerk certifies a pensioner (counter, home visit)."""
    from shebao.mobility import certification
    eng, who = engine_and_actor(actor, permission="mobility.certification.work")
    _out(certification.certify(eng, who, person, _date(date, "date"), method))


@certification_app.command("signals")
def cert_signals_cmd(file: Path, source: str = typer.Option(..., "--source"),
                     actor: Optional[str] = ACTOR):
    """Load a data feed: CSV person_id,kind,seen_on."""
    import numpy as np

    from shebao.db.bulk import day_number
    from shebao.mobility import certification
    eng, who = engine_and_actor(actor, permission="mobility.certification.work")
    ids, kinds, days = [], [], []
    for i, row in enumerate(csv.DictReader(io.StringIO(file.read_text(encoding="utf-8")))):
        try:
            ids.append(int(row["person_id"]))
            kinds.append(row["kind"].strip())
            days.append(day_number(dt.date.fromisoformat(row["seen_on"].strip())))
        except (KeyError, ValueError, AttributeError) as exc:
            raise InputError(f"bad row: {exc}", file=str(file.name), row=i + 2) from None
    n = certification.record_signals(eng, who, np.array(ids, dtype=np.int64), kinds,
                                     np.array(days, dtype=np.int64), source)
    _out({"signals": n})


@certification_app.command("show")
def cert_show_cmd(person: int = typer.Option(..., "--person"), actor: Optional[str] = ACTOR):
    """A pensioner's certification state and history."""
    from shebao.mobility import access
    eng, who = engine_and_actor(actor, permission="mobility.certification.work")
    _out(access.access_certification(eng, who, person, "cli show"))


# ------------------------------------------------------------------ comparison, scenarios
def compare_cmd(regions: str = typer.Option(..., "--regions", help="e.g. 310000,110000"),
                date: str = typer.Option(..., "--date"),
                prefix: str = typer.Option("", "--prefix", help="only parameters under this"),
                diff: bool = typer.Option(False, "--diff", help="only those that differ"),
                as_json: bool = typer.Option(False, "--json")):
    """Compare the parameters of regions on a date, side by side, with references."""
    from shebao.mobility import compare
    regs = [r.strip() for r in regions.split(",") if r.strip()]
    rows = compare.compare(regs, _date(date, "date"), prefix=prefix, only_different=diff)
    if as_json:
        _out(rows)
    else:
        typer.echo(compare.as_text(rows, regs))


def scenario_cmd(region: str = typer.Option(..., "--region"),
                 date: str = typer.Option(..., "--date"),
                 overlay: Path = typer.Option(..., "--overlay", help="YAML: name → region → "
                                                                     "date → value"),
                 chart: Optional[Path] = typer.Option(None, "--chart", help="write an SVG chart"),
                 as_json: bool = typer.Option(False, "--json"), actor: Optional[str] = ACTOR):
    """Apply a parameter overlay to a region's population: contributions, pensions, fund."""
    from shebao.mobility import scenario
    eng, who = engine_and_actor(actor, permission="mobility.scenario", region=region)
    ov = scenario.load_overlay(overlay.read_text(encoding="utf-8"))
    res = scenario.scenario(eng, who, region, _date(date, "date"), ov)
    if chart is not None:
        chart.write_text(scenario.chart_svg(res), encoding="utf-8")
        res["chart"] = str(chart)
    if as_json:
        _out(res)
    else:
        typer.echo(scenario.as_text(res) + (f"\nchart: {chart}" if chart else ""))

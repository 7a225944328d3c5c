"""The one command-line app: the composition root of the CLI. Every command group lives in a
module beside this one and is imported here explicitly.

Exit codes: 0 done; 1 a check found problems (ledger check, reconcile, audit verify);
2 bad input (the message names the field, file or row).
"""
from __future__ import annotations

import sys

import click
import typer
from typer.core import TyperGroup

from shebao.core.errors import AlreadyRunning, ShebaoError


# ---- the groups, each imported when it is run (or its own --help asked): ``shebao --help``
# and a calculator start without importing the database layer (issue #19, ≤ 0.3 s). Add a
# group as a loader + one line of help in LAZY; tests/unit/channels/cli/test_lazy_cli.py checks
# each line against the group's own help and that ``--help`` imports no SQLAlchemy.
def _db():
    from . import db
    return db.app


def _rules():
    from . import rules
    return rules.app


def _calc():
    from . import rules
    return rules.calc


def _audit():
    from . import audit
    return audit.app


def _import():
    from . import registry
    return registry.import_app


def _dedup():
    from . import registry
    return registry.dedup_app


def _quality():
    from . import registry
    return registry.quality_app


def _generate():
    from . import demo
    return demo.generate


def _ledger():
    from . import ledger
    return ledger.app


def _collect():
    from . import collection
    return collection.app


def _payroll():
    from . import benefits
    return benefits.payroll_app


def _pension():
    from . import benefits
    return benefits.pension_app


def _benefit():
    from . import benefit_cases  # benefit casework (#13)
    return benefit_cases.app


def _monitor():
    from . import monitor  # supervision and monitoring (#14)
    return monitor.app


def _supervision():
    from . import supervision  # supervision bureau (#14)
    return supervision.app


def _medical():
    from . import medical  # medical insurance (#16)
    return medical.app


def _residents():
    from . import residents  # resident schemes (#16)
    return residents.app


def _serve():
    from . import serve
    return serve.serve_cmd


def _demo():
    from . import demo
    return demo.demo


def _notices():
    from . import notices  # notice delivery (#17)
    return notices.app


def _sharing():
    from . import sharing  # information sharing (#17)
    return sharing.app


def _org():
    from . import org  # administration (#18)
    return org.app


def _training():
    from . import training  # administration (#18)
    return training.app


def _reports():
    from . import reports  # administration (#18)
    return reports.app


def _transfer():
    from . import mobility  # mobility (#15)
    return mobility.transfer_app


def _certification():
    from . import mobility  # mobility (#15)
    return mobility.certification_app


def _compare():
    from . import mobility  # mobility (#15)
    return mobility.compare_cmd


def _scenario():
    from . import mobility  # mobility (#15)
    return mobility.scenario_cmd


LAZY = {
    "db": (_db, "Database: migrations."),
    "rules": (_rules, "Law as data: dated, regional parameters."),
    "calc": (_calc, "Run a calculator (citizen-id, uscc, retirement-age, contribution, "
                    "pension, …)."),
    "audit": (_audit, "Audit log."),
    "import": (_import, "Bulk import into the registry (CSV in UTF-8/GB18030, or XLSX)."),
    "dedup": (_dedup, "Find, review and merge duplicate persons."),
    "quality": (_quality, "Registry data quality."),
    "generate": (_generate, "Build a realistic synthetic region in the registry (persons, "
                            "employers, spells, enrolments, a share of duplicates) for the demo "
                            "and the benchmarks."),
    "ledger": (_ledger, "Ledger: trial balance, invariants, statements."),
    "collect": (_collect, "Collection bureau: declarations, assessment, bills, banks, "
                          "arrears."),
    "payroll": (_payroll, "Pension payroll: run, approve, release, returns."),
    "pension": (_pension, "Pension determination and indexation."),
    "benefit": (_benefit, "Benefit cases: apply, compute, approve, awards, events, appeals."),
    "monitor": (_monitor, "Monitoring: rules, alerts, fund warning, projection."),
    "supervision": (_supervision, "Supervision: inspections, blacklist, arrears cases."),
    "serve": (_serve, "Serve the API (/api/v1), the back office (/staff) and the portals "
                      "(/me, /employer)."),
    "demo": (_demo, "Create the database, load the law, build a region and run it; then say "
                    "what to do next."),
    "notices": (_notices, "Notices: delivery worker and status."),
    "sharing": (_sharing, "Sharing: partner agencies, notices to subscribers, public keys."),
    "org": (_org, "Organisation, outlets, staffing, outsourcing, service catalogue."),
    "training": (_training, "Training: courses, exams, certificates."),
    "reports": (_reports, "Fund accounts, statements, statistics."),
    # medical and residents (#16)
    "medical": (_medical, "Medical insurance: providers, catalogue, claims, settlement, "
                          "off-site care."),
    "residents": (_residents, "Resident schemes: universal registration, campaign, resident "
                              "pension."),
    # mobility (#15)
    "transfer": (_transfer, "Relation transfers between regions and schemes."),
    "certification": (_certification, "Pensioners' living certification: runs, self and "
                                      "counter certification, data feeds."),
    "compare": (_compare, "Compare the parameters of regions on a date, side by side, with "
                          "references."),
    "scenario": (_scenario, "Apply a parameter overlay to a region's population: "
                            "contributions, pensions, fund."),
}


def materialise(name: str) -> click.Command:
    """The real click command of a LAZY entry (its module imported now)."""
    obj = LAZY[name][0]()
    if isinstance(obj, typer.Typer):
        cmd = typer.main.get_group(obj)
    else:
        one = typer.Typer(add_completion=False)
        one.command(name=name)(obj)
        cmd = typer.main.get_command(one)
    cmd.name = name
    return cmd


class _Placeholder(click.Command):
    """What ``shebao --help`` lists for a group not imported yet."""

    def __init__(self, name: str, help_: str):
        super().__init__(name, help=help_, short_help=help_)


class _Shebao(TyperGroup):
    """Every command's typed error becomes exit 2 with its message, however the app is run
    (the console script or a test's CliRunner). The LAZY groups are listed by name and help,
    and imported only when resolved to run."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        for name, (_, help_) in LAZY.items():
            self.commands.setdefault(name, _Placeholder(name, help_))

    def resolve_command(self, ctx, args):
        if args:
            name = args[0]
            if ctx.token_normalize_func is not None:
                name = ctx.token_normalize_func(name)
            if isinstance(self.commands.get(name), _Placeholder):
                self.commands[name] = materialise(name)
        return super().resolve_command(ctx, args)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ShebaoError as exc:
            typer.echo(f"error: {exc}", err=True)
            # 1: another process is doing it (try again later); 2: the input or the state
            raise typer.Exit(1 if isinstance(exc, AlreadyRunning) else 2) from None


app = typer.Typer(cls=_Shebao, no_args_is_help=True, add_completion=False,
                  help="shebao 社保 — social insurance administration.")


@app.callback()
def _root():
    """shebao 社保 — social insurance administration."""


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else list(argv)
    # the fast path of a calculator: exactly ``calc NAME --json REQUEST`` needs no command tree
    # (building typer's parameters imports pydantic: 0.2 s of a 0.3 s start)
    if len(args) == 4 and args[0] == "calc" and args[2] == "--json" and args[1][:1] != "-":
        from . import rules
        sys.exit(rules.run_calc(args[1], args[3]))
    app(args)


if __name__ == "__main__":
    main()

"""The layering of ``src/shebao``, as assertions (read from the source with ``ast``; nothing runs).

The house, from the ground up (ARCHITECTURE.md draws it):

    core  <  db, rules, formats, security  <  notices  <  cases  <  org < training
          <  registry  <  cards  <  ledger  <  collection  <  benefits  ~  medical  <  residents
          <  supervision, mobility  <  monitoring, reports, sharing  <  channels  <  devtools

Rules checked here:

- **imports**: a package imports only the packages listed for it in ``ALLOWED`` (lower floors);
  no domain package imports ``pytest``; no ``except ModuleNotFoundError`` guard and no
  ``importlib.import_module`` (they hide arrows from this very check).
- **tables**: each table belongs to the package whose ``tables.py`` declares it. Another
  package neither imports that ``tables`` module nor names the table in SQL text; it calls the
  owner's ``queries.py`` (reads) or services (writes). Channels own no table and name none.
  ``db/`` (the metadata and migrations) and ``devtools/`` (demo and bench data generators)
  are exempt.
- **dialect**: only ``db/`` says which database it is talking to (``.dialect``,
  ``is_postgres``/``is_sqlite``) or tunes the planner (``SET LOCAL``, ``set_config``,
  ``INDEXED BY``, ``enable_*``, ``work_mem``, ``jit``).
- **one home**: one ``transaction()`` (in ``db/``), one ``SCHEMES``, one ``check_region``, one
  binary-COPY writer (the ``PGCOPY`` signature only in ``db/bulk.py``).
- **size**: no module over ``MAX_LINES`` lines (migrations excepted).

``ALLOWLIST`` holds the violations main still had when this guard landed. It may only
shrink: a listed violation that no longer occurs fails the test as well, so whoever fixes one
deletes its line.
"""
from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "shebao"
MAX_LINES = 500

# package -> the packages it may import (besides itself). Top-level modules count as channels
# (cli.py, the shim of the entry point).
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "db": {"core"},
    "rules": {"core"},
    "formats": {"core"},
    "security": {"core", "db"},
    # the outbox of notices and the one case model sit just above security: every bureau
    # writes its notices and opens its cases through them
    "notices": {"core", "db", "rules", "security"},
    "cases": {"core", "db", "rules", "security", "notices"},
    "org": {"core", "db", "rules", "security", "cases"},
    "training": {"core", "db", "rules", "security", "org"},
    "registry": {"core", "db", "rules", "security", "notices", "cases"},
    "cards": {"core", "db", "rules", "security", "notices", "cases", "registry"},
    "ledger": {"core", "db", "rules", "security"},
    "collection": {"core", "db", "rules", "formats", "security", "notices", "cases", "registry",
                   "ledger"},
    "benefits": {"core", "db", "rules", "formats", "security", "notices", "cases", "registry",
                 "ledger", "collection"},
}
_BUREAUS = ALLOWED["benefits"] | {"benefits"}
# medical insurance and the resident schemes sit beside benefits; the platforms above them
ALLOWED["medical"] = _BUREAUS
ALLOWED["residents"] = _BUREAUS | {"medical"}
ALLOWED["supervision"] = _BUREAUS | {"medical", "residents", "cards"}
ALLOWED["mobility"] = _BUREAUS | {"medical", "residents", "cards"}
ALLOWED["monitoring"] = _BUREAUS | {"medical", "residents", "supervision", "mobility"}
ALLOWED["reports"] = _BUREAUS | {"medical", "residents", "org"}
ALLOWED["sharing"] = _BUREAUS | {"medical", "residents", "cards", "supervision", "mobility"}
DOMAIN = set(ALLOWED)
ALLOWED["channels"] = DOMAIN
ALLOWED["devtools"] = DOMAIN | {"channels"}
TOP_LEVEL = {"cli": "channels", "__init__": "core"}
# The runtime's one door into the dev tools: the CLI's ``demo`` and ``generate`` commands.
DEVTOOLS_DOOR = {"channels/cli/demo.py"}

TABLE_EXEMPT = {"db", "devtools"}
DIALECT_HOME = {"db"}

PLANNER = re.compile(r"\bSET\s+LOCAL\b|\bset_config\s*\(|\bINDEXED\s+BY\b|session_replication_role")
SETTING = re.compile(r"enable_\w+|work_mem|jit|max_parallel_\w+|random_page_cost")
SQL_VERB = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|FROM|JOIN|INTO)\b", re.I)

# Violations main had when this guard landed (see the module docstring). Only ever delete.
ALLOWLIST: set[str] = set()


def _modules():
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.parts[0] == "db" and "migrations" in rel.parts:
            continue
        yield rel, path


def _package(rel: Path) -> str:
    if len(rel.parts) == 1:
        return TOP_LEVEL.get(rel.stem, "channels")
    return rel.parts[0]


def _shebao_imports(tree: ast.AST, rel: Path):
    """(imported package, imported module path) for every shebao import, relative ones resolved."""
    here = list(rel.with_suffix("").parts)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "shebao" or alias.name.startswith("shebao."):
                    yield alias.name.split(".")[1:]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - node.level]
                mod = base + (node.module.split(".") if node.module else [])
                names = [mod + [a.name] for a in node.names] if not node.module else [mod]
                yield from names
            elif node.module and (node.module == "shebao" or node.module.startswith("shebao.")):
                mod = node.module.split(".")[1:]
                if mod:
                    yield mod
                else:
                    yield from ([a.name] for a in node.names)


@lru_cache(maxsize=None)
def table_owners() -> dict[str, str]:
    """Table name -> owning package, from the ``Table("name", …)`` calls in each tables.py."""
    owners: dict[str, str] = {}
    for path in SRC.glob("*/tables.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Table"
                    and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                owners[node.args[0].value] = path.parent.name
    return owners


def _strings(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
            yield node.value if isinstance(node.value, str) else node.value.decode("latin-1")
        elif isinstance(node, ast.JoinedStr):
            yield "".join(v.value for v in node.values
                          if isinstance(v, ast.Constant) and isinstance(v.value, str))


def violations() -> set[str]:
    found: set[str] = set()
    owners = table_owners()
    table_re = re.compile(r"\b(" + "|".join(sorted(map(re.escape, owners), key=len, reverse=True))
                          + r")\b") if owners else None
    homes: dict[str, list[str]] = {"transaction": [], "SCHEMES": [], "check_region": [],
                                   "PGCOPY": []}
    for rel, path in _modules():
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        pkg = _package(rel)
        where = rel.as_posix()
        allowed = ALLOWED.get(pkg)
        # imports
        for mod in _shebao_imports(tree, rel):
            if not mod:
                continue
            target = TOP_LEVEL.get(mod[0], "channels") if len(mod) == 1 and mod[0] in TOP_LEVEL \
                else mod[0]
            if target == "devtools" and where in DEVTOOLS_DOOR:
                continue
            if target != pkg and allowed is not None and target not in allowed:
                found.add(f"import: {where} -> {target}")
            if (len(mod) >= 2 and mod[1] == "tables" and target != pkg
                    and pkg not in TABLE_EXEMPT):
                found.add(f"foreign tables module: {where} -> {target}.tables")
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) \
                    else [node.module or ""]
                if any(n == "pytest" or n.startswith("pytest.") or n.startswith("_pytest")
                       for n in names):
                    found.add(f"pytest in src: {where}")
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                types = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
                if any(getattr(t, "id", None) in {"ModuleNotFoundError", "ImportError"}
                       for t in types):
                    found.add(f"import guard: {where}")
            if isinstance(node, ast.Attribute) and node.attr == "import_module":
                found.add(f"importlib: {where}")
            if pkg not in DIALECT_HOME:
                if isinstance(node, ast.Attribute) and node.attr == "dialect":
                    found.add(f"dialect branch: {where}")
                if isinstance(node, (ast.Name, ast.Attribute)) and \
                        getattr(node, "id", getattr(node, "attr", None)) in {"is_postgres", "is_sqlite"}:
                    found.add(f"dialect branch: {where}")
            if pkg not in DIALECT_HOME and isinstance(node, ast.Call):
                fname = getattr(node.func, "id", getattr(node.func, "attr", None))
                if fname == "pg_settings" or any(k.arg and SETTING.fullmatch(k.arg)
                                                  for k in node.keywords):
                    found.add(f"planner setting: {where}")
                if fname == "copy" and node.args and isinstance(node.args[0], (ast.Constant, ast.JoinedStr)):
                    found.add(f"COPY outside db/bulk.py: {where}")
            if isinstance(node, ast.FunctionDef) and node.name == "transaction":
                homes["transaction"].append(where)
            if isinstance(node, ast.FunctionDef) and node.name == "check_region":
                homes["check_region"].append(where)
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(getattr(t, "id", None) == "SCHEMES" for t in targets):
                    homes["SCHEMES"].append(where)
        for s in _strings(tree):
            if "PGCOPY" in s:
                homes["PGCOPY"].append(where)
            if pkg not in DIALECT_HOME and (SETTING.fullmatch(s) or PLANNER.search(s)):
                found.add(f"planner setting: {where}")
            if pkg in TABLE_EXEMPT or table_re is None or not SQL_VERB.search(s):
                continue
            for name in set(table_re.findall(s)):
                owner = owners[name]
                if owner != pkg and re.search(
                        rf"\b(FROM|JOIN|INTO|UPDATE|TABLE)\s+{re.escape(name)}\b", s, re.I):
                    found.add(f"foreign table in SQL: {where} -> {owner}.{name}")
        n_lines = source.count("\n") + 1
        if n_lines > MAX_LINES:
            found.add(f"module over {MAX_LINES} lines: {where}")
    for name, places in homes.items():
        places = sorted(set(places))
        if name == "transaction":
            places = [p for p in places if not p.startswith("db/")]
            for p in places:
                found.add(f"transaction() outside db: {p}")
        elif name == "PGCOPY":
            for p in places:
                if p != "db/bulk.py":
                    found.add(f"binary COPY writer outside db/bulk.py: {p}")
        elif len(places) > 1:
            for p in places:
                found.add(f"{name} defined more than once: {p}")
    return found


def test_no_new_layering_violations():
    new = sorted(violations() - ALLOWLIST)
    assert not new, "layering violations (fix them; never allowlist new code):\n  " + "\n  ".join(new)


def test_allowlist_only_shrinks():
    stale = sorted(ALLOWLIST - violations())
    assert not stale, ("these violations are fixed: delete their ALLOWLIST lines in "
                       "tests/test_layers.py:\n  " + "\n  ".join(stale))


def test_the_guard_sees_tables_and_packages():
    """Not vacuous: it knows every package's tables, and the layer order has no cycle."""
    owners = table_owners()
    for pkg in ("registry", "ledger", "collection", "benefits", "security"):
        assert pkg in owners.values(), pkg
    assert owners.get("person") == "registry" and owners.get("ledger_posting") == "ledger"
    # the allowed-import relation is acyclic among domain packages
    for a, deps in ALLOWED.items():
        for b in deps:
            assert a not in ALLOWED.get(b, set()), f"{a} and {b} may import each other"

"""Strict loader for the parameter tree under ``rules/parameters``.

File layout: the path is the dotted name (``contribution/base/floor.yaml`` →
``contribution.base.floor``). A file has only these keys:

    description: what the parameter is
    unit: CNY/month | ratio | months | days | years | table ...
    reference: the legal source (document and article where known)
    type: decimal (default) | integer | table | record
    metadata: free-form notes (confidence marks, source quality)
    values:
      national:                      # or a GB/T 2260 code: inherits national → province → city
        2019-05-01: {value: 0.16, reference: 国办发〔2019〕13号 §1}
        2025-07-01: 0.16             # shorthand: the file's reference applies
      "310000":
        2024-07-01: {value: 7384, until: 2025-06-30, reference: ...}

Dates in a region must ascend; an entry with ``until`` ends there and the next must start
after it. Anything else is refused with the file, line and key: unknown keys, a missing unit
or reference, duplicate keys, unsorted or overlapping dates, a value of the wrong type.
YAML floats are read as Decimal from their text, so 0.16 is exactly 0.16.

Loaded once: ``load_rules()`` keeps the tree for the life of the process and, across
processes, in a cache file keyed by the sha256 of the tree (every file's path and bytes, plus
this loader's own source), so any change to a YAML file or to the loader parses the tree
afresh. The cache lives in ``$SHEBAO_RULES_CACHE`` (a directory; ``off`` turns it off), else
``$XDG_CACHE_HOME/shebao`` or ``~/.cache/shebao``; a file there is read only when it belongs to
this user and no one else may write it; an unwritable directory just means no cache.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import pickle
import stat
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from shebao.core import regions
from shebao.core.errors import RuleError

FILE_KEYS = {"description", "unit", "reference", "type", "metadata", "values"}
REQUIRED = {"description", "unit", "reference", "values"}
ENTRY_KEYS = {"value", "reference", "until", "note"}
TYPES = {"decimal", "integer", "table", "record"}


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that reads floats as Decimal and refuses duplicate keys."""


def _decimal(loader, node):
    return Decimal(loader.construct_scalar(node).replace("_", ""))


def _mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise RuleError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
        seen[key] = key_node.start_mark.line + 1
    mapping = _LinedDict(yaml.SafeLoader.construct_mapping(loader, node, deep=True))
    mapping._lines = seen
    return mapping


class _LinedDict(dict):
    _lines: dict = {}

    def line(self, key) -> int | None:
        return self._lines.get(key)


_StrictLoader.add_constructor("tag:yaml.org,2002:float", _decimal)
_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


@dataclass(frozen=True)
class Entry:
    start: dt.date
    until: dt.date | None
    value: object
    reference: str


@dataclass(frozen=True)
class Parameter:
    name: str
    description: str
    unit: str
    reference: str
    type: str
    values: dict[str, list[Entry]]  # region → entries ascending
    file: str


@dataclass(frozen=True)
class Resolved:
    """A value in force, with where it came from — what a clerk is shown next to a number."""

    name: str
    value: object
    unit: str
    region: str          # the region asked for
    region_from: str     # the region whose value applies (inheritance)
    effective_from: dt.date
    until: dt.date | None
    reference: str

    def as_json(self) -> dict:
        v = self.value
        return {"name": self.name, "value": _jsonable(v), "unit": self.unit, "region": self.region,
                "inherited_from": self.region_from, "effective_from": self.effective_from.isoformat(),
                "until": self.until.isoformat() if self.until else None,
                "reference": self.reference}


def _jsonable(v):
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def _is_number(v) -> bool:
    return isinstance(v, (int, Decimal)) and not isinstance(v, bool)


def _check_type(kind: str, value, where: str) -> None:
    ok = {
        "decimal": _is_number(value),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "table": isinstance(value, dict) and value and all(
            isinstance(k, (int, str)) and (_is_number(x) or isinstance(x, list)) for k, x in value.items()),
        "record": isinstance(value, dict) and all(isinstance(k, str) for k in value),
    }[kind]
    if not ok:
        raise RuleError(f"{where}: value {value!r} is not of type {kind}")


def _parse_file(path: Path, name: str) -> Parameter:
    where = str(path)
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except RuleError as exc:
        raise RuleError(f"{where}: {exc}") from None
    except yaml.YAMLError as exc:
        raise RuleError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise RuleError(f"{where}: must be a mapping with {sorted(REQUIRED)}")
    for key in doc:
        if key not in FILE_KEYS:
            raise RuleError(f"{where}:{doc.line(key)}: unknown key {key!r} "
                            f"(allowed: {', '.join(sorted(FILE_KEYS))})")
    for key in sorted(REQUIRED):
        if key not in doc or doc[key] in (None, ""):
            raise RuleError(f"{where}: missing {key!r}")
    kind = doc.get("type", "decimal")
    if kind not in TYPES:
        raise RuleError(f"{where}:{doc.line('type')}: type {kind!r} is not one of {sorted(TYPES)}")
    if not isinstance(doc["values"], dict) or not doc["values"]:
        raise RuleError(f"{where}: 'values' must map regions to dated values")
    values: dict[str, list[Entry]] = {}
    for rkey, dated in doc["values"].items():
        region = str(rkey)
        rwhere = f"{where}:{doc['values'].line(rkey)}"
        if not regions.is_region_code(region):
            raise RuleError(f"{rwhere}: region {region!r} is not 'national' or a GB/T 2260 code")
        if not isinstance(dated, dict) or not dated:
            raise RuleError(f"{rwhere}: region {region} must map effective dates to values")
        entries: list[Entry] = []
        for start, item in dated.items():
            ewhere = f"{where}:{dated.line(start)}: {region} {start}"
            if not isinstance(start, dt.date):
                raise RuleError(f"{ewhere}: key must be an effective date YYYY-MM-DD")
            if isinstance(item, dict) and "value" in item:
                for k in item:
                    if k not in ENTRY_KEYS:
                        raise RuleError(f"{ewhere}: unknown key {k!r} (allowed: "
                                        f"{', '.join(sorted(ENTRY_KEYS))})")
                value, until = item["value"], item.get("until")
                ref = item.get("reference") or doc["reference"]
                if until is not None and not isinstance(until, dt.date):
                    raise RuleError(f"{ewhere}: 'until' must be a date")
                if until is not None and until < start:
                    raise RuleError(f"{ewhere}: 'until' {until} is before the start")
            elif isinstance(item, dict) and kind in ("decimal", "integer"):
                raise RuleError(f"{ewhere}: entry needs a 'value' key")
            else:
                value, until, ref = item, None, doc["reference"]
            _check_type(kind, value, ewhere)
            if entries:
                prev = entries[-1]
                if start <= prev.start:
                    raise RuleError(f"{ewhere}: dates are not in ascending order "
                                    f"({start} after {prev.start})")
                if prev.until is not None and start <= prev.until:
                    raise RuleError(f"{ewhere}: overlaps the value in force {prev.start}–{prev.until}")
            entries.append(Entry(start, until, value, str(ref)))
        values[region] = entries
    return Parameter(name, str(doc["description"]), str(doc["unit"]), str(doc["reference"]), kind,
                     values, where)


class Rules:
    """The loaded parameter tree; answers "what is in force here on that day"."""

    def __init__(self, params: dict[str, Parameter]):
        self.params = params

    def __contains__(self, name: str) -> bool:
        return name in self.params

    def names(self, prefix: str = "") -> list[str]:
        return sorted(n for n in self.params if n.startswith(prefix))

    def parameter(self, name: str) -> Parameter:
        try:
            return self.params[name]
        except KeyError:
            raise RuleError(f"unknown parameter {name!r}") from None

    def lookup(self, name: str, region: str, on: dt.date) -> Resolved:
        p = self.parameter(name)
        for r in regions.lineage(str(region)):
            entries = p.values.get(r)
            if not entries:
                continue
            for e in reversed(entries):
                if e.start <= on:
                    if e.until is not None and on > e.until:
                        break  # a gap in this region: fall through to the parent
                    return Resolved(name, e.value, p.unit, str(region), r, e.start, e.until,
                                    e.reference)
            # this region defines the parameter but not on that date: inherit from parent
        raise RuleError(f"no value of {name} for region {region} on {on.isoformat()}")

    def value(self, name: str, region: str, on: dt.date):
        return self.lookup(name, region, on).value

    def get(self, name: str, region: str, on: dt.date, default=None):
        try:
            return self.value(name, region, on)
        except RuleError:
            return default

    def has(self, name: str, region: str, on: dt.date) -> bool:
        try:
            self.lookup(name, region, on)
            return True
        except RuleError:
            return False

    def regions_defined(self) -> set[str]:
        return {r for p in self.params.values() for r in p.values}

    def count_values(self) -> int:
        return sum(len(es) for p in self.params.values() for es in p.values.values())


def load_tree(root: Path) -> Rules:
    root = Path(root)
    params: dict[str, Parameter] = {}
    files = sorted(root.rglob("*.yaml"))
    if not files:
        raise RuleError(f"{root}: no parameter files")
    for path in files:
        name = ".".join(path.relative_to(root).with_suffix("").parts)
        params[name] = _parse_file(path, name)
    return Rules(params)


def parameters_root() -> Path:
    return Path(str(resources.files("shebao.rules") / "parameters"))


CACHE_KEEP = 8          # cached trees kept side by side (not law: a cache's size)


def tree_hash(root: Path) -> str:
    """sha256 of the tree's YAML files (relative path and bytes, in path order) and of this
    loader's source: the cache key."""
    root = Path(root)
    h = hashlib.sha256(Path(__file__).read_bytes())
    for path in sorted(root.rglob("*.yaml")):
        h.update(str(path.relative_to(root)).encode() + b"\0")
        data = path.read_bytes()
        h.update(len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


def cache_dir() -> Path | None:
    env = os.environ.get("SHEBAO_RULES_CACHE")
    if env == "off":
        return None
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "shebao"


def _trusted(path: Path) -> bool:
    st = path.stat()
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def load_cached(root: Path) -> Rules:
    """``load_tree(root)``, through the cache file of the tree's hash when there is one."""
    where = cache_dir()
    if where is None:
        return load_tree(root)
    key = tree_hash(root)
    path = where / f"rules-{key}.pickle"
    try:
        if path.is_file() and _trusted(path) and _trusted(where):
            with open(path, "rb") as fh:
                rules = pickle.load(fh)
            if isinstance(rules, Rules):
                return rules
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
        pass                        # unreadable or from another version: parse afresh
    rules = load_tree(root)
    try:
        where.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = where / f".rules-{key}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(rules, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        # a few trees side by side (work trees, branches); the least recently written go
        kept = sorted(where.glob("rules-*.pickle"), key=lambda f: f.stat().st_mtime)
        for old in kept[:-CACHE_KEEP]:
            old.unlink(missing_ok=True)
    except OSError:
        pass                        # no writable cache: the next process parses again
    return rules


@lru_cache(maxsize=1)
def load_rules() -> Rules:
    """The shipped tree, loaded once per process (and parsed once per change of the tree,
    see ``load_cached``)."""
    return load_cached(parameters_root())

"""Rules loaded once: the cache file is keyed by the tree's hash, so a changed YAML file (or
an added one) is parsed afresh, and an untrusted cache file is never read."""
import datetime as dt
import os
from decimal import Decimal

from shebao.rules import loader

TEXT = """\
description: test rate
unit: ratio
reference: a law
values:
  national:
    2019-05-01: {rate}
"""
ON = dt.date(2020, 1, 1)


def _tree(root, rate="0.16"):
    path = root / "tree" / "contribution" / "x.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(TEXT.format(rate=rate), encoding="utf-8")
    return root / "tree"


def _parses(monkeypatch):
    calls = []
    real = loader.load_tree

    def counting(root):
        calls.append(root)
        return real(root)
    monkeypatch.setattr(loader, "load_tree", counting)
    return calls


def test_second_load_comes_from_the_cache_and_a_change_invalidates_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SHEBAO_RULES_CACHE", str(tmp_path / "cache"))
    calls = _parses(monkeypatch)
    tree = _tree(tmp_path)
    assert loader.load_cached(tree).value("contribution.x", "310000", ON) == Decimal("0.16")
    assert len(calls) == 1 and len(list((tmp_path / "cache").glob("rules-*.pickle"))) == 1
    again = loader.load_cached(tree)
    assert len(calls) == 1                                  # read back, not parsed
    assert again.value("contribution.x", "310000", ON) == Decimal("0.16")
    _tree(tmp_path, "0.17")                                 # any change: a new key
    assert loader.load_cached(tree).value("contribution.x", "310000", ON) == Decimal("0.17")
    assert len(calls) == 2
    (tree / "contribution" / "y.yaml").write_text(TEXT.format(rate="0.2"), encoding="utf-8")
    assert "contribution.y" in loader.load_cached(tree)
    assert len(calls) == 3


def test_a_cache_file_others_may_write_is_not_read(tmp_path, monkeypatch):
    monkeypatch.setenv("SHEBAO_RULES_CACHE", str(tmp_path / "cache"))
    tree = _tree(tmp_path)
    loader.load_cached(tree)
    (cached,) = (tmp_path / "cache").glob("rules-*.pickle")
    os.chmod(cached, 0o666)
    calls = _parses(monkeypatch)
    loader.load_cached(tree)
    assert len(calls) == 1


def test_the_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("SHEBAO_RULES_CACHE", "off")
    calls = _parses(monkeypatch)
    tree = _tree(tmp_path)
    loader.load_cached(tree)
    loader.load_cached(tree)
    assert len(calls) == 2


def test_the_shipped_tree_through_the_cache_equals_a_fresh_parse(tmp_path, monkeypatch):
    monkeypatch.setenv("SHEBAO_RULES_CACHE", str(tmp_path / "cache"))
    root = loader.parameters_root()
    loader.load_cached(root)
    cached = loader.load_cached(root)
    fresh = loader.load_tree(root)
    assert cached.params == fresh.params
